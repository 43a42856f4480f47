/**
 * Microbenchmark of the embedded VectorIndex.
 *
 *   node --expose-gc --import tsx packages/embedded-index/bench/embedded-index.ts [--size 100000]
 *     [--dimension 384] [--queries 1000] [--recall-queries 100] [--threshold 10000]
 *     [--ef-construction 128] [--ef-search 64] [--idle-after-ms 1000] [--ann-cost-ratio 600]
 *     [--directory DIR]
 *
 * Data: `size` vectors in 1,000 gaussian clusters plus noise, L2-normalised; 100 userIds (a
 * userId filter keeps ~1 %), 10,000 sessionIds (0.01 %), 10 categories (10 %). Prints upsert
 * throughput (batches of 256) and graph build time; then, reopened in a fresh process (the
 * state of a restarted service): its memory (after a full GC with --expose-gc, before the
 * benchmark regenerates its own copy of the vectors) and search p50/p99 per query kind — dense
 * unfiltered and filtered to 10 %, 1 % and 0.01 %, hybrid unfiltered and at 1 % — with recall@10
 * of the dense kinds against an exact scan in double precision.
 *
 * The vectors are generated in order, batch by batch, and generated again for the exact answers
 * (never all held at once: 10M of 384 dimensions would be 15 GB), e.g. a 10M run:
 *   node --expose-gc --max-old-space-size=16384 --import tsx \
 *     packages/embedded-index/bench/embedded-index.ts --size 10000000 --queries 300 --recall-queries 10
 *
 * Over 400 lines on purpose: the whole measurement in one script — the corpus, what is timed and
 * how each exact answer is found — so that what a printed number means is read in one place.
 */

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { IndexedMemory, IndexFilter, SearchMode, VectorIndex } from '@membus/vector-index';
import { seededRandom, testItem, testMemoryId } from '@membus/vector-index/testing/fixtures';
import {
  type EmbeddedVectorIndex,
  type EmbeddedVectorIndexOptions,
  openEmbeddedVectorIndex,
} from '../src/index.ts';
import { type StopSignal, stopSignal } from './stop-signal.ts';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '10000' },
    dimension: { type: 'string', default: '384' },
    queries: { type: 'string', default: '1000' },
    'recall-queries': { type: 'string', default: '100' },
    threshold: { type: 'string' },
    /** The planner's annCostRatio (exact scan while candidates² ≤ ratio × indexed). */
    'ann-cost-ratio': { type: 'string' },
    'ef-construction': { type: 'string' },
    /** HNSW efSearch of every search, the build's and the reopened index's. */
    'ef-search': { type: 'string' },
    /** The indexer's idle mode after this many ms without writes ('Infinity': never, as before 2026-12-06). */
    'idle-after-ms': { type: 'string' },
    /**
     * Work in this directory and keep it. Where it already holds memories (a run stopped by a
     * signal), go on from there: upsert the rest, build the graph, then measure as usual. SIGINT
     * or SIGTERM during the upserts or the build closes the index cleanly (graph saved) and exits,
     * so a run too long for one sitting continues in the next.
     */
    directory: { type: 'string' },
    /**
     * Yield to the event loop after each upsert batch, so the background indexer builds the graph
     * while the upserts run, as in the service (whose writes arrive from sockets). Without it the
     * upserts (synchronous inside) never let it run: everything is in the tail when they end.
     */
    'concurrent-build': { type: 'boolean', default: false },
    /** Internal: upsert and build in this directory (a child process), then close. */
    build: { type: 'string' },
    /** Internal: measure opening an existing directory in a fresh process. */
    reopen: { type: 'string' },
  },
});
const size = Number(values.size);
const dimension = Number(values.dimension);
const queryCount = Number(values.queries);
const recallCount = Number(values['recall-queries']);
const threshold = values.threshold === undefined ? undefined : Number(values.threshold);
/** A number option, or nothing when it was not given. */
const given = (value: string | undefined) => (value === undefined ? undefined : Number(value));
/** The index's options from the command line, as the build and the reopen both open it. */
const indexOptions = (directory: string): EmbeddedVectorIndexOptions => {
  const optional = {
    exactScanThreshold: threshold,
    annCostRatio: given(values['ann-cost-ratio']),
    idleAfterMs: given(values['idle-after-ms']),
  };
  const hnsw = {
    efConstruction: given(values['ef-construction']),
    efSearch: given(values['ef-search']),
  };
  return {
    directory,
    dimension,
    ...Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined)),
    hnsw: Object.fromEntries(Object.entries(hnsw).filter(([, value]) => value !== undefined)),
  };
};
const TENANT = 'bench';
const NOW = Date.parse('2026-06-01T00:00:00.000Z');

