import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { temporaryDirectory } from '@membus/bus/testing';
import type { MemoryRecord } from '@membus/contracts';
import { afterAll, expect, it } from 'vitest';
import { openQdrantVectorIndex, qdrantCollectionName } from '../src/adapters/qdrant/index.ts';
import { openSqliteDocumentStore } from '../src/adapters/sqlite/sqlite-document-store.ts';
import { MemoryService } from '../src/domain/memory-service.ts';
import { startQdrantDouble, TEST_NOW, testItem, testMemoryId } from '../src/testing/index.ts';
import { DIMENSION, embeddedOf, vectorOf } from './service-fixture.ts';

// Ingest over the Qdrant adapter (protocol double): the exact-duplicate checks of a batch cost
// one request, not one per memory (issue 25: 13,000 sequential requests for 10k stores).

const double = await startQdrantDouble();
afterAll(() => double.close());

/** The requests that look memories up by dedup key, each as the number of keys it names. */
function duplicateChecks(collection: string): number[] {
  return double.requests
    .filter((request) => request.path === `/collections/${collection}/points/scroll`)
    .flatMap((request) => {
      const text = JSON.stringify(request.body);
      const match = /"key":"dedupKey","match":\{"(?:value|any)":(\[[^\]]*\]|"[^"]*")/.exec(text);
      if (match === null) return [];
      const named = JSON.parse(match[1] as string) as string | string[];
      return [Array.isArray(named) ? named.length : 1];
    });
}

/** A Qdrant index of `collection` on the double, retrying after 1 ms. */
const openIndex = (collection: string) =>
  openQdrantVectorIndex({ url: double.url, dimension: DIMENSION, collection, retryBaseMs: 1 });

it('checks a batch of stores for exact duplicates in one request', async () => {
  await using directory = await temporaryDirectory('membus-qdrant-ingest-');
  const collection = qdrantCollectionName(`ingest-${randomUUID()}`, DIMENSION);
  const index = await openIndex(collection);
  const documents = openSqliteDocumentStore({ path: join(directory.path, 'documents.sqlite') });
  const service = new MemoryService({
    index,
    documents,
    embed: {
      query: async (text) => vectorOf(text),
      documents: async () => [],
    },
    events: { publish: async () => {} },
  });
  try {
    const store = (text: string) => embeddedOf({ id: randomUUID(), userId: 'u1', text });
    const first = await service.ingest([store('the deploy runs on fridays')]);
    const before = duplicateChecks(collection).length;
    const batch = [
      ...Array.from({ length: 12 }, (_, n) => store(`fact number ${n}`)),
      store('the deploy runs on fridays'),
      store('fact number 3'),
    ];
    // 13 distinct keys: the second `fact number 3` is found in the batch itself.
    const results = await service.ingest(batch);
    expect({
      checks: duplicateChecks(collection).slice(before),
      statuses: results.map((result) => (result.ok ? result.status : result.error.code)),
      into: results[12]?.ok ? results[12].memoryId : undefined,
    }).toEqual({
      checks: [13],
      statuses: [...Array(12).fill('stored'), 'duplicate', 'duplicate'],
      into: first[0]?.ok ? first[0].memoryId : 'none',
    });
  } finally {
    await service.close();
    await index.close();
    await documents.close();
  }
});

it('finds the newest live memory of each dedup key, the tenant only', async () => {
  const collection = qdrantCollectionName(`dedup-${randomUUID()}`, DIMENSION);
  const index = await openIndex(collection);
  const item = (n: number, key: string, overrides: Partial<MemoryRecord> = {}) => ({
    ...testItem(n, vectorOf(`memory ${n}`), overrides),
    dedupKey: key,
  });
  const expired = new Date(TEST_NOW - 1).toISOString();
  await index.upsert([
    item(1, 'a'),
    item(2, 'a'),
    item(3, 'b', { expiresAt: expired }),
    item(4, 'c', { tenant: 'other' }),
    item(5, 'd'),
  ]);
  const found = await index.newestByDedupKey?.('test', ['a', 'b', 'c', 'd', 'e'], TEST_NOW);
  expect([...(found ?? [])].map(([key, record]) => [key, record.id]).sort()).toEqual([
    ['a', testMemoryId(2)],
    ['d', testMemoryId(5)],
  ]);
});
