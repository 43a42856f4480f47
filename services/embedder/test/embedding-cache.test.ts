import { jetstream, openKv } from '@membus/bus';
import { natsForTests } from '@membus/bus/testing/vitest';
import { describe, expect, it } from 'vitest';
import { createLocalEmbeddingProvider } from '../src/adapters/local-provider.ts';
import { Embedder } from '../src/domain/embedder.ts';
import { KvEmbeddingCache, MemoryEmbeddingCache } from '../src/domain/embedding-cache.ts';

const bus = natsForTests('cache-test');

describe('MemoryEmbeddingCache', () => {
  it('evicts the least recently used entry beyond its capacity', async () => {
    const cache = new MemoryEmbeddingCache(2);
    const vector = new Float32Array([1]);
    await cache.setMany('m', [
      { hash: 'a', vector },
      { hash: 'b', vector },
    ]);
    await cache.getMany('m', ['a']);
    await cache.setMany('m', [{ hash: 'c', vector }]);
    const found = await cache.getMany('m', ['a', 'b', 'c']);
    expect(found.map((entry) => entry !== undefined)).toEqual([true, false, true]);
  });
});

describe('KvEmbeddingCache (real NATS KV)', () => {
  it('serves a vector written by one embedder replica to another', async () => {
    const kv = await openKv(jetstream(bus.nc), 'cache-test-shared', { ttlMs: 60_000 });
    const writer = new KvEmbeddingCache(kv, new MemoryEmbeddingCache(10));
    const reader = new KvEmbeddingCache(kv, new MemoryEmbeddingCache(10));
    await writer.setMany('model-x', [
      { hash: 'f'.repeat(64), vector: new Float32Array([0.6, 0.8]) },
    ]);
    const [found] = await reader.getMany('model-x', ['f'.repeat(64)]);
    expect(Array.from(found ?? [])).toEqual([
      Float32Array.from([0.6])[0],
      Float32Array.from([0.8])[0],
    ]);
  });

  it('lets the embedder skip the provider for texts it has seen', async () => {
    const kv = await openKv(jetstream(bus.nc), 'cache-test-embedder', { ttlMs: 60_000 });
    let providerTexts = 0;
    const embedder = new Embedder({
      provider: createLocalEmbeddingProvider(),
      cache: new KvEmbeddingCache(kv, new MemoryEmbeddingCache(0)),
      hooks: { onProviderCall: (texts) => (providerTexts += texts) },
    });
    await embedder.embedRequest({
      v: 1,
      texts: ['deploy to vercel', 'roll back fly.io'],
      purpose: 'query',
    });
    await embedder.embedRequest({
      v: 1,
      texts: ['deploy to vercel', 'scale the workers'],
      purpose: 'query',
    });
    expect(providerTexts).toBe(3);
  });
});
