/**
 * Issue 19, finding 5: a damaged or inconsistent embedded store is detected when it is opened.
 * The graph is rebuilt from SQLite where it can be (with an event saying what was found), the
 * store is refused with one sentence naming the file where it cannot; never a silent empty start
 * or a graph that hnswlib walks into garbage.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@membus/bus/testing';
import type { IndexedMemory } from '@membus/vector-index';
import {
  searchNearest,
  seededUnitVectors,
  testItem,
  testMemoryId,
} from '@membus/vector-index/testing';
import { describe, expect, it } from 'vitest';
import {
  classifyStorageError,
  type EmbeddedVectorIndex,
  openEmbeddedVectorIndex,
  type StorageFailureReport,
  StorageHealth,
} from '../src/index.ts';
import {
  entryLinksOffset,
  garbage,
  graphFile,
  graphLayout,
  overwrite,
} from '../src/testing/index.ts';
import { graphSearchedStores } from './helpers/graph-searched-index.ts';

const TENANT = 'damage';
const DIMENSION = 16;
const COUNT = 1_500;

const vectors = (count: number, seed: number): Float32Array[] =>
  seededUnitVectors(count, DIMENSION, seed);

const item = (n: number, vector: Float32Array): IndexedMemory =>
  testItem(n, vector, { tenant: TENANT });

const data = vectors(COUNT, 41);

describe('a damaged embedded store', () => {
  const stores = graphSearchedStores('membus-store-damage-', DIMENSION);

  /** A store of COUNT memories whose graph is saved (closed cleanly). */
  const buildStore = async () => {
    const index = await stores.filled(data.map((vector, n) => item(n, vector)));
    await index.close();
    stores.forgetEvents();
  };

  /** The nearest memory of a few stored vectors, through the graph. */
  const nearest = async (index: EmbeddedVectorIndex) => {
    const found: string[] = [];
    for (const n of [0, 700, 1_499]) {
      const { hits, plan } = await searchNearest(index, TENANT, data[n]!, 1);
      expect(plan).toBe('ann');
      found.push(...hits.map((hit) => hit.record.id));
    }
    return found;
  };

  it('an intact store loads its graph: no rebuild, no event', async () => {
    await buildStore();
    const index = await stores.open();
    expect(index.status()).toMatchObject({
      count: COUNT,
      tail: 0,
      graphRebuilds: { missing: 0, damaged: 0, mismatch: 0, parameters: 0 },
    });
    expect(stores.events).toEqual([]);
    expect(await nearest(index)).toEqual([testMemoryId(0), testMemoryId(700), testMemoryId(1_499)]);
  });

  it('64 garbage words in the level-0 links of the entry point: rebuilt from SQLite, not walked', async () => {
    await buildStore();
    const file = await graphFile(stores.directory);
    overwrite(file, await entryLinksOffset(file), garbage(5));

    const index = await stores.open();
    expect(index.status().graphRebuilds).toMatchObject({ damaged: 1 });
    expect(stores.events).toEqual([
      {
        type: 'rebuild-started',
        reason: 'damaged',
        problem: expect.stringMatching(/level-0 link/),
        memories: COUNT,
      },
    ]);
    await index.whenIndexed();
    expect(stores.events[1]).toMatchObject({
      type: 'rebuild-finished',
      reason: 'damaged',
      memories: COUNT,
      seconds: expect.any(Number),
    });
    expect(await nearest(index)).toEqual([testMemoryId(0), testMemoryId(700), testMemoryId(1_499)]);
  });

  it('the rebuilt graph is saved: the next start loads it', async () => {
    await buildStore();
    const file = await graphFile(stores.directory);
    overwrite(file, (await graphLayout(file)).graphHeaderAt + 8, garbage(6));
    const first = await stores.open();
    await first.whenIndexed();
    await waitFor(() => !first.status().saving, {
      timeoutMs: 10_000,
      intervalMs: 10,
      what: 'the save after the rebuild',
    });
    await first.close({ persistGraph: false });
    stores.forgetEvents();
    const second = await stores.open();
    expect(stores.events).toEqual([]);
    expect(second.status()).toMatchObject({ count: COUNT, tail: 0 });
  });

  // Offsets: from the graph's header, from the file's start, or from the last node's level-0
  // links (a u32 count, then its link slots).
  it.each([
    ['a count of 2^60 nodes in the header', 'header', 0, [0, 0x10000000], /header counts .* nodes/],
    ['garbage over the header', 'start', 0, garbage(7).slice(0, 24), /header/],
    [
      'garbage in a vector (the checksum)',
      'start',
      8 + 10 * DIMENSION,
      garbage(8).slice(0, DIMENSION / 4),
      /checksum/,
    ],
    ["garbage in the last node's links", 'last links', 0, garbage(9), /upper-level|link|checksum/],
  ] as const)('%s: rebuilt from SQLite', async (_name, from, offset, words, problem) => {
    await buildStore();
    const file = await graphFile(stores.directory);
    const layout = await graphLayout(file);
    const at =
      from === 'header'
        ? layout.graphHeaderAt + offset
        : from === 'last links'
          ? layout.nodeAt(layout.nodes - 1) + 10 + offset
          : offset;
    overwrite(file, at, [...words]);
    const index = await stores.open();
    expect(stores.events[0]).toMatchObject({
      type: 'rebuild-started',
      reason: 'damaged',
      problem: expect.stringMatching(problem),
    });
    await index.whenIndexed();
    expect(await nearest(index)).toEqual([testMemoryId(0), testMemoryId(700), testMemoryId(1_499)]);
  });

  it('a truncated graph file: rebuilt from SQLite', async () => {
    await buildStore();
    const file = await graphFile(stores.directory);
    const bytes = await readFile(file);
    await writeFile(file, bytes.subarray(0, bytes.length - 1000));
    const index = await stores.open();
    expect(stores.events[0]).toMatchObject({ type: 'rebuild-started', reason: 'damaged' });
    await index.whenIndexed();
    expect(index.status()).toMatchObject({ count: COUNT, indexed: COUNT });
  });

  it("another store's graph beside this memories database: rebuilt (mismatch)", async () => {
    await buildStore();
    const other = await mkdtemp(join(tmpdir(), 'membus-store-damage-other-'));
    try {
      const foreign = await openEmbeddedVectorIndex({ directory: other, dimension: DIMENSION });
      await foreign.upsert(vectors(COUNT, 99).map((vector, n) => item(n, vector)));
      await foreign.whenIndexed();
      await foreign.close();
      for (const name of readdirSync(stores.directory))
        if (name.startsWith('graph')) rmSync(join(stores.directory, name));
      for (const name of readdirSync(other))
        if (name.startsWith('graph')) await cp(join(other, name), join(stores.directory, name));
    } finally {
      await rm(other, { recursive: true, force: true });
    }
    const index = await stores.open();
    expect(stores.events[0]).toMatchObject({
      type: 'rebuild-started',
      reason: 'mismatch',
      problem: expect.stringMatching(/another memories database/),
    });
    await index.whenIndexed();
    expect(await nearest(index)).toEqual([testMemoryId(0), testMemoryId(700), testMemoryId(1_499)]);
  });

  it('a graph whose vectors are not those in SQLite (no store id, as saved before): rebuilt', async () => {
    await buildStore();
    const manifestFile = join(stores.directory, 'graph.json');
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as Record<string, unknown>;
    delete manifest.storeId;
    delete manifest.checksum;
    await writeFile(manifestFile, JSON.stringify(manifest));
    // A vector changed in SQLite behind the graph's back (as a restored backup would).
    const index = await stores.open();
    await index.upsert([item(3, data[900]!)]);
    await index.whenIndexed();
    await index.close({ persistGraph: false });
    await writeFile(
      manifestFile,
      JSON.stringify({ ...manifest, watermark: (manifest.watermark as number) + 1 }),
    );
    stores.forgetEvents();
    const reopened = await stores.open();
    expect(stores.events[0]).toMatchObject({ type: 'rebuild-started', reason: 'mismatch' });
    await reopened.whenIndexed();
    const { hits } = await searchNearest(reopened, TENANT, data[900]!, 2);
    expect(hits.map((hit) => hit.record.id).sort()).toEqual([testMemoryId(3), testMemoryId(900)]);
  });

  it('other HNSW parameters: rebuilt (parameters)', async () => {
    await buildStore();
    await stores.open({ hnsw: { m: 8 } });
    expect(stores.events[0]).toMatchObject({ type: 'rebuild-started', reason: 'parameters' });
  });

  it('a graph saved by hnswlib (manifest version 1): rebuilt (parameters), its file removed at the next save', async () => {
    await buildStore();
    // What a store written before 2026-12-06 holds: graph.json version 1 naming graph-N.hnsw.
    for (const name of readdirSync(stores.directory))
      if (name.startsWith('graph')) rmSync(join(stores.directory, name));
    await writeFile(join(stores.directory, 'graph-3.hnsw'), Buffer.alloc(4096));
    await writeFile(
      join(stores.directory, 'graph.json'),
      JSON.stringify({ version: 1, file: 'graph-3.hnsw', dimension: DIMENSION, m: 16 }),
    );
    const index = await stores.open();
    expect(stores.events[0]).toMatchObject({
      type: 'rebuild-started',
      reason: 'parameters',
      problem: expect.stringMatching(/hnswlib/),
      memories: COUNT,
    });
    await index.whenIndexed();
    await index.saveGraph();
    const files = readdirSync(stores.directory).filter((name) => name.startsWith('graph-'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^graph-\d+\.usearch$/);
    expect(await nearest(index)).toEqual([testMemoryId(0), testMemoryId(700), testMemoryId(1_499)]);
  });

  it('memories but no graph saved (a crash before the first save): rebuilt (missing)', async () => {
    const first = await stores.open();
    await first.upsert(data.map((vector, n) => item(n, vector)));
    await first.close({ persistGraph: false });
    stores.forgetEvents();
    await stores.open();
    expect(stores.events[0]).toMatchObject({
      type: 'rebuild-started',
      reason: 'missing',
      memories: COUNT,
    });
  });

  it('memories.sqlite missing beside a graph: refused with one sentence, nothing created', async () => {
    await buildStore();
    for (const suffix of ['', '-wal', '-shm'])
      rmSync(join(stores.directory, `memories.sqlite${suffix}`), { force: true });
    const error = await stores.open().then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toMatchObject({
      code: 'INTERNAL',
      message: expect.stringMatching(
        /holds a graph .* but no memories database \(memories\.sqlite\): restore .* or remove the graph files to start with an empty store/,
      ),
    });
    expect(existsSync(join(stores.directory, 'memories.sqlite'))).toBe(false);
  });

  it('a memories.sqlite that is not a database: refused with one sentence naming the file', async () => {
    await buildStore();
    overwrite(join(stores.directory, 'memories.sqlite'), 0, garbage(10));
    await expect(stores.open()).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringMatching(
        new RegExp(
          `^the memories database ${join(stores.directory, 'memories.sqlite').replaceAll('/', '\\/')} is damaged \\(SQLITE_NOTADB: .*\\): restore it from a backup`,
        ),
      ),
    });
  });

  it('a memories.sqlite with a damaged page: refused with one sentence naming the file', async () => {
    await buildStore();
    const file = join(stores.directory, 'memories.sqlite');
    const size = (await readFile(file)).length;
    // Pages 2 onwards hold the tables; garbage over several of them.
    for (let offset = 4096; offset < size; offset += 4096 * 7) overwrite(file, offset, garbage(11));
    await expect(stores.open()).rejects.toMatchObject({
      code: 'INTERNAL',
      details: { reason: 'corrupt' },
      message: expect.stringMatching(/memories\.sqlite is damaged \(SQLITE_CORRUPT/),
    });
  });
});

