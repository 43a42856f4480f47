/**
 * Issue 19, finding 5: the vector-store process on a damaged or inconsistent data directory.
 * A damaged graph is rebuilt from SQLite and said so; a graph without its memories database
 * and a damaged memories database stop the process with one line (no silent empty start, no
 * stack trace); a full disk shows in one log line, a metric, and clears when space returns.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@membus/bus/testing';
import { openEmbeddedVectorIndex } from '@membus/embedded-index';
import * as damage from '@membus/embedded-index/testing';
import { seededUnitVectors, testItem, testMemoryId } from '@membus/vector-index/testing';
import { describe, expect, it } from 'vitest';
import { metricSum, storeLoad } from '../helpers/faults.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

const TENANT = 'damaged-store';
const DIMENSION = 16;
/** Enough that an unfiltered search goes through the graph (not an exact scan). */
const COUNT = 3_000;

const vectors = (count: number): Float32Array[] => seededUnitVectors(count, DIMENSION, 19);

/** Writes a store of `count` memories (graph saved) where the vector-store will find it. */
async function writeStore(stack: TestStack, data: Float32Array[]): Promise<string> {
  const directory = join(stack.dataDir, 'vector-store', 'index');
  const index = await openEmbeddedVectorIndex({ directory, dimension: DIMENSION });
  const createdAt = '2026-06-01T00:00:00.000Z';
  await index.upsert(
    data.map((vector, n) =>
      testItem(n, vector, {
        tenant: TENANT,
        userId: `user-${n % 10}`,
        metadata: {},
        createdAt,
        updatedAt: createdAt,
      }),
    ),
  );
  await index.whenIndexed();
  await index.close();
  return directory;
}

/** The vector-store's start failure: its exit and the lines it printed. */
async function failedStart(stack: TestStack): Promise<string> {
  const error = await stack.restart('vector-store').then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(Error);
  return (error as Error).message;
}

/**
 * The lines in a start failure's message (startService quotes the last lines): the service's
 * JSON log lines, and anything else (a stack trace) as level `not json`.
 */
function logLines(message: string): { level: string; msg: string }[] {
  return message
    .split('\n')
    .slice(1)
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as { level: string; msg: string };
      } catch {
        return { level: 'not json', msg: line };
      }
    });
}

const vectorStoreEnv = { EMBEDDING_DIMENSION: String(DIMENSION) };

it('64 garbage words in the graph: the vector-store starts, says so, rebuilds from SQLite and answers right', async () => {
  await using stack = await startTestStack(vectorStoreEnv, []);
  const data = vectors(COUNT);
  const directory = await writeStore(stack, data);
  const file = await damage.graphFile(directory);
  // The level-0 links of the entry point, where every search and insert starts.
  damage.overwrite(file, await damage.entryLinksOffset(file), damage.garbage(64));

  const service = await stack.restart('vector-store');
  const warned = (pattern: RegExp) =>
    stack.logs.some((line) => line.includes('"level":"warn"') && pattern.test(line));
  await waitFor(() => warned(/rebuilt from SQLite in [\d.]+ s \(3000 memories\)/), {
    timeoutMs: 60_000,
    intervalMs: 50,
    what: 'the line saying the graph was rebuilt and how long it took',
  });
  expect(warned(/rebuilding the HNSW graph from SQLite \(3000 memories.*level-0 link/)).toBe(true);
  expect(
    await metricSum(service.metricsPort, 'membus_index_graph_rebuilds_total', {
      reason: 'damaged',
    }),
  ).toBe(1);

  const client = await stack.client(TENANT);
  for (const n of [0, 1_234, 2_999]) {
    const reply = await client.query({ vector: [...data[n]!], topK: 1 });
    expect({ plan: reply.plan, ids: reply.hits.map((hit) => hit.memory.id) }).toEqual({
      plan: 'ann',
      ids: [testMemoryId(n)],
    });
  }
}, 120_000);

it('memories.sqlite missing beside the graph: the vector-store refuses to start, in one line', async () => {
  await using stack = await startTestStack(vectorStoreEnv, []);
  const directory = await writeStore(stack, vectors(100));
  for (const suffix of ['', '-wal', '-shm'])
    rmSync(join(directory, `memories.sqlite${suffix}`), { force: true });

  const message = await failedStart(stack);
  expect(message).toMatch(/^vector-store exited with 1 before it was ready/);
  const errors = logLines(message).filter((line) => line.level === 'error');
  expect(errors.map((line) => line.msg)).toEqual([
    expect.stringMatching(
      /holds a graph .* but no memories database \(memories\.sqlite\): restore .* or remove the graph files to start with an empty store/,
    ),
  ]);
  expect(existsSync(join(directory, 'memories.sqlite'))).toBe(false);
}, 60_000);

it('a damaged memories.sqlite: one line naming the file and what to do, exit 1, no stack trace', async () => {
  await using stack = await startTestStack(vectorStoreEnv, []);
  const directory = await writeStore(stack, vectors(100));
  damage.overwrite(join(directory, 'memories.sqlite'), 0, damage.garbage(64));

  expect(await jsonOnlyStartErrors(stack)).toEqual([
    expect.stringMatching(
      /memories\.sqlite is damaged \(SQLITE_NOTADB: .*\): restore it from a backup; to start with an empty store instead, move the directory .* aside/,
    ),
  ]);
}, 60_000);

it('a damaged documents.sqlite (history): one line naming the file, exit 1, no stack trace', async () => {
  // History in SQLite, not in the MongoDB CI provisions (MONGODB_URI).
  await using stack = await startTestStack({ ...vectorStoreEnv, MONGODB_URI: '' }, []);
  await writeStore(stack, vectors(100));
  const file = join(stack.dataDir, 'vector-store', 'documents.sqlite');
  writeFileSync(file, Buffer.alloc(8192, 0x5a));

  expect(await jsonOnlyStartErrors(stack)).toEqual([
    expect.stringContaining(
      `the history database ${file} is damaged (SQLITE_NOTADB: file is not a database): restore it from a backup, or move it aside`,
    ),
  ]);
}, 60_000);

/**
 * The vector-store's failed start: exit 1 before it was ready, every line a JSON log line (a
 * stack trace would not parse); the messages of its error lines.
 */
async function jsonOnlyStartErrors(stack: TestStack): Promise<string[]> {
  const message = await failedStart(stack);
  expect(message).toMatch(/^vector-store exited with 1 before it was ready/);
  const lines = logLines(message);
  expect(lines.filter((line) => line.level === 'not json')).toEqual([]);
  return lines.filter((line) => line.level === 'error').map((line) => line.msg);
}

/** Mounts a tmpfs of `size` at `directory`; undefined when mounting is not permitted here. */
function mountTmpfs(directory: string, size: string): string | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', directory], {
      stdio: 'pipe',
    });
    return undefined;
  } catch (error) {
    return `cannot mount a tmpfs (needs root and mount permission): ${(error as Error).message.split('\n')[0]}`;
  }
}

