// Once no memory was written for idleAfterMs, the background indexer adds larger batches: the
// graph it builds must be the same kind of graph, every memory in it and found by its own vector.
// Every one is searched: idle adds run two usearch threads, whose adds stranded about one point in
// 1,300 here before the addon's fix (unum-cloud/USearch#735), which this failed on ~9 builds in 10.
import { seededRandom, testItem, testMemoryId } from '@membus/vector-index/testing';
import { describe, expect, it } from 'vitest';
import { type EmbeddedVectorIndex, openEmbeddedVectorIndex } from '../src/index.ts';
import { directoryPerTest } from './helpers/directory-per-test.ts';

const DIMENSION = 16;
const COUNT = 3_000;

describe('idle indexing', () => {
  let index: EmbeddedVectorIndex | undefined;
  const directory = directoryPerTest('membus-idle-indexing-', async () => {
    await index?.close({ persistGraph: false });
    index = undefined;
  });

  // 5: the first points are added in small batches (the writes are recent), the rest in large
  // ones once idle.
  for (const idleAfterMs of [0, 5, Number.POSITIVE_INFINITY]) {
    it(`builds a graph that finds every memory by its own vector (idle after ${idleAfterMs} ms)`, async () => {
      index = await openEmbeddedVectorIndex({
        directory: directory.path,
        dimension: DIMENSION,
        // Every unfiltered search goes through the graph.
        exactScanThreshold: 0,
        annCostRatio: 0,
        idleAfterMs,
        idleIndexSliceMs: 4,
      });
      const random = seededRandom(3);
      const vectors = Array.from({ length: COUNT }, () => {
        const vector = Float32Array.from({ length: DIMENSION }, () => random() - 0.5);
        const norm = Math.hypot(...vector);
        return vector.map((value) => value / norm);
      });
      for (let start = 0; start < COUNT; start += 500)
        await index.upsert(
          vectors
            .slice(start, start + 500)
            .map((vector, at) => testItem(start + at, vector, { tenant: 't' })),
        );
      await index.whenIndexed();
      expect(index.status().lastError).toBeUndefined();
      expect(index.status()).toMatchObject({ count: COUNT, indexed: COUNT, tail: 0 });
      for (let n = 0; n < COUNT; n += 1) {
        const result = await index.search({ tenant: 't', vector: vectors[n]!, limit: 1, now: 0 });
        expect(result.plan).toBe('ann');
        expect(result.hits[0]?.record.id).toBe(testMemoryId(n));
      }
    });
  }
});
