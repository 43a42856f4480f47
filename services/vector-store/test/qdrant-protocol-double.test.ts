import { randomUUID } from 'node:crypto';
import { reopenable } from '@membus/bus/testing';
import { afterAll } from 'vitest';
import { openQdrantVectorIndex, qdrantCollectionName } from '../src/adapters/qdrant/index.ts';
import { createVectorIndexConformanceSuite, startQdrantDouble } from '../src/testing/index.ts';

// The adapter's conformance suite against the Qdrant protocol double (no Qdrant server runs in
// CI): what the double cannot tell from a real server is the HNSW graph (its search is exact).
const double = await startQdrantDouble();
afterAll(() => double.close());

for (const payloads of ['inline', 'fetched'] as const) {
  createVectorIndexConformanceSuite({
    name: `qdrant (protocol double, payloads ${payloads})`,
    capabilities: { persistent: true, keyword: true },
    create: async ({ dimension }) => {
      const collection = qdrantCollectionName(`test-${randomUUID()}`, dimension);
      const options = { url: double.url, dimension, collection, retryBaseMs: 1, payloads };
      return reopenable(() => openQdrantVectorIndex(options), {
        afterClose: async () => {
          await fetch(`${double.url}/collections/${collection}`, { method: 'DELETE' });
        },
      });
    },
  });
}
