// The embedded index's own cases beside the shared conformance suite: recall, graph persistence,
// graph search and expiry, large exact scans, ranking inputs. One file on purpose (over 400
// lines): the cases share its vector fixtures and index lifecycle.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reopenable } from '@membus/bus/testing';
import type { IndexedMemory, VectorIndex } from '@membus/vector-index';
import {
  createVectorIndexConformanceSuite,
  searchNearest,
  seededRandom,
  testItem,
  testMemoryId,
  type VectorIndexFixture,
} from '@membus/vector-index/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type EmbeddedVectorIndex,
  type EmbeddedVectorIndexOptions,
  openEmbeddedVectorIndex,
} from '../src/index.ts';

async function temporaryDirectory(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'membus-embedded-index-'));
}

/** An embedded index in a fresh directory, removed on dispose. */
async function embeddedFixture(
  options: Omit<EmbeddedVectorIndexOptions, 'directory'>,
): Promise<VectorIndexFixture> {
  const directory = await temporaryDirectory();
  return reopenable(() => openEmbeddedVectorIndex({ ...options, directory }), {
    afterClose: () => rm(directory, { recursive: true, force: true }),
  });
}

createVectorIndexConformanceSuite({
  name: 'embedded',
  capabilities: { persistent: true, keyword: true },
  create: ({ dimension }) => embeddedFixture({ dimension }),
});

// The same suite with every search forced through the graph (plus the tail and fallback).
createVectorIndexConformanceSuite({
  name: 'embedded, ANN path',
  capabilities: { persistent: true, keyword: true },
  create: ({ dimension }) => embeddedFixture({ dimension, exactScanThreshold: 0, annCostRatio: 0 }),
});

const TENANT = 'bench';
const NOW = Date.parse('2026-06-01T00:00:00.000Z');

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(random() || 1e-12)) * Math.cos(2 * Math.PI * random());
}

function normalise(vector: Float32Array): Float32Array {
  let norm = 0;
  for (const value of vector) norm += value * value;
  const scale = 1 / Math.sqrt(norm);
  for (let index = 0; index < vector.length; index++) vector[index] = vector[index]! * scale;
  return vector;
}

/** Gaussian clusters around random centres, L2-normalised. */
function clusteredVectors(count: number, dimension: number, clusters: number, seed: number) {
  const random = seededRandom(seed);
  const centres = Array.from({ length: clusters }, () =>
    Float32Array.from({ length: dimension }, () => gaussian(random)),
  );
  return Array.from({ length: count }, (_, index) => {
    const centre = centres[index % clusters]!;
    return normalise(Float32Array.from(centre, (value) => value + 0.6 * gaussian(random)));
  });
}

const item = (n: number, vector: Float32Array, userId = `user-${n % 20}`): IndexedMemory =>
  testItem(n, vector, { tenant: TENANT, userId });

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let index = 0; index < a.length; index++) sum += a[index]! * b[index]!;
  return sum;
}

