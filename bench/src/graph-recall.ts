/**
 * Recall, build time, memory and latency of an ANN graph on the bench's corpus (issue 25). Over
 * 400 lines on purpose: the whole measurement in one script, so that what a printed number means
 * is read in one place.
 *
 *   node --expose-gc --import tsx bench/src/graph-recall.ts --size 100000 \
 *     [--queries 200] [--engine usearch|arena|hnswlib] [--connectivity 16] [--expansion-add 64] \
 *     [--expansion-search 64,128,256] [--threads 1] [--input codes|f32] [--quantization i8|f32] \
 *     [--rescore 40,100] [--cache /tmp/membus-graph-recall]
 *
 * Data: the memories of `pnpm bench` (bench/src/corpus.ts, seed 42, 100 users) embedded by the
 * local hashing embedder (384 dimensions), and `queries` queries made as the bench makes them
 * (syntheticQuery, seed 1). The vectors and the exact answers are cached in `cache`.
 *
 * The exact answer is a scan in double precision. Two recalls are printed, because the corpus has
 * many near-identical memories (one template, other numbers) whose scores tie or nearly tie:
 * - strict: |returned top 10 ∩ exact top 10| / 10;
 * - ann-benchmarks: a returned memory counts if its exact distance (1 − dot, in double) is within
 *   1e-3 of the exact 10th distance.
 * Each setting is measured as the graph answers (top 10) and with exact rescoring: the graph's top
 * `rescore` (each of a list) re-ranked by the float32 vectors' dot product in double (what the index does with
 * `vectors.f32`). Latency is per single-threaded search, rescoring included where it applies.
 *
 * arena: the embedded index's own graph (packages/embedded-index/native, the addon: its nodes read
 * the codes from one page, as from the arena's, and its adds run `--threads` threads with the fix
 * for concurrent adds); `--input` does not apply, the codes are the arena's.
 *
 * usearch: `--input int8` adds the arena's int8 codes to the native index as they are (the
 * JavaScript wrapper turns an Int8Array into floats and quantises them itself, see
 * packages/embedded-index/src/usearch-binding.ts); `--input codes` adds the arena's int8 codes (largest component → ±127, cosine is blind to
 * the per-vector scale) to an i8 index; `--input f32` hands it the floats to cast itself.
 * expansion_search is fixed at construction in the JS binding, so each value after the first is
 * measured on the saved index loaded into an index made with that value.
 */

import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type ArenaGraph,
  createArenaGraph,
  createUsearchIndex,
  type NativeUsearchIndex,
} from '@membus/embedded-index';
import { embedLocal } from '@membus/embedding-local';
import hnswlib from 'hnswlib-node';
import { MetricKind, ScalarKind, Index as UsearchIndex } from 'usearch';
import { rng, syntheticMemory, syntheticQuery } from './corpus.ts';
import { scriptOptions } from './options.ts';

const values = scriptOptions(
  { size: 100_000, queries: 200, connectivity: 16, 'expansion-add': 64, threads: 1 },
  {
    engine: 'usearch',
    /** One or more, comma-separated: each is measured. */
    'expansion-search': '64',
    input: 'codes',
    quantization: 'i8',
    /** One or more, comma-separated. */
    rescore: '40',
    cache: '/tmp/membus-graph-recall',
  },
);
const DIMENSION = 384;
const LIMIT = 10;
const EPSILON = 1e-3;
const { size, queries: queryCount, connectivity, threads } = values;
const expansionAdd = values['expansion-add'];
const expansions = values['expansion-search'].split(',').map(Number);
const rescoreCounts = values.rescore.split(',').map(Number);
const cache = values.cache;
mkdirSync(cache, { recursive: true });

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
function rss(): number {
  const collect = (globalThis as { gc?: () => void }).gc;
  collect?.();
  collect?.();
  return process.memoryUsage().rss;
}

