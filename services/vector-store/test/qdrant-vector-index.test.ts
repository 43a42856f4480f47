import { randomUUID } from 'node:crypto';
import { reopenable, unreachableUrl } from '@membus/bus/testing';
import type { StartedTestContainer } from 'testcontainers';
import { afterAll, describe, expect, it } from 'vitest';
import { openQdrantVectorIndex, qdrantCollectionName } from '../src/adapters/qdrant/index.ts';
import { createVectorIndexConformanceSuite } from '../src/testing/index.ts';

/**
 * Where the Qdrant server comes from: QDRANT_URL (+ QDRANT_API_KEY) when set, else a
 * `qdrant/qdrant` container when a Docker engine is reachable, else the suite is skipped.
 */
async function locateQdrant(): Promise<
  { url: string; apiKey?: string; container?: StartedTestContainer } | { skip: string }
> {
  const url = process.env.QDRANT_URL;
  if (url !== undefined) {
    const apiKey = process.env.QDRANT_API_KEY;
    return apiKey === undefined ? { url } : { url, apiKey };
  }
  const { GenericContainer, Wait, getContainerRuntimeClient } = await import('testcontainers');
  try {
    await getContainerRuntimeClient();
  } catch {
    return {
      skip: 'QDRANT_URL is not set and no Docker engine is reachable for a qdrant/qdrant container',
    };
  }
  const container = await new GenericContainer('qdrant/qdrant:v1.17.0')
    .withExposedPorts(6333)
    .withWaitStrategy(Wait.forHttp('/readyz', 6333))
    .start();
  return { url: `http://${container.getHost()}:${container.getMappedPort(6333)}`, container };
}

const qdrant = await locateQdrant();

if ('skip' in qdrant) {
  describe.skip(`VectorIndex conformance: qdrant — skipped: ${qdrant.skip}`, () => {
    it('needs a Qdrant server', () => undefined);
  });
} else {
  afterAll(async () => {
    await qdrant.container?.stop();
  });

  createVectorIndexConformanceSuite({
    name: 'qdrant',
    capabilities: { persistent: true, keyword: true },
    create: async ({ dimension }) => {
      const collection = qdrantCollectionName(`test-${randomUUID()}`, dimension);
      const options = {
        url: qdrant.url,
        ...(qdrant.apiKey !== undefined ? { apiKey: qdrant.apiKey } : {}),
        dimension,
        collection,
      };
      return reopenable(() => openQdrantVectorIndex(options), {
        afterClose: async () => {
          const { QdrantClient } = await import('@qdrant/js-client-rest');
          const client = new QdrantClient({
            url: qdrant.url,
            ...(qdrant.apiKey !== undefined ? { apiKey: qdrant.apiKey } : {}),
            checkCompatibility: false,
          });
          await client.deleteCollection(collection);
        },
      });
    },
  });
}

if (!('skip' in qdrant)) {
  describe('qdrant collection created before keyword search', () => {
    it('is opened with one warning and answers keyword searches dense', async () => {
      const { QdrantClient } = await import('@qdrant/js-client-rest');
      const client = new QdrantClient({
        url: qdrant.url,
        ...(qdrant.apiKey !== undefined ? { apiKey: qdrant.apiKey } : {}),
        checkCompatibility: false,
      });
      const collection = qdrantCollectionName(`legacy-${randomUUID()}`, 2);
      // The layout before the sparse `text` vector: the dense vector alone.
      await client.createCollection(collection, {
        vectors: { size: 2, distance: 'Cosine' },
        hnsw_config: { payload_m: 16, m: 0 },
      });
      const warnings: string[] = [];
      try {
        const index = await openQdrantVectorIndex({
          url: qdrant.url,
          ...(qdrant.apiKey !== undefined ? { apiKey: qdrant.apiKey } : {}),
          dimension: 2,
          collection,
          onWarning: (message) => warnings.push(message),
        });
        const { plan } = await index.search({
          tenant: 't1',
          vector: new Float32Array([1, 0]),
          text: 'anything',
          mode: 'hybrid',
          limit: 5,
          now: Date.now(),
        });
        expect([index.capabilities.keyword, warnings.length, plan]).toEqual([
          undefined,
          1,
          'qdrant',
        ]);
        await index.close();
      } finally {
        await client.deleteCollection(collection);
      }
    });
  });
}

describe('qdrant vector index startup', () => {
  it('fails fast with UNAVAILABLE when Qdrant is unreachable', async () => {
    await expect(
      openQdrantVectorIndex({
        url: await unreachableUrl('http', ''),
        dimension: 8,
        collection: 'unreachable',
        timeoutMs: 1_000,
      }),
    ).rejects.toMatchObject({ code: 'UNAVAILABLE', retryable: true });
  });
});
