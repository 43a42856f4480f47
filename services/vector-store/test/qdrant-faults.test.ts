import { randomUUID } from 'node:crypto';
import { deferred } from '@membus/bus/testing';
import type { VectorIndex } from '@membus/vector-index';
import { afterAll, describe, expect, it } from 'vitest';
import {
  openQdrantVectorIndex,
  qdrantCollectionName,
  qdrantPointId,
} from '../src/adapters/qdrant/index.ts';
import { startQdrantDouble, TEST_NOW, testItem, testMemoryId } from '../src/testing/index.ts';

// The faults a real Qdrant showed when vector-stores scale out (issue 25), each against the
// protocol double, which answers as Qdrant does (409, 404) and lets a test act between requests.

const double = await startQdrantDouble();
afterAll(() => double.close());

const dimension = 4;
const vector = (n: number): Float32Array => new Float32Array([1, n % 3, (n * 7) % 5, (n * 3) % 2]);

async function open(collection: string): Promise<VectorIndex> {
  return openQdrantVectorIndex({ url: double.url, dimension, collection, retryBaseMs: 1 });
}

function freshCollection(): string {
  return qdrantCollectionName(`faults-${randomUUID()}`, dimension);
}

describe('qdrant replicas opening a fresh collection at once', () => {
  it('all open it: a Conflict on create means another replica created it', async () => {
    const collection = freshCollection();
    const replicas = 3;
    // Every replica sees the collection missing before any creates it.
    const allChecked = deferred<void>();
    let checks = 0;
    double.beforeAnswer = async (request) => {
      if (request.path !== `/collections/${collection}/exists`) return;
      checks++;
      if (checks === replicas) allChecked.resolve();
      await allChecked.promise;
    };
    try {
      const opened = await Promise.allSettled(
        Array.from({ length: replicas }, () => open(collection)),
      );
      const creates = double.requests.filter(
        (request) => request.method === 'PUT' && request.path === `/collections/${collection}`,
      );
      expect({
        creates: creates.length,
        statuses: opened.map((result) => result.status),
      }).toEqual({ creates: replicas, statuses: ['fulfilled', 'fulfilled', 'fulfilled'] });
    } finally {
      double.beforeAnswer = undefined;
    }
  });

  it('refuses a collection someone else created with another dimension', async () => {
    const collection = freshCollection();
    await fetch(`${double.url}/collections/${collection}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ vectors: { size: dimension + 1, distance: 'Cosine' } }),
    });
    await expect(open(collection)).rejects.toMatchObject({ code: 'DIMENSION_MISMATCH' });
  });

  it('refuses a collection someone else created with another distance', async () => {
    const collection = freshCollection();
    await fetch(`${double.url}/collections/${collection}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ vectors: { size: dimension, distance: 'Dot' } }),
    });
    await expect(open(collection)).rejects.toMatchObject({ code: 'CONFLICT', retryable: false });
  });
});

describe('qdrant newest embedding model', () => {
  it('names the model of its newest memories, caller vectors aside, after a reopen too', async () => {
    const collection = freshCollection();
    const index = await open(collection);
    expect(await index.newestEmbeddingModel?.()).toBeUndefined();
    const withModel = (n: number, embeddingModel: string, minutes: number) => {
      const item = testItem(n, vector(n));
      const at = new Date(TEST_NOW + minutes * 60_000).toISOString();
      return { ...item, record: { ...item.record, embeddingModel, updatedAt: at } };
    };
    await index.upsert([withModel(1, 'old-model', 1), withModel(2, 'local-hash-v1-4', 2)]);
    await index.upsert([withModel(3, 'caller', 3)]);
    expect(await index.newestEmbeddingModel?.()).toBe('local-hash-v1-4');
    await index.close();
    const reopened = await open(collection);
    expect(await reopened.newestEmbeddingModel?.()).toBe('local-hash-v1-4');
  });

  it('warns and names none where the collection cannot order by updatedAt', async () => {
    const collection = freshCollection();
    const put = (path: string, body: unknown) =>
      fetch(`${double.url}/collections/${collection}${path}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    await put('', {
      vectors: { size: dimension, distance: 'Cosine' },
      sparse_vectors: { text: { modifier: 'idf' } },
    });
    await put('/index', {
      field_name: 'updatedAt',
      field_schema: { type: 'integer', lookup: true, range: false },
    });
    const warnings: string[] = [];
    const index = await openQdrantVectorIndex({
      url: double.url,
      dimension,
      collection,
      retryBaseMs: 1,
      onWarning: (message) => warnings.push(message),
    });
    await index.upsert([testItem(1, vector(1))]);
    expect([await index.newestEmbeddingModel?.(), warnings.length]).toEqual([undefined, 1]);
  });
});

describe('qdrant access counts', () => {
  it('a point deleted meanwhile does not fail the batch; the others are counted', async () => {
    const collection = freshCollection();
    const index = await open(collection);
    await index.upsert([testItem(1, vector(1)), testItem(2, vector(2))]);
    const [first, second] = await index.get('test', [testMemoryId(1), testMemoryId(2)]);
    double.beforeAnswer = (request) => {
      // Another replica deletes the first memory before the counts are written.
      if (request.path === `/collections/${collection}/points/batch`)
        double.deletePoint(collection, qdrantPointId('test', testMemoryId(1)));
    };
    try {
      await index.recordAccess(
        'test',
        new Map([
          [testMemoryId(1), { count: 2, at: TEST_NOW + 1_000 }],
          [testMemoryId(2), { count: 3, at: TEST_NOW + 2_000 }],
        ]),
      );
    } finally {
      double.beforeAnswer = undefined;
    }
    const after = await index.get('test', [testMemoryId(1), testMemoryId(2)]);
    expect(after.map((record) => [record.id, record.accessCount, record.lastAccessedAt])).toEqual([
      [second?.id, (second?.accessCount ?? 0) + 3, new Date(TEST_NOW + 2_000).toISOString()],
    ]);
    expect(first).toBeDefined();
  });

  it('sets only the access fields: a change written meanwhile is kept', async () => {
    const collection = freshCollection();
    const index = await open(collection);
    await index.upsert([testItem(1, vector(1))]);
    const id = testMemoryId(1);
    const pointId = qdrantPointId('test', id);
    double.beforeAnswer = (request) => {
      if (request.path !== `/collections/${collection}/points/batch`) return;
      // Another replica changes the memory's text between the read and the write.
      const record = double.points(collection).get(pointId)?.record as Record<string, unknown>;
      double.setPayload(collection, pointId, { record: { ...record, text: 'changed meanwhile' } });
    };
    try {
      await index.recordAccess('test', new Map([[id, { count: 1, at: TEST_NOW + 1_000 }]]));
    } finally {
      double.beforeAnswer = undefined;
    }
    const [after] = await index.get('test', [id]);
    expect([after?.text, after?.accessCount]).toEqual(['changed meanwhile', 1]);
  });
});