describe('storage failures', () => {
  const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });

  it('classifies by the code along the cause chain', () => {
    const wrapped = new Error('writing memories to SQLite failed', { cause: full });
    expect(classifyStorageError(wrapped)).toBe('disk_full');
    expect(classifyStorageError(Object.assign(new Error('x'), { code: 'ENOSPC' }))).toBe(
      'disk_full',
    );
    expect(
      classifyStorageError(Object.assign(new Error('x'), { code: 'SQLITE_CORRUPT_INDEX' })),
    ).toBe('corrupt');
    expect(classifyStorageError(Object.assign(new Error('x'), { code: 'SQLITE_BUSY' }))).toBe(
      'busy',
    );
    expect(classifyStorageError(new Error('no code'))).toBeUndefined();
    expect(
      classifyStorageError(Object.assign(new Error('x'), { code: 'NOT_FOUND' })),
    ).toBeUndefined();
  });

  it('reports the first failure, then one a minute with the count, then the recovery', () => {
    let now = 0;
    const reports: StorageFailureReport[] = [];
    const recovered: unknown[] = [];
    const health = new StorageHealth({
      directory: '/data/vector-store',
      onFailure: (report) => reports.push(report),
      onRecovered: (report) => recovered.push(report),
      now: () => now,
    });
    // A failure every 100 ms for 100 s: JetStream redelivering a batch that cannot be written.
    for (let attempt = 0; attempt < 1_000; attempt++) {
      health.failed(new Error('wrapped', { cause: full }), 'writing stored memories');
      now += 100;
    }
    expect(health.diskFull).toBe(true);
    expect(reports.map(({ failures, first }) => ({ failures, first }))).toEqual([
      { failures: 1, first: true },
      { failures: 600, first: false },
    ]);
    expect(reports[0]).toMatchObject({
      reason: 'disk_full',
      operation: 'writing stored memories',
      cause: 'SQLITE_FULL: database or disk is full',
      action: expect.stringMatching(/free space .* under \/data\/vector-store$/),
    });
    expect(health.failures().get('disk_full')).toBe(1_000);
    health.succeeded();
    expect(health.diskFull).toBe(false);
    expect(recovered).toEqual([{ reason: 'disk_full', failures: 1_000, seconds: 100 }]);
  });
});
