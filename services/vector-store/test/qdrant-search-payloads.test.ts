import { randomUUID } from 'node:crypto';
import type { VectorIndex } from '@membus/vector-index';
import { afterAll, expect, it } from 'vitest';
import { openQdrantVectorIndex, qdrantCollectionName } from '../src/adapters/qdrant/index.ts';
import { seededRandom, startQdrantDouble, TEST_NOW, testItem } from '../src/testing/index.ts';

// `payloads: 'fetched'` against the protocol double: the same hits as `inline`, with the
// records of the kept hits only on the wire (the double counts each answer's bytes).

const double = await startQdrantDouble();
afterAll(() => double.close());

const dimension = 16;
const MEMORIES = 400;
const random = seededRandom(25);
const words = ['deploy', 'billing', 'latency', 'rollback', 'queue', 'cache', 'index', 'region'];
const unit = (): Float32Array => {
  const vector = Float32Array.from({ length: dimension }, () => random() - 0.5);
  const norm = Math.hypot(...vector);
  return vector.map((value) => value / norm);
};
const items = Array.from({ length: MEMORIES }, (_, n) =>
  testItem(n + 1, unit(), {
    text: Array.from({ length: 40 }, () => words[Math.floor(random() * words.length)]).join(' '),
    metadata: { n, service: `service-${n % 9}`, note: 'x'.repeat(200) },
  }),
);
const queries = Array.from({ length: 20 }, () => ({ vector: unit(), text: 'rollback latency' }));

async function loaded(
  payloads: 'inline' | 'fetched',
): Promise<{ index: VectorIndex; collection: string }> {
  const collection = qdrantCollectionName(`payloads-${randomUUID()}`, dimension);
  const index = await openQdrantVectorIndex({ url: double.url, dimension, collection, payloads });
  await index.upsert(items);
  return { index, collection };
}

async function run(payloads: 'inline' | 'fetched') {
  const { index, collection } = await loaded(payloads);
  const from = double.requests.length;
  const hits: string[][] = [];
  for (const query of queries)
    hits.push(
      (
        await index.search({ tenant: 'test', ...query, mode: 'hybrid', limit: 10, now: TEST_NOW })
      ).hits.map((hit) => `${hit.record.id}:${hit.score.toFixed(6)}:${hit.record.text.length}`),
    );
  const answers = double.requests
    .slice(from)
    .filter((request) => request.path.startsWith(`/collections/${collection}/points`));
  const bytes = answers.reduce((sum, request) => sum + (request.responseBytes ?? 0), 0);
  return { hits, bytes: bytes / queries.length, requests: answers.length / queries.length };
}

it('answers hybrid searches with the same hits and a fraction of the payload bytes', async () => {
  const inline = await run('inline');
  const fetched = await run('fetched');
  expect(fetched.hits).toEqual(inline.hits);
  expect({
    requests: [inline.requests, fetched.requests],
    fewerBytes: fetched.bytes < inline.bytes / 2,
  }).toEqual({ requests: [3, 4], fewerBytes: true });
});
