/**
 * The graph manifest names the slots not yet in the saved graph (its tail) as runs of
 * consecutive slots: at 10M, with most memories waiting for the graph, the slots one by one were
 * ~70 MB of JSON built on the event loop at every save. A manifest of the earlier form still
 * loads; a damaged one is rebuilt, never looped over.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IndexedMemory } from '@membus/vector-index';
import {
  searchNearest,
  seededUnitVectors,
  testItem,
  testMemoryId,
} from '@membus/vector-index/testing';
import { describe, expect, it } from 'vitest';
import { slotRuns } from '../src/hnsw-graph.ts';
import type { EmbeddedVectorIndex } from '../src/index.ts';
import { graphSearchedStores } from './helpers/graph-searched-index.ts';

const TENANT = 'tail';
const DIMENSION = 16;
const COUNT = 600;
const data = seededUnitVectors(COUNT, DIMENSION, 5);
const moved = seededUnitVectors(COUNT, DIMENSION, 6);
const item = (n: number, vector: Float32Array): IndexedMemory =>
  testItem(n, vector, { tenant: TENANT });

describe('slotRuns', () => {
  it('writes consecutive slots as one run, in the order they come', () => {
    expect(slotRuns([])).toEqual([]);
    expect(slotRuns([7])).toEqual([7, 7]);
    expect(slotRuns([3, 4, 5, 9, 10, 2])).toEqual([3, 5, 9, 10, 2, 2]);
    expect(slotRuns(new Set([0, 1, 2, 3]))).toEqual([0, 3]);
  });
});

describe('the saved graph’s tail', () => {
  const stores = graphSearchedStores('membus-graph-tail-', DIMENSION);
  const manifestFile = () => join(stores.directory, 'graph.json');

  /**
   * A store whose saved graph misses some memories: all in the graph, then every 7th memory
   * and the last 50 given new vectors, closed before the indexer takes them in.
   */
  const storeWithTail = async () => {
    const index = await stores.filled(data.map((vector, n) => item(n, vector)));
    const changed = [
      ...Array.from({ length: Math.floor(COUNT / 7) }, (_, k) => 7 * k),
      ...Array.from({ length: 50 }, (_, k) => COUNT - 50 + k),
    ];
    await index.upsert([...new Set(changed)].map((n) => item(n, moved[n]!)));
    const { tail } = index.status();
    await index.close();
    stores.forgetEvents();
    return { tail, changed: new Set(changed) };
  };

  /** Each changed memory is found by its new vector, through the reopened index. */
  const findsNewVectors = async (index: EmbeddedVectorIndex, changed: Set<number>) => {
    for (const n of [0, 7, 70, COUNT - 1, 3, 500]) {
      const vector = changed.has(n) ? moved[n]! : data[n]!;
      const { hits } = await searchNearest(index, TENANT, vector, 1);
      expect(hits[0]?.record.id).toBe(testMemoryId(n));
    }
  };

  it('is saved as runs and read back whole: the same tail, no rebuild', async () => {
    const { tail, changed } = await storeWithTail();
    expect(tail).toBeGreaterThan(50);
    const manifest = JSON.parse(await readFile(manifestFile(), 'utf8')) as Record<string, unknown>;
    expect(manifest.tail).toBeUndefined();
    const runs = manifest.tailRuns as number[];
    // Far fewer numbers than slots: the last 50 are one run.
    expect(runs.length).toBeLessThan(2 * tail);
    let covered = 0;
    for (let at = 0; at < runs.length; at += 2) covered += runs[at + 1]! - runs[at]! + 1;
    expect(covered).toBe(tail);
    const reopened = await stores.open();
    expect(stores.events.filter((event) => event.type === 'rebuild-started')).toEqual([]);
    expect(reopened.status().tail).toBe(tail);
    await findsNewVectors(reopened, changed);
  });

  it('written slot by slot (before 2026-12-07): still loaded as it is', async () => {
    const { tail, changed } = await storeWithTail();
    const manifest = JSON.parse(await readFile(manifestFile(), 'utf8')) as Record<string, unknown>;
    const runs = manifest.tailRuns as number[];
    const slots: number[] = [];
    for (let at = 0; at < runs.length; at += 2)
      for (let slot = runs[at]!; slot <= runs[at + 1]!; slot++) slots.push(slot);
    delete manifest.tailRuns;
    await writeFile(manifestFile(), JSON.stringify({ ...manifest, tail: slots }));
    const reopened = await stores.open();
    expect(stores.events.filter((event) => event.type === 'rebuild-started')).toEqual([]);
    expect(reopened.status().tail).toBe(tail);
    await findsNewVectors(reopened, changed);
  });

  it.each([
    ['a run past the slots there can be', (runs: number[]) => [...runs, 0, 2 ** 31 - 1]],
    [
      'runs that cover more slots than there can be',
      (runs: number[]) => [...runs, ...Array.from({ length: 5_000 }, () => [0, 1_000]).flat()],
    ],
    ['a run backwards', (runs: number[]) => [...runs, 9, 3]],
    ['an odd count', (runs: number[]) => [...runs, 4]],
  ])('damaged (%s): rebuilt from the rows, answers intact', async (_what, damage) => {
    const { changed } = await storeWithTail();
    const manifest = JSON.parse(await readFile(manifestFile(), 'utf8')) as Record<string, unknown>;
    await writeFile(
      manifestFile(),
      JSON.stringify({ ...manifest, tailRuns: damage(manifest.tailRuns as number[]) }),
    );
    const reopened = await stores.open();
    expect(stores.events[0]).toMatchObject({ type: 'rebuild-started', reason: 'damaged' });
    await reopened.whenIndexed();
    await findsNewVectors(reopened, changed);
  });
});
