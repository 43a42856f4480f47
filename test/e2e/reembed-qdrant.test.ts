/**
 * Re-embedding with vectors in Qdrant (decision 011), against the Qdrant protocol double (no
 * Qdrant server runs in CI): the new model's vectors go to a collection of its own, named as
 * every collection is (`membus_<model>_<dimension>`), the tenant's queries switch to it and its
 * points leave the store path's collection.
 */
import { waitFor } from '@membus/bus/testing';
import { startQdrantDouble } from '@membus/vector-store/testing';
import { expect, it } from 'vitest';
import { startTestStack } from '../helpers/stack.ts';

const TARGET = 'local-hash-v1-256';

it('moves a tenant to a collection of the new model', async () => {
  await using double = await startQdrantDouble();
  await using stack = await startTestStack({
    EMBEDDING_PROVIDER: 'local',
    EMBEDDING_EXTRA_MODELS: TARGET,
    QDRANT_URL: double.url,
    REEMBED_BATCH: '16',
  });
  const client = await stack.client('qdrant-tenant');
  const texts = Array.from(
    { length: 200 },
    (_, index) => `qdrant note ${index}: rollout-${index} on node-${index * 7919}`,
  );
  const stored = await client.storeMany(
    texts.map((text) => ({ text })),
    { wait: 'queryable' },
  );
  const find = async (index: number) => {
    const id = stored[index]?.id as string;
    const [hit] = (
      await client.query(texts[index] as string, {
        topK: 1,
        mode: 'dense',
        filter: { ids: [id] },
      })
    ).hits;
    return hit && { id: hit.memory.id, cosine: Math.round((hit.scores.dense ?? 0) * 1e4) / 1e4 };
  };
  expect(await find(17)).toEqual({ id: stored[17]?.id, cosine: 1 });

  await client.reembed({ model: TARGET });
  await waitFor(
    async () => {
      const status = await client.reembedStatus();
      return status.state === 'idle' && status.activeModel === TARGET;
    },
    { timeoutMs: 120_000, intervalMs: 50 },
  );

  expect(await find(17)).toEqual({ id: stored[17]?.id, cosine: 1 });
  expect((await client.stats()).total).toBe(200);
  // The new model's collection, named as every collection is.
  expect((await fetch(`${double.url}/collections/membus_local_hash_v1_256_256`)).status).toBe(200);
  const [memory] = (await client.list({ limit: 1 })).memories;
  expect(memory?.embeddingModel).toBe(TARGET);
}, 300_000);
