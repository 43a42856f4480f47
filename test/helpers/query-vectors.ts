/**
 * The fixture of the query-vector tests (decision 005): a few memories and questions, and the
 * dense hits a query vector decides, so that two stacks (vectors computed in the vector-store
 * or asked of the embedder) can be compared.
 */
import type { MemoryClient, QueryResult } from '@membus/client';
import { metricSum } from './faults.ts';
import type { TestStack } from './stack.ts';

export const MEMORIES = [
  'Deploy of api-gateway failed: ECONNREFUSED 10.0.3.7:5432 while running migrations',
  'The user prefers dark mode and compact tables in the dashboard',
  'Rolled back billing-service to v2.14.1 after a spike of HTTP 502 errors',
  'Postgres connection pool is capped at 20 connections per service',
  'Nightly backup of the orders database finished in 42 minutes',
];
export const QUESTIONS = [
  'why did the api gateway deployment fail',
  'which theme does the user like',
  'billing rollback after 502s',
];

export async function storeAll(client: MemoryClient): Promise<void> {
  await client.storeMany(
    MEMORIES.map((text) => ({ text, importance: 0.5 })),
    { wait: 'queryable' },
  );
}

/**
 * Each question's hits as (text, cosine) pairs, by text: what the query vector decides (the
 * order also depends on recency, milliseconds apart between two stacks).
 */
export async function denseHits(client: MemoryClient) {
  const results: QueryResult[] = [];
  for (const question of QUESTIONS) results.push(await client.query(question, { mode: 'dense' }));
  return results.map((result) =>
    result.hits
      .map((hit) => [hit.memory.text, Number(hit.scores.dense?.toFixed(6))] as const)
      .sort(([left], [right]) => left.localeCompare(right)),
  );
}

/** Query vectors the stack's vector-store took from `source` so far. */
export const queryVectors = (stack: TestStack, source: 'local' | 'embedder') =>
  metricSum(
    stack.services.get('vector-store')?.metricsPort as number,
    'membus_query_embeddings_total',
    { source },
  );