const mountProbe = (() => {
  if (process.platform !== 'linux') return 'tmpfs mounts need Linux';
  if (process.getuid?.() !== 0) return 'tmpfs mounts need root';
  return undefined;
})();

describe.skipIf(mountProbe !== undefined)(
  `a full disk${mountProbe ? ` (skipped: ${mountProbe})` : ''}`,
  () => {
    it('stores wait, one log line and membus_storage_disk_full say why, and all land once space returns', async () => {
      await using stack = await startTestStack({}, []);
      const storage = join(stack.dataDir, 'vector-store');
      mkdirSync(storage, { recursive: true });
      const mountFailure = mountTmpfs(storage, '1m');
      if (mountFailure !== undefined) {
        // Root in a container without CAP_SYS_ADMIN: the test cannot make a full disk here.
        console.warn(`skipping the full-disk test: ${mountFailure}`);
        return;
      }
      try {
        await stack.restart('embedder');
        const service = await stack.restart('vector-store');
        const client = await stack.client(TENANT);
        const COUNT_FULL = 600;
        const { ids } = await storeLoad(client, { count: COUNT_FULL, batchSize: 50 });

        await waitFor(
          async () => (await metricSum(service.metricsPort, 'membus_storage_disk_full')) === 1,
          { timeoutMs: 60_000, intervalMs: 200, what: 'membus_storage_disk_full 1' },
        );
        // Several failed writes (redeliveries), one line.
        await waitFor(
          async () =>
            (await metricSum(service.metricsPort, 'membus_storage_errors_total', {
              reason: 'disk_full',
            })) >= 3,
          { timeoutMs: 30_000, intervalMs: 200, what: 'three failed writes' },
        );
        const fullLines = () => stack.logs.filter((line) => /storage disk full/.test(line));
        expect(fullLines()).toEqual([
          expect.stringMatching(
            /"level":"error".*storage disk full: writing stored memories failed \(SQLITE_FULL: database or disk is full\); the disk is full: writes wait in JetStream and are retried; free space .* under /,
          ),
        ]);

        execFileSync('mount', ['-o', 'remount,size=256m', storage]);
        await waitFor(async () => (await client.stats()).total === ids.length, {
          timeoutMs: 90_000,
          intervalMs: 500,
          what: `all ${ids.length} memories stored once space returned`,
        });
        expect(await metricSum(service.metricsPort, 'membus_storage_disk_full')).toBe(0);
        expect(
          stack.logs.some((line) => /storage writable again after \d+ failed/.test(line)),
        ).toBe(true);
        expect(fullLines()).toHaveLength(1);
      } finally {
        await stack.services.get('vector-store')?.stop();
        await stack.services.get('embedder')?.stop();
        execFileSync('umount', ['-l', storage]);
      }
    }, 240_000);
  },
);