/** The corpus's vectors, one after the other (cached: embedding 1M texts takes minutes). */
function corpus(): Float32Array {
  const file = join(cache, `corpus-${size}.f32`);
  if (existsSync(file) && statSync(file).size === size * DIMENSION * 4) {
    const bytes = readFileSync(file);
    return new Float32Array(bytes.buffer, bytes.byteOffset, size * DIMENSION);
  }
  const started = performance.now();
  const all = new Float32Array(size * DIMENSION);
  const random = rng(42);
  for (let n = 0; n < size; n++)
    all.set(embedLocal(syntheticMemory(random, n, 100).text, DIMENSION), n * DIMENSION);
  writeFileSync(file, new Uint8Array(all.buffer));
  console.log(
    `embedded ${size} memories in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  return all;
}

function exactDot(all: Float32Array, n: number, query: Float32Array): number {
  let score = 0;
  const offset = n * DIMENSION;
  for (let index = 0; index < DIMENSION; index++) score += all[offset + index]! * query[index]!;
  return score;
}

/** Per query: the exact top 10 (ids, then scores), in double precision; cached. */
function truth(all: Float32Array, queries: readonly Float32Array[]): Float64Array[] {
  const file = join(cache, `truth-${size}-${queryCount}.f64`);
  if (existsSync(file) && statSync(file).size === queryCount * 2 * LIMIT * 8) {
    const bytes = readFileSync(file);
    const flat = new Float64Array(bytes.buffer, bytes.byteOffset, queryCount * 2 * LIMIT);
    return queries.map((_, q) => flat.slice(q * 2 * LIMIT, (q + 1) * 2 * LIMIT));
  }
  const started = performance.now();
  const answers = queries.map((query) => {
    const ids: number[] = [];
    const scores: number[] = [];
    for (let n = 0; n < size; n++) {
      const score = exactDot(all, n, query);
      if (scores.length === LIMIT && score <= scores[LIMIT - 1]!) continue;
      let at = scores.length;
      while (at > 0 && scores[at - 1]! < score) at--;
      scores.splice(at, 0, score);
      ids.splice(at, 0, n);
      if (scores.length > LIMIT) {
        scores.pop();
        ids.pop();
      }
    }
    return Float64Array.from([...ids, ...scores]);
  });
  const flat = new Float64Array(queryCount * 2 * LIMIT);
  for (const [q, answer] of answers.entries()) flat.set(answer, q * 2 * LIMIT);
  writeFileSync(file, new Uint8Array(flat.buffer));
  console.log(`exact answers in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return answers;
}

/** The arena's int8 codes of a vector: the largest component maps to ±127. */
function codesOf(
  vector: Float32Array,
  into: Int8Array<ArrayBufferLike> = new Int8Array(DIMENSION),
): Int8Array<ArrayBufferLike> {
  let largest = 0;
  for (let index = 0; index < DIMENSION; index++)
    largest = Math.max(largest, Math.abs(vector[index]!));
  const inverse = largest === 0 ? 0 : 127 / largest;
  for (let index = 0; index < DIMENSION; index++)
    into[index] = Math.round(vector[index]! * inverse);
  return into;
}

/** Saves `index` to `file`, timed; the file's bytes. */
function timedSave(index: { save(path: string): void }, file: string): number {
  const saving = performance.now();
  index.save(file);
  console.log(`  save (synchronous) ${(performance.now() - saving).toFixed(0)} ms`);
  return statSync(file).size;
}

function timedLoad(index: { load(path: string): void }, file: string): void {
  const loading = performance.now();
  index.load(file);
  console.log(`  load ${(performance.now() - loading).toFixed(0)} ms`);
}

/** A graph under test: build once, then search at each expansion. */
interface Graph {
  build(all: Float32Array): void;
  /** Makes `expansion` the search expansion (may reload the graph). */
  useExpansion(expansion: number): void;
  search(query: Float32Array, k: number): number[];
  fileBytes: number;
  close(): void;
}

function usearchGraph(): Graph {
  const quantization = values.quantization as 'i8' | 'f32';
  const make = (expansionSearch: number) =>
    new UsearchIndex({
      dimensions: DIMENSION,
      metric: MetricKind.Cos,
      quantization: quantization === 'i8' ? ScalarKind.I8 : ScalarKind.F32,
      connectivity,
      expansion_add: expansionAdd,
      expansion_search: expansionSearch,
      multi: false,
    });
  const native = values.input === 'int8';
  const makeNative = (expansionSearch: number) =>
    createUsearchIndex({
      dimension: DIMENSION,
      connectivity,
      expansionAdd,
      expansionSearch,
    });
  let index: {
    add: NativeUsearchIndex['add'];
    save(path: string): void;
    load(path: string): void;
  } = native ? makeNative(expansions[0]!) : make(expansions[0]!);
  let nativeIndex = native ? (index as NativeUsearchIndex) : undefined;
  let wrapped = native ? undefined : (index as UsearchIndex);
  const file = join(cache, `usearch-${process.pid}.usearch`);
  const codes = values.input === 'codes' || native;
  const queryCodes = new Int8Array(DIMENSION);
  const graph: Graph = {
    fileBytes: 0,
    build(all) {
      const batch = 4_096;
      for (let start = 0; start < size; start += batch) {
        const end = Math.min(size, start + batch);
        const keys = new BigUint64Array(end - start);
        for (let n = start; n < end; n++) keys[n - start] = BigInt(n);
        const slice = all.subarray(start * DIMENSION, end * DIMENSION);
        let vectors: Float32Array | Int8Array = slice;
        if (codes) {
          vectors = new Int8Array(slice.length);
          for (let n = 0; n < end - start; n++)
            codesOf(
              slice.subarray(n * DIMENSION, (n + 1) * DIMENSION),
              vectors.subarray(n * DIMENSION, (n + 1) * DIMENSION),
            );
        }
        index.add(keys, vectors, threads);
      }
      graph.fileBytes = timedSave(index, file);
    },
    useExpansion(expansion) {
      if (expansion === expansions[0]) return;
      if (native) index = nativeIndex = makeNative(expansion);
      else index = wrapped = make(expansion);
      timedLoad(index, file);
    },
    search(query, k) {
      if (nativeIndex !== undefined) {
        const [keys, , counts] = nativeIndex.search(codesOf(query, queryCodes), k, 1);
        return Array.from(keys.subarray(0, Number(counts[0])), Number);
      }
      const result = wrapped!.search(codes ? codesOf(query, queryCodes) : query, k, 1);
      return Array.from(result.keys, Number);
    },
    close() {
      rmSync(file, { force: true });
    },
  };
  return graph;
}

/** The embedded index's graph (the addon), over one page holding every point's codes. */
function arenaGraph(): Graph {
  let page = new Int8Array(0);
  const make = (expansionSearch: number): ArenaGraph => {
    const made = createArenaGraph({
      dimension: DIMENSION,
      connectivity,
      expansionAdd,
      expansionSearch,
    });
    if (made.kind !== 'arena')
      throw new Error('--engine arena needs the addon (packages/embedded-index/native)');
    return made;
  };
  let index = make(expansions[0]!);
  const file = join(cache, `arena-${process.pid}.usearch`);
  const queryCodes = new Int8Array(DIMENSION);
  const graph: Graph = {
    fileBytes: 0,
    build(all) {
      page = new Int8Array(size * DIMENSION);
      for (let n = 0; n < size; n++)
        codesOf(
          all.subarray(n * DIMENSION, (n + 1) * DIMENSION),
          page.subarray(n * DIMENSION, (n + 1) * DIMENSION),
        );
      index.setPages([page], size);
      const batch = 4_096;
      for (let start = 0; start < size; start += batch) {
        const end = Math.min(size, start + batch);
        index.addSlots(
          BigUint64Array.from({ length: end - start }, (_, at) => BigInt(start + at)),
          threads,
        );
      }
      graph.fileBytes = timedSave(index, file);
    },
    useExpansion(expansion) {
      if (expansion === expansions[0]) return;
      index = make(expansion);
      index.setPages([page], size);
      timedLoad(index, file);
    },
    search(query, k) {
      const [keys, , counts] = index.search(codesOf(query, queryCodes), k, 1);
      return Array.from(keys.subarray(0, Number(counts[0])), Number);
    },
    close() {
      rmSync(file, { force: true });
    },
  };
  return graph;
}

function hnswlibGraph(): Graph {
  const index = new hnswlib.HierarchicalNSW('ip', DIMENSION);
  const point = new Array<number>(DIMENSION).fill(0);
  const file = join(cache, `hnswlib-${process.pid}.hnsw`);
  const graph: Graph = {
    fileBytes: 0,
    build(all) {
      index.initIndex({
        maxElements: size,
        m: connectivity,
        efConstruction: expansionAdd,
        randomSeed: 100,
      });
      for (let n = 0; n < size; n++)
        index.addPoint(Array.from(all.subarray(n * DIMENSION, (n + 1) * DIMENSION)), n);
      index.writeIndexSync(file);
      graph.fileBytes = statSync(file).size;
    },
    useExpansion(expansion) {
      index.setEf(expansion);
    },
    search(query, k) {
      for (let i = 0; i < DIMENSION; i++) point[i] = query[i]!;
      return index.searchKnn(point, k).neighbors;
    },
    close() {
      rmSync(file, { force: true });
    },
  };
  return graph;
}

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))]!;
}