const gaussian = (random: () => number): number =>
  Math.sqrt(-2 * Math.log(random() || 1e-12)) * Math.cos(2 * Math.PI * random());

const CENTRES = 1_000;
const centreDraws = seededRandom(1);
const centres = Array.from({ length: CENTRES }, () =>
  Float32Array.from({ length: dimension }, () => gaussian(centreDraws)),
);
/** The queries' own sequence (not the memories' vectors). */
const queryDraws = seededRandom(2);

/** A vector near a random centre, L2-normalised, from `random`'s next draws. */
function sample(random: () => number, into = new Float32Array(dimension)): Float32Array {
  const centre = centres[Math.floor(random() * centres.length)]!;
  let norm = 0;
  for (let index = 0; index < dimension; index++) {
    const value = centre[index]! + 0.8 * gaussian(random);
    into[index] = value;
    norm += Math.fround(value) * Math.fround(value);
  }
  const scale = 1 / Math.sqrt(norm);
  for (let index = 0; index < dimension; index++) into[index] = into[index]! * scale;
  return into;
}

/**
 * Every benchmark vector in order, generated from the start of their sequence: the same vectors
 * in both processes and on every pass. The yielded array is reused: copy what is kept.
 */
function* benchVectors(): Generator<[number, Float32Array]> {
  // The memories' vectors continue the centres' sequence.
  const draws = seededRandom(1);
  for (let draw = 0; draw < 2 * CENTRES * dimension; draw++) draws();
  const vector = new Float32Array(dimension);
  for (let n = 0; n < size; n++) yield [n, sample(draws, vector)];
}

const userOf = (n: number): string => `user-${n % 100}`;
const sessionOf = (n: number): string => `session-${n % 10_000}`;
const categoryOf = (n: number): string => `category-${n % 10}`;

