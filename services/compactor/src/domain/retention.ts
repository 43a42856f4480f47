import type { MemoryRecord, RetentionPolicy } from '@membus/contracts';

const DAY_MS = 86_400_000;

function specificity(policy: RetentionPolicy): number {
  return (['namespace', 'kind', 'scope', 'category', 'tag'] as const).filter(
    (key) => policy[key] !== undefined,
  ).length;
}

function matches(policy: RetentionPolicy, memory: MemoryRecord): boolean {
  return (
    (policy.namespace === undefined || policy.namespace === memory.namespace) &&
    (policy.kind === undefined || policy.kind === memory.kind) &&
    (policy.scope === undefined || policy.scope === memory.scope) &&
    (policy.category === undefined || memory.categories.includes(policy.category)) &&
    (policy.tag === undefined || memory.tags.includes(policy.tag))
  );
}

/** The rule that governs a memory: the most specific match, earlier rules winning ties. */
export function retentionPolicyFor(
  policies: readonly RetentionPolicy[],
  memory: MemoryRecord,
): RetentionPolicy | undefined {
  let best: RetentionPolicy | undefined;
  for (const policy of policies)
    if (matches(policy, memory) && (best === undefined || specificity(policy) > specificity(best)))
      best = policy;
  return best;
}

/**
 * The expiry a retention policy gives a memory (ISO), or undefined when none applies: the
 * memory already has an expiry (explicit ones are never changed), no rule matches, or the
 * rule says keep forever.
 */
export function retentionExpiry(
  policies: readonly RetentionPolicy[],
  memory: MemoryRecord,
): string | undefined {
  if (memory.expiresAt !== undefined) return undefined;
  const policy = retentionPolicyFor(policies, memory);
  if (!policy || policy.days === null) return undefined;
  return new Date(Date.parse(memory.createdAt) + policy.days * DAY_MS).toISOString();
}
