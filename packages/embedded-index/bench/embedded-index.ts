/**
 * Microbenchmark of the embedded VectorIndex.
 *
 *   node --import tsx packages/embedded-index/bench/embedded-index.ts [--size 100000] [--dimension 384]
 *     [--queries 1000] [--threshold 10000] [--ef-construction 128]
 *
 * Data: `size` vectors in 1,000 gaussian clusters plus noise, L2-normalised; 100 userIds (a
 * userId filter keeps ~1 %), 10 categories. Prints upsert throughput (batches of 256), graph
 * build time, search p50/p99 unfiltered and 1 %-filtered (with recall@10), reopen time and RSS.
 */

import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { IndexedMemory, IndexFilter, VectorIndex } from '@membus/vector-index';
import { seededRandom, testItem, testMemoryId } from '@membus/vector-index/testing/fixtures';
import { openEmbeddedVectorIndex } from '../src/index.ts';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '10000' },
    dimension: { type: 'string', default: '384' },
    queries: { type: 'string', default: '1000' },
    threshold: { type: 'string' },
    'ef-construction': { type: 'string' },
    /** Internal: measure opening an existing directory in a fresh process. */
    reopen: { type: 'string' },
  },
});
const size = Number(values.size);
const dimension = Number(values.dimension);
const queryCount = Number(values.queries);
const threshold = values.threshold === undefined ? undefined : Number(values.threshold);
const TENANT = 'bench';
const NOW = Date.parse('2026-06-01T00:00:00.000Z');

const random = seededRandom(1);
const gaussian = (): number =>
  Math.sqrt(-2 * Math.log(random() || 1e-12)) * Math.cos(2 * Math.PI * random());

const centres = Array.from({ length: 1_000 }, () =>
  Float32Array.from({ length: dimension }, gaussian),
);
function sample(): Float32Array {
  const centre = centres[Math.floor(random() * centres.length)]!;
  const vector = Float32Array.from(centre, (value) => value + 0.8 * gaussian());
  let norm = 0;
  for (const value of vector) norm += value * value;
  const scale = 1 / Math.sqrt(norm);
  for (let index = 0; index < vector.length; index++) vector[index] = vector[index]! * scale;
  return vector;
}

function item(n: number, vector: Float32Array): IndexedMemory {
  const createdAt = new Date(NOW - 10_000_000 + n).toISOString();
  return testItem(n, vector, {
    tenant: TENANT,
    userId: `user-${n % 100}`,
    text: `benchmark memory number ${n} with some text to make the record realistic`,
    metadata: { n, source: 'bench' },
    categories: [`category-${n % 10}`],
    createdAt,
    updatedAt: createdAt,
    embeddingModel: 'bench',
  });
}

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))]!;
}

const format = (ms: number): string => `${ms.toFixed(2)} ms`;
const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const memory = (): string => {
  const usage = process.memoryUsage();
  return `rss ${mib(usage.rss)} (JS heap ${mib(usage.heapUsed)}, array buffers ${mib(usage.arrayBuffers)})`;
};

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let index = 0; index < a.length; index++) sum += a[index]! * b[index]!;
  return sum;
}

async function measureSearch(
  index: VectorIndex,
  label: string,
  queries: readonly Float32Array[],
  filterFor: (query: number) => IndexFilter | undefined,
  truthFor?: (query: Float32Array, filter: IndexFilter | undefined) => string[],
): Promise<void> {
  const times: number[] = [];
  const plans = new Map<string, number>();
  let found = 0;
  let expected = 0;
  const search = (query: Float32Array, filter: IndexFilter | undefined) =>
    index.search({
      tenant: TENANT,
      vector: query,
      limit: 10,
      now: NOW,
      ...(filter ? { filter } : {}),
    });
  for (let warm = 0; warm < 20; warm++) await search(queries[warm]!, undefined);
  for (const [position, query] of queries.entries()) {
    const filter = filterFor(position);
    const start = performance.now();
    const result = await search(query, filter);
    times.push(performance.now() - start);
    plans.set(result.plan, (plans.get(result.plan) ?? 0) + 1);
  }
  // Recall in a second pass, so brute-force garbage does not land in the timed searches.
  if (truthFor !== undefined) {
    for (const [position, query] of queries.slice(0, 100).entries()) {
      const filter = filterFor(position);
      const result = await search(query, filter);
      const truth = truthFor(query, filter);
      const got = new Set(result.hits.map((hit) => hit.record.id));
      found += truth.filter((id) => got.has(id)).length;
      expected += truth.length;
    }
  }
  times.sort((a, b) => a - b);
  const recall = expected > 0 ? ` recall@10 ${(found / expected).toFixed(3)}` : '';
  console.log(
    `${label}: p50 ${format(percentile(times, 0.5))} p99 ${format(percentile(times, 0.99))} max ${format(times.at(-1)!)}${recall} plans ${JSON.stringify(Object.fromEntries(plans))}`,
  );
}