function item(n: number, vector: Float32Array): IndexedMemory {
  const createdAt = new Date(NOW - 10_000_000 + n).toISOString();
  return testItem(n, vector, {
    tenant: TENANT,
    userId: userOf(n),
    sessionId: sessionOf(n),
    text: `benchmark memory number ${n} with some text to make the record realistic`,
    metadata: { n, source: 'bench' },
    categories: [categoryOf(n)],
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

/** RSS split into anonymous memory and file pages (vectors.f32 mapped: reclaimable), from /proc. */
function rssSplit(): string {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kib = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
    const anon = kib('RssAnon');
    const file = kib('RssFile');
    return Number.isNaN(anon) || Number.isNaN(file)
      ? ''
      : ` = anon ${mib(anon * 1024)} + file ${mib(file * 1024)}`;
  } catch {
    return '';
  }
}

function memory(memories: number): string {
  (globalThis as { gc?: () => void }).gc?.();
  const usage = process.memoryUsage();
  const per = (bytes: number) => `${(bytes / memories).toFixed(0)} B/memory`;
  return `rss ${mib(usage.rss)} (${per(usage.rss)}${rssSplit()}); JS heap ${mib(usage.heapUsed)} (${per(usage.heapUsed)}), external ${mib(usage.external)} (array buffers ${mib(usage.arrayBuffers)}, ${per(usage.arrayBuffers)})`;
}

/** A query kind: its filter and mode per query, and how its exact answer is found. */
interface QueryKind {
  label: string;
  filterFor: (query: number) => IndexFilter | undefined;
  /** Which memories the filter keeps (for the exact answer); undefined: not measured. */
  keeps?: (query: number) => (n: number) => boolean;
  mode?: SearchMode;
  textFor?: (query: number) => string;
}

const kinds: QueryKind[] = [
  { label: 'dense unfiltered', filterFor: () => undefined, keeps: () => () => true },
  {
    label: 'dense filtered to 10 % (category)',
    filterFor: (query) => ({ categories: { any: [categoryOf(query)] } }),
    keeps: (query) => (n) => n % 10 === query % 10,
  },
  {
    label: 'dense filtered to 1 % (userId)',
    filterFor: (query) => ({ userId: userOf(query) }),
    keeps: (query) => (n) => n % 100 === query % 100,
  },
  {
    label: 'dense filtered to 0.01 % (sessionId)',
    filterFor: (query) => ({ sessionId: sessionOf(query) }),
    keeps: (query) => (n) => n % 10_000 === query % 10_000,
  },
  {
    label: 'hybrid unfiltered',
    filterFor: () => undefined,
    mode: 'hybrid',
    textFor: (query) => `memory number ${(query * 7919) % size} realistic`,
  },
  {
    label: 'hybrid filtered to 1 % (userId)',
    filterFor: (query) => ({ userId: userOf(query) }),
    mode: 'hybrid',
    textFor: (query) => `memory number ${(query * 7919) % size} realistic`,
  },
];

/**
 * The ids of the exact top 10 of each recall query of each dense kind (by label, in query order)
 * among the memories its filter keeps, by a double-precision dot: one pass over the vectors.
 */
function exactTops(queries: readonly Float32Array[]): Map<string, string[][]> {
  const measured = kinds.filter((kind) => kind.keeps !== undefined && kind.mode === undefined);
  const recallQueries = queries.slice(0, recallCount);
  const keeps = measured.map((kind) => recallQueries.map((_, position) => kind.keeps!(position)));
  const best = measured.map(() => recallQueries.map(() => [] as { n: number; score: number }[]));
  const scores = new Float64Array(recallQueries.length);
  for (const [n, vector] of benchVectors()) {
    for (const [position, query] of recallQueries.entries()) {
      let score = 0;
      for (let index = 0; index < dimension; index++) score += vector[index]! * query[index]!;
      scores[position] = score;
    }
    for (const [k, kindBest] of best.entries())
      for (const [position, top] of kindBest.entries()) {
        const score = scores[position]!;
        if (!keeps[k]![position]!(n) || (top.length === 10 && score <= top[9]!.score)) continue;
        top.push({ n, score });
        top.sort((a, b) => b.score - a.score);
        if (top.length > 10) top.pop();
      }
  }
  return new Map(
    measured.map((kind, k) => [
      kind.label,
      best[k]!.map((top) => top.map(({ n }) => testMemoryId(n))),
    ]),
  );
}

async function measureSearch(
  index: VectorIndex,
  kind: QueryKind,
  queries: readonly Float32Array[],
  truths: Map<string, string[][]> | undefined,
  suffix = '',
): Promise<void> {
  const times: number[] = [];
  const plans = new Map<string, number>();
  const search = (query: Float32Array, position: number) => {
    const filter = kind.filterFor(position);
    return index.search({
      tenant: TENANT,
      vector: query,
      limit: 10,
      now: NOW,
      ...(filter ? { filter } : {}),
      ...(kind.mode ? { mode: kind.mode, text: kind.textFor?.(position) ?? '' } : {}),
    });
  };
  for (let warm = 0; warm < 20; warm++) await search(queries[warm]!, warm);
  for (const [position, query] of queries.entries()) {
    const start = performance.now();
    const result = await search(query, position);
    times.push(performance.now() - start);
    plans.set(result.plan, (plans.get(result.plan) ?? 0) + 1);
  }
  // Recall in a second pass, so brute-force garbage does not land in the timed searches.
  let found = 0;
  let expected = 0;
  const kindTruths = truths?.get(kind.label);
  if (kindTruths !== undefined) {
    for (const [position, query] of queries.slice(0, recallCount).entries()) {
      const result = await search(query, position);
      const truth = kindTruths[position]!;
      const got = new Set(result.hits.map((hit) => hit.record.id));
      found += truth.filter((id) => got.has(id)).length;
      expected += truth.length;
    }
  }
  times.sort((a, b) => a - b);
  const recall = expected > 0 ? ` recall@10 ${(found / expected).toFixed(3)}` : '';
  console.log(
    `search top-10 ${kind.label}${suffix}: p50 ${format(percentile(times, 0.5))} p99 ${format(percentile(times, 0.99))} max ${format(times.at(-1)!)}${recall} plans ${JSON.stringify(Object.fromEntries(plans))}`,
  );
}

/** Exit code of a build child stopped by a signal (its index closed, to be resumed). */
const STOPPED = 3;

/**
 * Builds in one child process and measures the reopen in another: this process holds no index,
 * so the reopen has the machine's memory to itself (at 10M the build process still held 10 GB
 * after its close, and the reopen beside it was killed for memory).
 */
async function main(): Promise<void> {
  const kept = values.directory;
  const directory = kept ?? (await mkdtemp(join(tmpdir(), 'membus-bench-embedded-')));
  console.log(`embedded index: ${size} vectors, dimension ${dimension}, ${directory}`);
  // Both children get every option this run was given (but the directory, named apart), so they
  // open the index alike: a reopen with another efConstruction than the build's would rebuild.
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--directory');
  const forwarded = (at === -1 ? argv : [...argv.slice(0, at), ...argv.slice(at + 2)]).filter(
    (arg) => !arg.startsWith('--directory='),
  );
  try {
    const built = await child(['--build', directory, ...forwarded]);
    if (built === STOPPED) return;
    if (built !== 0) throw new Error(`build run failed with status ${built}`);
    // Reopen in a fresh process, so load time and memory are those of a restarted service.
    const reopened = await child(['--reopen', directory, ...forwarded]);
    if (reopened !== 0) throw new Error(`reopen run failed with status ${reopened}`);
  } finally {
    if (kept === undefined) await rm(directory, { recursive: true, force: true });
  }
}

/**
 * Runs this script again with `args` in a process group of its own, SIGINT and SIGTERM passed on
 * to it (it closes its index before it exits); resolves to its exit code (null: a signal).
 */
async function child(args: string[]): Promise<number | null> {
  const run = spawn(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), ...args],
    {
      stdio: 'inherit',
      detached: true,
    },
  );
  const pass = (signal: NodeJS.Signals) => run.kill(signal);
  process.on('SIGINT', pass).on('SIGTERM', pass);
  try {
    return await new Promise<number | null>((resolve, reject) => {
      run.once('error', reject).once('exit', (code) => resolve(code));
    });
  } finally {
    process.off('SIGINT', pass).off('SIGTERM', pass);
  }
}

