/**
 * Where query vectors come from. On the embedded default the embedder runs the local model,
 * and the vector-store, once told so, computes query vectors itself with the same code: no
 * embedding round trip per query, and reads go on while the embedder is down. With
 * `QUERY_EMBEDDING=embedder` every query vector is asked of the embedder. Both give the same
 * vectors, so the same hits with the same cosines.
 */
import { expect, it } from 'vitest';
import { denseHits, QUESTIONS, queryVectors, storeAll } from '../helpers/query-vectors.ts';
import { startTestStack } from '../helpers/stack.ts';

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
