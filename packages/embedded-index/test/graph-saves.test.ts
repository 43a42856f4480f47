// When the background graph saves run: usearch writes the file synchronously on the event loop
// (~60 ms at 100k), so a due save waits for writes to pause, up to SAVE_CAP_FACTOR × the interval.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom, testItem } from '@membus/vector-index/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SAVE_CAP_FACTOR, SAVE_GROWTH } from '../src/graph-maintainer.ts';
import {
  type EmbeddedVectorIndex,
  type EmbeddedVectorIndexOptions,
  openEmbeddedVectorIndex,
} from '../src/index.ts';

const DIMENSION = 8;
const EVERY = 50;

function vectorOf(random: () => number): Float32Array {
  const vector = Float32Array.from({ length: DIMENSION }, () => random() - 0.5);
  const norm = Math.hypot(...vector);
  return vector.map((value) => value / norm);
}

/** Polls `condition` every 10 ms until it holds or `ms` pass. */
async function eventually(condition: () => boolean, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

describe('background graph saves', () => {
  let directory: string;
  let index: EmbeddedVectorIndex | undefined;
  const random = seededRandom(7);
  let next = 0;
  const write = async (count: number) => {
    const items = Array.from({ length: count }, () =>
      testItem(next++, vectorOf(random), { tenant: 't' }),
    );
    await index?.upsert(items);
    await index?.whenIndexed();
  };
  const manifest = () => join(directory, 'graph.json');
  const open = async (options: Partial<EmbeddedVectorIndexOptions>) => {
    index = await openEmbeddedVectorIndex({
      directory,
      dimension: DIMENSION,
      saveEveryChanges: EVERY,
      ...options,
    });
    return index;
  };

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'membus-graph-saves-'));
    next = 0;
  });

  afterEach(async () => {
    await index?.close({ persistGraph: false });
    index = undefined;
    await rm(directory, { recursive: true, force: true });
  });

  it('a due save waits while writes keep coming, and runs at the cap', async () => {
    // Writes never pause for a minute: only the cap may start a save.
    await open({ saveQuietMs: 60_000 });
    await write(2 * EVERY);
    expect(index?.status().saving).toBe(false);
    expect(existsSync(manifest())).toBe(false);
    await write(SAVE_CAP_FACTOR * EVERY);
    expect(await eventually(() => existsSync(manifest()))).toBe(true);
  });

  it('a due save runs once writes pause', async () => {
    await open({ saveQuietMs: 50 });
    await write(EVERY + 1);
    expect(await eventually(() => existsSync(manifest()))).toBe(true);
    expect(await eventually(() => index?.status().saving === false)).toBe(true);
    // The saved graph is the one a restart loads (no rebuild).
    await index?.close();
    index = undefined;
    const events: string[] = [];
    const reopened = await open({
      saveQuietMs: 50,
      onGraphEvent: (event) => events.push(event.type),
    });
    expect(reopened.status()).toMatchObject({ count: EVERY + 1, tail: 0 });
    expect(events).toEqual([]);
  });

  it('saves as the graph grows by a share of its size, not every interval', async () => {
    // Each save rewrites the whole file: one every EVERY changes would be 40 saves for 2,000
    // points, O(n²) bytes in all; with a quarter of the graph's growth between saves, 11.
    await open({ saveQuietMs: 1 });
    const generation = () =>
      existsSync(manifest())
        ? Number(/graph-(\d+)\.usearch/.exec(readFileSync(manifest(), 'utf8'))?.[1])
        : 0;
    const total = 2_000;
    for (let written = 0; written < total; written += EVERY) {
      await write(EVERY);
      // Each due save is done before the next batch, so none is merged into a later one.
      expect(await eventually(() => index?.status().saving === false)).toBe(true);
    }
    // Up to 4 × EVERY points the interval rules, then at most one per 25 % of growth.
    expect(SAVE_GROWTH).toBe(0.25);
    expect(generation()).toBeGreaterThanOrEqual(10);
    expect(generation()).toBeLessThanOrEqual(18);
  });

  it('fewer changes than the interval are not saved until close', async () => {
    await open({ saveQuietMs: 1 });
    await write(EVERY - 1);
    expect(index?.status().saving).toBe(false);
    expect(existsSync(manifest())).toBe(false);
    await index?.close();
    index = undefined;
    expect(existsSync(manifest())).toBe(true);
  });
});