/** Upserts what the directory lacks, builds the graph, closes; exits STOPPED on a signal. */
async function build(directory: string): Promise<void> {
  const resumed = existsSync(join(directory, 'memories.sqlite'));
  const options = indexOptions(directory);

  const openStart = performance.now();
  const index = await openEmbeddedVectorIndex(options);
  const stop = stopSignal();
  const stopped = async (where: string): Promise<void> => {
    const { count, tail } = index.status();
    await index.close();
    console.log(
      `stopped by ${stop.signal()} ${where}: ${count} memories, ${tail} not in the graph yet; index closed (graph saved). Run again with --directory ${directory} to go on.`,
    );
    process.exitCode = STOPPED;
  };
  const held = index.status().count;
  if (resumed) {
    const { tail, opened } = index.status();
    console.log(
      `resumed: ${held} memories, ${tail} not in the graph yet; opened in ${format(performance.now() - openStart)} (from the ${opened.from}${opened.reason ? `: ${opened.reason}` : ''})`,
    );
  }
  if (held < size && !(await ingest(index, held, stop))) return await stopped('during the upserts');

  const buildStart = performance.now();
  const unindexed = index.status().tail;
  if ((await Promise.race([index.whenIndexed().then(() => true), stop.promise])) !== true)
    return await stopped('during the graph build');
  console.log(
    `graph build (background, ${unindexed} of ${size} points): ${((performance.now() - buildStart) / 1000).toFixed(1)} s`,
  );
  console.log(`memory after build: ${memory(size)}`);

  const closeStart = performance.now();
  await index.close();
  stop.dispose();
  console.log(`close (graph save): ${format(performance.now() - closeStart)}`);
}

