/**
 * Where query vectors come from. On the embedded default the embedder runs the local model,
 * and the vector-store, once told so, computes query vectors itself with the same code: no
 * embedding round trip per query, and reads go on while the embedder is down. With
 * `QUERY_EMBEDDING=embedder` every query vector is asked of the embedder. Both give the same
 * vectors, so the same hits with the same cosines.
 */
import type { MemoryClient, QueryResult } from '@membus/client';
import { expect, it } from 'vitest';
import { metricSum } from '../helpers/faults.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

const MEMORIES = [
  'Deploy of api-gateway failed: ECONNREFUSED 10.0.3.7:5432 while running migrations',
  'The user prefers dark mode and compact tables in the dashboard',
  'Rolled back billing-service to v2.14.1 after a spike of HTTP 502 errors',
  'Postgres connection pool is capped at 20 connections per service',
  'Nightly backup of the orders database finished in 42 minutes',
];
const QUESTIONS = [
  'why did the api gateway deployment fail',
  'which theme does the user like',
  'billing rollback after 502s',
];

async function storeAll(client: MemoryClient): Promise<void> {
  await client.storeMany(
    MEMORIES.map((text) => ({ text, importance: 0.5 })),
    { wait: 'queryable' },
  );
}

/**
 * Each question's hits as (text, cosine) pairs, by text: what the query vector decides (the
 * order also depends on recency, milliseconds apart between two stacks).
 */
async function denseHits(client: MemoryClient) {
  const results: QueryResult[] = [];
  for (const question of QUESTIONS) results.push(await client.query(question, { mode: 'dense' }));
  return results.map((result) =>
    result.hits
      .map((hit) => [hit.memory.text, Number(hit.scores.dense?.toFixed(6))] as const)
      .sort(([left], [right]) => left.localeCompare(right)),
  );
}

const queryVectors = (stack: TestStack, source: 'local' | 'embedder') =>
  metricSum(
    stack.services.get('vector-store')?.metricsPort as number,
    'membus_query_embeddings_total',
    { source },
  );

it('computes query vectors in the vector-store on the local model, and answers with the embedder down', async () => {
  let fromEmbedder: Awaited<ReturnType<typeof denseHits>>;
  {
    await using stack = await startTestStack({ QUERY_EMBEDDING: 'embedder' });
    const client = await stack.client('query-vectors');
    await storeAll(client);
    fromEmbedder = await denseHits(client);
    expect(await queryVectors(stack, 'embedder')).toBe(QUESTIONS.length);
    expect(await queryVectors(stack, 'local')).toBe(0);
  }
  expect(fromEmbedder.every((hits) => hits.length > 0)).toBe(true);

  await using stack = await startTestStack();
  const client = await stack.client('query-vectors');
  // The embedded memories name the embedder's model: the vector-store learns it from them.
  await storeAll(client);
  expect(await denseHits(client)).toEqual(fromEmbedder);
  expect(await queryVectors(stack, 'local')).toBe(QUESTIONS.length);
  expect(await queryVectors(stack, 'embedder')).toBe(0);

  await stack.services.get('embedder')?.stop();
  expect(await denseHits(client)).toEqual(fromEmbedder);
  expect(await queryVectors(stack, 'local')).toBe(2 * QUESTIONS.length);
  expect(stack.logs.some((line) => line.includes('query vectors computed in process'))).toBe(true);

  // Restarted while the embedder is still down, the vector-store takes the model from its own
  // memories: reads go on.
  await stack.restart('vector-store');
  expect(await denseHits(client)).toEqual(fromEmbedder);
  expect(await queryVectors(stack, 'local')).toBe(QUESTIONS.length);
}, 120_000);

it('asks the embedder for every query vector with QUERY_EMBEDDING=embedder: no answer without it', async () => {
  await using stack = await startTestStack({ QUERY_EMBEDDING: 'embedder' });
  const client = await stack.client('query-vectors');
  await storeAll(client);
  await stack.services.get('embedder')?.stop();
  await expect(client.query(QUESTIONS[0] as string, { mode: 'dense' })).rejects.toMatchObject({
    code: 'UNAVAILABLE',
  });
  expect(await queryVectors(stack, 'local')).toBe(0);
}, 120_000);