describe('embedded vector index', () => {
  let directory: string;
  const open: EmbeddedVectorIndex[] = [];
  const openIndex = async (
    options: Partial<EmbeddedVectorIndexOptions> & { dimension: number },
  ): Promise<EmbeddedVectorIndex> => {
    const index = await openEmbeddedVectorIndex({ directory, ...options });
    open.push(index);
    return index;
  };

  beforeEach(async () => {
    directory = await temporaryDirectory();
  });

  afterEach(async () => {
    for (const index of open.splice(0)) await index.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('a closed index refuses a search whose vector fails later, leaving no rejection unhandled', async () => {
    const index = await openIndex({ dimension: 4 });
    await index.close();
    let fail: (error: Error) => void = () => undefined;
    const vector = new Promise<Float32Array>((_resolve, reject) => {
      fail = reject;
    });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      await expect(
        index.search({ tenant: TENANT, vector, text: 'x', mode: 'hybrid', limit: 5, now: NOW }),
      ).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      fail(new Error('embedder unavailable'));
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  describe('ANN recall', () => {
    const dimension = 32;
    const vectors = clusteredVectors(3_000, dimension, 30, 7);
    const queries = clusteredVectors(60, dimension, 30, 8);

    const recallAt10 = async (index: EmbeddedVectorIndex, filterUser?: string) => {
      let found = 0;
      let expected = 0;
      const plans = new Set<string>();
      for (const query of queries) {
        const truth = vectors
          .map((vector, n) => ({ n, score: dot(vector, query) }))
          .filter(({ n }) => filterUser === undefined || `user-${n % 20}` === filterUser)
          .sort((a, b) => b.score - a.score)
          .slice(0, 10)
          .map(({ n }) => testMemoryId(n));
        const { hits, plan } = await index.search({
          tenant: TENANT,
          vector: query,
          limit: 10,
          now: NOW,
          ...(filterUser === undefined ? {} : { filter: { userId: filterUser } }),
        });
        plans.add(plan);
        const got = new Set(hits.map((hit) => hit.record.id));
        found += truth.filter((id) => got.has(id)).length;
        expected += truth.length;
      }
      return { recall: found / expected, plans: [...plans] };
    };

    it('searches with exactScanThreshold 0 go through the graph', async () => {
      const index = await openIndex({ dimension, exactScanThreshold: 0, annCostRatio: 0 });
      await index.upsert(vectors.map((vector, n) => item(n, vector)));
      await index.whenIndexed();
      expect((await recallAt10(index)).plans).toEqual(['ann']);
    });

    it('recall@10 is at least 0.9 through the graph', async () => {
      const index = await openIndex({ dimension, exactScanThreshold: 0, annCostRatio: 0 });
      await index.upsert(vectors.map((vector, n) => item(n, vector)));
      await index.whenIndexed();
      expect((await recallAt10(index)).recall).toBeGreaterThanOrEqual(0.9);
    });

    it('recall@10 is at least 0.9 through the graph with a 5 % filter', async () => {
      const index = await openIndex({ dimension, exactScanThreshold: 0, annCostRatio: 0 });
      await index.upsert(vectors.map((vector, n) => item(n, vector)));
      await index.whenIndexed();
      expect((await recallAt10(index, 'user-3')).recall).toBeGreaterThanOrEqual(0.9);
    });

    it('un-indexed memories (the tail) are searchable at once', async () => {
      const index = await openIndex({ dimension, exactScanThreshold: 0, annCostRatio: 0 });
      await index.upsert(vectors.slice(0, 2_000).map((vector, n) => item(n, vector)));
      await index.whenIndexed();
      await index.upsert(vectors.slice(2_000).map((vector, n) => item(n + 2_000, vector)));
      const { hits } = await searchNearest(index, TENANT, vectors[2_500]!, 1);
      expect(hits.map((hit) => hit.record.id)).toEqual([testMemoryId(2_500)]);
    });
  });

  describe('persistence of the graph', () => {
    const dimension = 16;
    const vectors = clusteredVectors(1_500, dimension, 15, 11);

    it('reopening loads the saved graph instead of rebuilding', async () => {
      const first = await openIndex({ dimension });
      await first.upsert(vectors.map((vector, n) => item(n, vector)));
      await first.whenIndexed();
      await first.close();
      const second = await openIndex({ dimension });
      expect(second.status()).toMatchObject({ count: 1_500, tail: 0 });
    });

    it('rows written after the last graph save are found after reopen', async () => {
      const first = await openIndex({ dimension, exactScanThreshold: 0, annCostRatio: 0 });
      await first.upsert(vectors.slice(0, 1_000).map((vector, n) => item(n, vector)));
      await first.whenIndexed();
      await first.saveGraph();
      await first.upsert(vectors.slice(1_000).map((vector, n) => item(n + 1_000, vector)));
      await first.close({ persistGraph: false });

      const second = await openIndex({ dimension, exactScanThreshold: 0, annCostRatio: 0 });
      const ids: string[] = [];
      for (const n of [1_000, 1_250, 1_499]) {
        const { hits } = await searchNearest(second, TENANT, vectors[n]!, 1);
        ids.push(...hits.map((hit) => hit.record.id));
      }
      expect(ids).toEqual([testMemoryId(1_000), testMemoryId(1_250), testMemoryId(1_499)]);
    });

    it('the background indexer catches up after reopen', async () => {
      const first = await openIndex({ dimension });
      await first.upsert(vectors.slice(0, 1_000).map((vector, n) => item(n, vector)));
      await first.whenIndexed();
      await first.saveGraph();
      await first.upsert(vectors.slice(1_000).map((vector, n) => item(n + 1_000, vector)));
      await first.close({ persistGraph: false });

      const second = await openIndex({ dimension });
      await second.whenIndexed();
      expect(second.status()).toMatchObject({ count: 1_500, indexed: 1_500, tail: 0 });
    });

    it('changes and deletes after the last graph save are applied on reopen', async () => {
      const first = await openIndex({ dimension, exactScanThreshold: 0, annCostRatio: 0 });
      await first.upsert(vectors.slice(0, 1_000).map((vector, n) => item(n, vector)));
      await first.whenIndexed();
      await first.saveGraph();
      // Memory 10 takes memory 900's vector; memory 900 is deleted.
      await first.upsert([item(10, vectors[900]!)]);
      await first.delete(TENANT, [testMemoryId(900)]);
      await first.close({ persistGraph: false });

      const second = await openIndex({ dimension, exactScanThreshold: 0, annCostRatio: 0 });
      await second.whenIndexed();
      const { hits } = await searchNearest(second, TENANT, vectors[900]!, 1);
      expect(hits.map((hit) => hit.record.id)).toEqual([testMemoryId(10)]);
    });

    it('a missing graph file is rebuilt from SQLite', async () => {
      const first = await openIndex({ dimension });
      await first.upsert(vectors.map((vector, n) => item(n, vector)));
      await first.close({ persistGraph: false });
      const second = await openIndex({ dimension });
      await second.whenIndexed();
      expect(second.status()).toMatchObject({ count: 1_500, indexed: 1_500, tail: 0 });
    });

    it('refuses to open a store of another dimension', async () => {
      const first = await openIndex({ dimension });
      await first.close();
      await expect(openEmbeddedVectorIndex({ directory, dimension: 8 })).rejects.toMatchObject({
        code: 'DIMENSION_MISMATCH',
      });
    });

    it('an upsert without a vector keeps the stored vector', async () => {
      const index = await openIndex({ dimension });
      await index.upsert([item(1, vectors[1]!), item(2, vectors[2]!)]);
      const { vector: _dropped, ...rest } = item(1, vectors[1]!);
      await index.upsert([{ ...rest, record: { ...rest.record, text: 'changed' } }]);
      const { hits } = await searchNearest(index, TENANT, vectors[1]!, 1);
      expect(hits.map((hit) => [hit.record.text, Number(hit.score.toFixed(4))])).toEqual([
        ['changed', 1],
      ]);
    });

    it('an upsert without a vector of an unknown memory is refused', async () => {
      const index = await openIndex({ dimension });
      const { vector: _dropped, ...rest } = item(1, vectors[1]!);
      await expect(index.upsert([rest])).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });
  });

  describe('graph search and expiry', () => {
    it('passes over the expired nearest neighbours and returns the next ten', async () => {
      const dimension = 32;
      const all = clusteredVectors(1_001, dimension, 10, 21);
      const query = all[1_000]!;
      // The 40 memories nearest to the query are expired; everything is one tenant.
      const order = all
        .slice(0, 1_000)
        .map((vector, n) => ({ n, score: dot(vector, query) }))
        .sort((a, b) => b.score - a.score);
      const expired = new Set(order.slice(0, 40).map((entry) => entry.n));
      const index = await openIndex({ dimension, exactScanThreshold: 0, annCostRatio: 0 });
      await index.upsert(
        all.slice(0, 1_000).map((vector, n) => {
          const memory = item(n, vector);
          return expired.has(n)
            ? {
                ...memory,
                record: { ...memory.record, expiresAt: new Date(NOW - 1).toISOString() },
              }
            : memory;
        }),
      );
      await index.whenIndexed();
      const { hits, plan } = await searchNearest(index, TENANT, query, 10);
      expect(plan).toBe('ann');
      const expected = order.slice(40, 50).map((entry) => testMemoryId(entry.n));
      expect(hits.map((hit) => hit.record.id)).toEqual(expected);
    });
  });

  describe('exact scan of a large candidate set', () => {
    it('returns the brute-force top for limits 1, 10 and 50', async () => {
      const dimension = 96;
      const count = 3_000;
      const all = clusteredVectors(count + 20, dimension, 30, 5);
      const index = await openIndex({ dimension, exactScanThreshold: 1_000_000 });
      await index.upsert(all.slice(0, count).map((vector, n) => item(n, vector, 'user-all')));
      for (const limit of [1, 10, 50]) {
        for (const query of all.slice(count)) {
          const { hits, plan } = await index.search({
            tenant: TENANT,
            vector: query,
            limit,
            now: NOW,
            filter: { userId: 'user-all' },
          });
          expect(plan).toBe('exact');
          const expected = all
            .slice(0, count)
            .map((vector, n) => ({ id: testMemoryId(n), score: dot(vector, query) }))
            .sort((a, b) => b.score - a.score)
            .slice(0, limit);
          expect(hits.map((hit) => hit.record.id)).toEqual(expected.map((hit) => hit.id));
          for (const [rank, hit] of hits.entries())
            expect(hit.score).toBeCloseTo(expected[rank]!.score, 5);
        }
      }
    });
  });

  describe('ranking inputs and access statistics', () => {
    /** Records `count` accesses of memory `n` at `at`, then reads the memory back. */
    const accessAndGet = async (index: VectorIndex, n: number, count: number, at: string) => {
      await index.recordAccess(TENANT, new Map([[testMemoryId(n), { count, at: Date.parse(at) }]]));
      const [record] = await index.get(TENANT, [testMemoryId(n)]);
      return record;
    };

    const dimension = 16;
    const vectors = clusteredVectors(4, dimension, 2, 11);

    it('hits carry updatedAt and importance, equal to their records', async () => {
      const index = await openIndex({ dimension });
      const important = item(1, vectors[1]!);
      await index.upsert([
        { ...important, record: { ...important.record, importance: 0.9 } },
        item(2, vectors[2]!),
      ]);
      const { hits } = await searchNearest(index, TENANT, vectors[1]!, 2);
      expect(hits).toHaveLength(2);
      for (const hit of hits)
        expect(hit.ranking).toEqual({
          updatedAt: Date.parse(hit.record.updatedAt),
          importance: hit.record.importance,
        });
      expect(hits.map((hit) => hit.ranking?.importance).sort()).toEqual([0.5, 0.9]);
    });

    it('a store written before the access columns existed is migrated from the record JSON', async () => {
      const index = await openIndex({ dimension });
      const original = item(1, vectors[1]!);
      await index.upsert([{ ...original, record: { ...original.record, importance: 0.8 } }]);
      await index.close();
      // Make the file look like one written by the previous version: counts only in the JSON.
      const Database = (await import('better-sqlite3')).default;
      const db = new Database(join(directory, 'memories.sqlite'));
      db.prepare(
        "UPDATE memories SET record = json_set(record, '$.accessCount', 3, '$.lastAccessedAt', '2026-05-31T12:34:56.789Z')",
      ).run();
      db.exec('ALTER TABLE memories DROP COLUMN importance');
      db.exec('DROP TABLE memory_access');
      db.close();

      const reopened = await openIndex({ dimension });
      const [record] = await reopened.get(TENANT, [testMemoryId(1)]);
      expect(record).toMatchObject({
        accessCount: 3,
        lastAccessedAt: '2026-05-31T12:34:56.789Z',
        importance: 0.8,
      });
      const { hits } = await searchNearest(reopened, TENANT, vectors[1]!, 1);
      expect(hits[0]?.ranking?.importance).toBe(0.8);
      const after = await accessAndGet(reopened, 1, 2, '2026-05-31T00:00:00.000Z');
      expect(after).toMatchObject({ accessCount: 5, lastAccessedAt: '2026-05-31T12:34:56.789Z' });
    });

    it('a store that kept access statistics in columns of its rows is migrated from them', async () => {
      const index = await openIndex({ dimension });
      await index.upsert([item(1, vectors[1]!), item(2, vectors[2]!)]);
      await index.close();
      // The previous version: counts in columns of `memories`, stale ones in the JSON.
      const Database = (await import('better-sqlite3')).default;
      const db = new Database(join(directory, 'memories.sqlite'));
      db.exec('DROP TABLE memory_access');
      db.exec('ALTER TABLE memories ADD COLUMN access_count INTEGER NOT NULL DEFAULT 0');
      db.exec('ALTER TABLE memories ADD COLUMN last_accessed_at INTEGER');
      db.prepare(
        "UPDATE memories SET access_count = 7, last_accessed_at = ?, record = json_set(record, '$.accessCount', 2) WHERE id = ?",
      ).run(Date.parse('2026-06-01T08:00:00.000Z'), testMemoryId(1));
      db.close();

      const reopened = await openIndex({ dimension });
      const records = await reopened.get(TENANT, [testMemoryId(1), testMemoryId(2)]);
      expect(
        records.map((record) => [record.id, record.accessCount, record.lastAccessedAt]),
      ).toEqual([
        [testMemoryId(1), 7, '2026-06-01T08:00:00.000Z'],
        [testMemoryId(2), 0, undefined],
      ]);
      const second = await accessAndGet(reopened, 2, 1, '2026-06-02T00:00:00.000Z');
      expect(second).toMatchObject({ accessCount: 1, lastAccessedAt: '2026-06-02T00:00:00.000Z' });
    });

    it('a memory in a slot freed by a delete starts with no accesses', async () => {
      const index = await openIndex({ dimension });
      await index.upsert([item(1, vectors[1]!)]);
      await index.recordAccess(
        TENANT,
        new Map([[testMemoryId(1), { count: 4, at: Date.parse('2026-06-01T00:00:00.000Z') }]]),
      );
      await index.delete(TENANT, [testMemoryId(1)]);
      await index.upsert([item(2, vectors[2]!)]);
      const [fresh] = await index.get(TENANT, [testMemoryId(2)]);
      expect([fresh?.accessCount, fresh?.lastAccessedAt]).toEqual([0, undefined]);
      await index.close();
      const reopened = await openIndex({ dimension });
      const [again] = await reopened.get(TENANT, [testMemoryId(2)]);
      expect([again?.accessCount, again?.lastAccessedAt]).toEqual([0, undefined]);
    });

    it('access handed to the background worker is durable once close resolves, awaited or not', async () => {
      const index = await openIndex({ dimension });
      const ids = Array.from({ length: 500 }, (_, n) => testMemoryId(n));
      await index.upsert(ids.map((_, n) => item(n, vectors[n % vectors.length]!)));
      const at = Date.parse('2026-05-31T00:00:00.000Z');
      // Enough work that the worker is still writing when close is called; none awaited.
      const pending = Array.from({ length: 20 }, (_, round) =>
        index.recordAccess(TENANT, new Map(ids.map((id) => [id, { count: 1, at: at + round }]))),
      );
      let written = 0;
      for (const write of pending)
        void write.then(() => {
          written += 1;
        });
      await index.close();
      expect(written).toBe(pending.length);
      const reopened = await openIndex({ dimension });
      const records = await reopened.get(TENANT, ids);
      expect(new Set(records.map((record) => record.accessCount))).toEqual(new Set([20]));
      expect(new Set(records.map((record) => record.lastAccessedAt))).toEqual(
        new Set([new Date(at + 19).toISOString()]),
      );
    });

    it('without the background worker, access is written on the calling thread', async () => {
      const index = await openIndex({ dimension, checkpointIntervalMs: 0 });
      await index.upsert([item(1, vectors[1]!)]);
      const at = Date.parse('2026-05-31T00:00:00.000Z');
      await index.recordAccess(TENANT, new Map([[testMemoryId(1), { count: 2, at }]]));
      await index.recordAccess(TENANT, new Map([[testMemoryId(1), { count: 1, at: at - 5 }]]));
      const [record] = await index.get(TENANT, [testMemoryId(1)]);
      expect(record).toMatchObject({ accessCount: 3, lastAccessedAt: new Date(at).toISOString() });
    });

    it('without the background worker, a large flush yields to the event loop between short transactions', async () => {
      const index = await openIndex({ dimension, checkpointIntervalMs: 0 });
      const ids = Array.from({ length: 100 }, (_, n) => testMemoryId(n));
      await index.upsert(ids.map((_, n) => item(n, vectors[n % vectors.length]!)));
      const Database = (await import('better-sqlite3')).default;
      const reader = new Database(join(directory, 'memories.sqlite'), { readonly: true });
      const accessed = reader.prepare<[], number>('SELECT count(*) FROM memory_access').pluck();
      const at = Date.parse('2026-05-31T00:00:00.000Z');
      const flushing = index.recordAccess(TENANT, new Map(ids.map((id) => [id, { count: 1, at }])));
      // A macrotask queued now runs while the flush is between two transactions.
      const midway = await new Promise<number>((resolve) =>
        setImmediate(() => resolve(accessed.get()!)),
      );
      await flushing;
      expect({ midway, after: accessed.get() }).toEqual({ midway: 64, after: 100 });
      reader.close();
    });

    it('names the embedding model of its newest memories, caller vectors aside', async () => {
      const index = await openIndex({ dimension });
      expect(await index.newestEmbeddingModel()).toBeUndefined();
      const withModel = (n: number, embeddingModel: string) => {
        const indexed = item(n, vectors[n]!);
        return { ...indexed, record: { ...indexed.record, embeddingModel } };
      };
      await index.upsert([withModel(1, 'old-model'), withModel(2, 'local-hash-v1-8')]);
      await index.upsert([withModel(3, 'caller')]);
      expect(await index.newestEmbeddingModel()).toBe('local-hash-v1-8');
      await index.close();
      const reopened = await openIndex({ dimension });
      expect(await reopened.newestEmbeddingModel()).toBe('local-hash-v1-8');
    });

    it('a re-upsert keeps the access statistics its record carries', async () => {
      const index = await openIndex({ dimension });
      await index.upsert([item(1, vectors[1]!)]);
      const at = Date.parse('2026-05-31T00:00:00.000Z');
      await index.recordAccess(TENANT, new Map([[testMemoryId(1), { count: 4, at }]]));
      const [read] = await index.get(TENANT, [testMemoryId(1)]);
      await index.upsert([{ record: { ...read!, text: 'changed' }, dedupKey: 'dedup-1' }]);
      const [after] = await index.get(TENANT, [testMemoryId(1)]);
      expect(after).toMatchObject({
        text: 'changed',
        accessCount: 4,
        lastAccessedAt: new Date(at).toISOString(),
      });
    });
  });
});