async function main(): Promise<void> {
  const all = corpus();
  const random = rng(1);
  const queries = Array.from({ length: queryCount }, () =>
    embedLocal(syntheticQuery(random), DIMENSION),
  );
  const answers = truth(all, queries);
  const graph =
    values.engine === 'hnswlib'
      ? hnswlibGraph()
      : values.engine === 'arena'
        ? arenaGraph()
        : usearchGraph();
  const setting =
    values.engine === 'hnswlib'
      ? `hnswlib M ${connectivity} efConstruction ${expansionAdd}`
      : values.engine === 'arena'
        ? `arena graph (addon) connectivity ${connectivity} expansion_add ${expansionAdd} threads ${threads}`
        : `usearch ${values.quantization} input ${values.input} connectivity ${connectivity} expansion_add ${expansionAdd} threads ${threads}`;
  const before = rss();
  const started = performance.now();
  graph.build(all);
  const buildSeconds = (performance.now() - started) / 1000;
  const after = rss();
  console.log(
    `${setting}: ${size} memories built in ${buildSeconds.toFixed(1)} s; RSS +${mib(after - before)} (${((after - before) / size).toFixed(0)} B/memory); file ${mib(graph.fileBytes)} (${(graph.fileBytes / size).toFixed(0)} B/memory)`,
  );

  for (const expansion of expansions) {
    graph.useExpansion(expansion);
    for (const rescore of [0, ...rescoreCounts]) {
      // Warm up, then one timed pass that also scores.
      for (let q = 0; q < Math.min(20, queryCount); q++) graph.search(queries[q]!, LIMIT);
      let strict = 0;
      let ann = 0;
      const times: number[] = [];
      for (const [q, query] of queries.entries()) {
        const start = performance.now();
        let ids = graph.search(query, rescore === 0 ? LIMIT : rescore);
        let scores: number[];
        if (rescore > 0) {
          const scored = ids.map((n) => ({ n, score: exactDot(all, n, query) }));
          scored.sort((a, b) => b.score - a.score);
          const top = scored.slice(0, LIMIT);
          ids = top.map(({ n }) => n);
          scores = top.map(({ score }) => score);
        } else {
          scores = [];
        }
        times.push(performance.now() - start);
        if (rescore === 0) scores = ids.map((n) => exactDot(all, n, query));
        const answer = answers[q]!;
        const exact = new Set(Array.from(answer.subarray(0, LIMIT)));
        const tenth = answer[2 * LIMIT - 1]!;
        for (const [position, n] of ids.entries()) {
          if (exact.has(n)) strict++;
          if (1 - scores[position]! <= 1 - tenth + EPSILON) ann++;
        }
      }
      times.sort((a, b) => a - b);
      const total = queryCount * LIMIT;
      console.log(
        `  expansion_search ${expansion}${rescore > 0 ? `, top ${rescore} rescored` : ''}: recall@10 strict ${(strict / total).toFixed(3)} ann-benchmarks ${(ann / total).toFixed(3)}; search p50 ${percentile(times, 0.5).toFixed(3)} ms p99 ${percentile(times, 0.99).toFixed(3)} ms`,
      );
    }
  }
  graph.close();
}

await main();
