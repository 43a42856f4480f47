import { seededRandom } from '@membus/vector-index/testing/fixtures';

/** Deterministic synthetic agent memories (seeded), so runs are comparable. */
export const rng: (seed: number) => () => number = seededRandom;

const services = [
  'billing',
  'checkout',
  'payments',
  'search',
  'auth',
  'inventory',
  'notifications',
  'gateway',
  'reports',
  'ledger',
];
const platforms = [
  'vercel',
  'netlify',
  'fly.io',
  'render',
  'aws ecs',
  'kubernetes',
  'cloud run',
  'heroku',
];
const verbs = [
  'deployed',
  'rolled back',
  'scaled',
  'migrated',
  'restarted',
  'patched',
  'investigated',
  'configured',
];
const issues = [
  'connection pool exhausted',
  'memory leak in the worker',
  'TLS certificate expired',
  'DNS resolution failures',
  'slow queries on the orders table',
  'rate limited by the upstream API',
  "missing dependency 'react-dom'",
  'disk full on the build runner',
  'cold starts above two seconds',
  'queue consumer lag growing',
];
const environments = ['production', 'staging', 'preview', 'development'];

export interface SyntheticMemory {
  text: string;
  userId: string;
  namespace: string;
  category: string;
}

export function syntheticMemory(
  random: () => number,
  index: number,
  users: number,
): SyntheticMemory {
  const pick = <T>(values: readonly T[]) => values[Math.floor(random() * values.length)] as T;
  const service = pick(services);
  const text = `${pick(verbs)} ${service} on ${pick(platforms)} ${pick(environments)}: ${pick(issues)}; run ${index} took ${Math.round(random() * 900) / 10} s with ${1 + Math.floor(random() * 9)} steps`;
  return {
    text,
    userId: `user-${index % users}`,
    namespace: service,
    category: pick(['deployments', 'incidents', 'troubleshooting']),
  };
}

export function syntheticQuery(random: () => number): string {
  const pick = <T>(values: readonly T[]) => values[Math.floor(random() * values.length)] as T;
  return `${pick(services)} ${pick(platforms)} ${pick(issues)}`;
}