async function main(): Promise<void> {
  const directory = await mkdtemp(join(tmpdir(), 'membus-bench-embedded-'));
  console.log(`embedded index: ${size} vectors, dimension ${dimension}, ${directory}`);
  try {
    const vectors = Array.from({ length: size }, sample);
    const queries = Array.from({ length: queryCount }, sample);
    const options = {
      directory,
      dimension,
      ...(threshold === undefined ? {} : { exactScanThreshold: threshold }),
      ...(values['ef-construction'] === undefined
        ? {}
        : { hnsw: { efConstruction: Number(values['ef-construction']) } }),
    };

    const index = await openEmbeddedVectorIndex(options);
    const batchTimes: number[] = [];
    const ingestStart = performance.now();
    for (let start = 0; start < size; start += 256) {
      const batch: IndexedMemory[] = [];
      for (let n = start; n < Math.min(size, start + 256); n++) batch.push(item(n, vectors[n]!));
      const batchStart = performance.now();
      await index.upsert(batch);
      batchTimes.push(performance.now() - batchStart);
    }
    const ingestMs = performance.now() - ingestStart;
    batchTimes.sort((a, b) => a - b);
    console.log(
      `upsert (batches of 256): ${((size / ingestMs) * 1000).toFixed(0)} memories/s; batch p50 ${format(percentile(batchTimes, 0.5))} p99 ${format(percentile(batchTimes, 0.99))}`,
    );

    const tailQuery = queries.slice(0, Math.min(200, queries.length));
    await measureSearch(index, 'search while everything is in the tail (exact)', tailQuery, () => ({
      userId: 'user-1',
    }));

    const buildStart = performance.now();
    await index.whenIndexed();
    console.log(
      `graph build (background, ${size} points): ${((performance.now() - buildStart) / 1000).toFixed(1)} s`,
    );

    const truth = (query: Float32Array, filter: IndexFilter | undefined): string[] =>
      vectors
        .map((vector, n) => ({ n, score: dot(vector, query) }))
        .filter(({ n }) => filter?.userId === undefined || `user-${n % 100}` === filter.userId)
        .sort((a, b) => b.score - a.score)
        .slice(0, 10)
        .map(({ n }) => testMemoryId(n));
    await measureSearch(index, 'search top-10 unfiltered', queries, () => undefined, truth);
    await measureSearch(
      index,
      'search top-10 filtered to 1 % (userId)',
      queries,
      (position) => ({ userId: `user-${position % 100}` }),
      truth,
    );
    const categoryTruth = (query: Float32Array, filter: IndexFilter | undefined): string[] => {
      const category = filter?.categories?.any?.[0];
      return vectors
        .map((vector, n) => ({ n, score: dot(vector, query) }))
        .filter(({ n }) => `category-${n % 10}` === category)
        .sort((a, b) => b.score - a.score)
        .slice(0, 10)
        .map(({ n }) => testMemoryId(n));
    };
    await measureSearch(
      index,
      'search top-10 filtered to 10 % (category)',
      queries,
      (position) => ({ categories: { any: [`category-${position % 10}`] } }),
      categoryTruth,
    );
    console.log(`memory after build (includes the benchmark's own vectors): ${memory()}`);

    const closeStart = performance.now();
    await index.close();
    console.log(`close (graph save): ${format(performance.now() - closeStart)}`);

    // Reopen in a fresh process, so load time and RSS are those of a restarted service.
    const child = spawnSync(
      process.execPath,
      [
        ...process.execArgv,
        fileURLToPath(import.meta.url),
        '--reopen',
        directory,
        '--dimension',
        String(dimension),
        '--queries',
        String(queryCount),
        ...(threshold === undefined ? [] : ['--threshold', String(threshold)]),
      ],
      { stdio: 'inherit' },
    );
    if (child.status !== 0) throw new Error(`reopen run failed with status ${child.status}`);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

async function reopen(directory: string): Promise<void> {
  const queries = Array.from({ length: queryCount }, sample);
  const start = performance.now();
  const index = await openEmbeddedVectorIndex({
    directory,
    dimension,
    ...(threshold === undefined ? {} : { exactScanThreshold: threshold }),
  });
  const status = index.status();
  console.log(
    `reopen in a fresh process: ${format(performance.now() - start)} (${status.count} memories, tail ${status.tail})`,
  );
  await measureSearch(index, 'search top-10 unfiltered after reopen', queries, () => undefined);
  await measureSearch(index, 'search top-10 filtered to 1 % after reopen', queries, (position) => ({
    userId: `user-${position % 100}`,
  }));
  console.log(`memory after reopen: ${memory()}`);
  await index.close();
}

if (values.reopen === undefined) await main();
else await reopen(values.reopen);