/**
 * Upserts the vectors from `from` on in batches of 256, then searches once while all is in the
 * tail. False when a signal stopped it (after a whole batch).
 */
async function ingest(
  index: EmbeddedVectorIndex,
  from: number,
  stop: StopSignal,
): Promise<boolean> {
  const batchTimes: number[] = [];
  let ingestStart = performance.now();
  let batch: IndexedMemory[] = [];
  for (const [n, vector] of benchVectors()) {
    if (n < from) {
      if (n === from - 1) ingestStart = performance.now();
      continue;
    }
    batch.push(item(n, new Float32Array(vector)));
    if (batch.length < 256 && n < size - 1) continue;
    const batchStart = performance.now();
    await index.upsert(batch);
    batchTimes.push(performance.now() - batchStart);
    batch = [];
    // Signals are delivered on the event loop: yield to it, which also lets the graph build.
    if (values['concurrent-build'] || batchTimes.length % 64 === 0)
      await new Promise((resolve) => setImmediate(resolve));
    if (stop.signal() !== undefined) return false;
  }
  const ingestMs = performance.now() - ingestStart;
  batchTimes.sort((a, b) => a - b);
  console.log(
    `upsert (batches of 256${from > 0 ? `, from ${from}` : ''}): ${(((size - from) / ingestMs) * 1000).toFixed(0)} memories/s; batch p50 ${format(percentile(batchTimes, 0.5))} p99 ${format(percentile(batchTimes, 0.99))}`,
  );
  const tailQueries = Array.from({ length: Math.min(200, queryCount) }, () => sample(queryDraws));
  const { tail } = index.status();
  await measureSearch(
    index,
    kinds[2]!,
    tailQueries,
    undefined,
    tail === size ? ' while all is in the tail' : ` with ${tail} of ${size} in the tail`,
  );
  return true;
}

async function reopen(directory: string): Promise<void> {
  const start = performance.now();
  const index = await openEmbeddedVectorIndex(indexOptions(directory));
  const status = index.status();
  console.log(
    `reopen in a fresh process: ${format(performance.now() - start)} (${status.count} memories, tail ${status.tail}; in-memory structures from the ${status.opened.from === 'snapshot' ? 'snapshot of the clean close' : 'rows'} in ${format(status.opened.ms)})`,
  );
  console.log(`memory after reopen (the index alone): ${memory(status.count)}`);
  // Fresh queries; their exact answers from the same vectors as the first process's.
  const queries = Array.from({ length: queryCount }, () => sample(queryDraws));
  let truths: Map<string, string[][]> | undefined;
  if (recallCount > 0) {
    const truthsStart = performance.now();
    truths = exactTops(queries);
    console.log(
      `exact answers (one pass over the vectors): ${format(performance.now() - truthsStart)}`,
    );
  }
  for (const kind of kinds) await measureSearch(index, kind, queries, truths, ' after reopen');
  await index.close();
}

if (values.build !== undefined) await build(values.build);
else if (values.reopen !== undefined) await reopen(values.reopen);
else await main();
