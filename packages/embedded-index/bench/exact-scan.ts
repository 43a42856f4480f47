/**
 * The exact scan of one user's memories (the 1 % filter's path) at scale, by part.
 *
 *   node --expose-gc --import tsx packages/embedded-index/bench/exact-scan.ts [--size 1000000]
 *     [--dimension 384] [--users 100] [--queries 300]
 *
 * Fills a VectorArena (int8 codes in memory, float32 vectors in a file, as the index keeps them)
 * with random unit vectors; a user holds every `users`-th slot, as memories stored in turn by
 * many users are. Prints p50 / p99 of the whole scan (ExactScanner.scan, limit 10) and of its
 * parts: gathering the candidates with the predicate, the int8 estimates, the estimates with the
 * heap of the best 40, and the 40 exact scores read from the file.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BoundedHeap } from '../src/bounded-heap.ts';
import { ExactScanner } from '../src/exact-scan.ts';
import type { CandidateSource } from '../src/payload-index.ts';
import type { SlotTable } from '../src/slot-table.ts';
import { VectorArena } from '../src/vector-arena.ts';
import { openVectorFile } from '../src/vector-file.ts';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '1000000' },
    dimension: { type: 'string', default: '384' },
    users: { type: 'string', default: '100' },
    queries: { type: 'string', default: '300' },
  },
});
const size = Number(values.size);
const dimension = Number(values.dimension);
const users = Number(values.users);
const queryCount = Number(values.queries);

let seed = 1;
const random = (): number => {
  seed = (seed * 1_103_515_245 + 12_345) >>> 0;
  return seed / 2 ** 32 - 0.5;
};
function unit(into = new Float32Array(dimension)): Float32Array {
  let norm = 0;
  for (let index = 0; index < dimension; index++) {
    into[index] = random();
    norm += into[index]! * into[index]!;
  }
  const scale = 1 / Math.sqrt(norm);
  for (let index = 0; index < dimension; index++) into[index] = into[index]! * scale;
  return into;
}

const percentile = (sorted: readonly number[], fraction: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))]!;

const directory = await mkdtemp(join(tmpdir(), 'membus-bench-scan-'));
try {
  const arena = new VectorArena(
    dimension,
    () => undefined,
    () => openVectorFile(join(directory, 'vectors.f32'), dimension),
  );
  const vector = new Float32Array(dimension);
  const fillStart = performance.now();
  for (let slot = 0; slot < size; slot++) arena.set(slot, unit(vector));
  console.log(
    `${size} vectors of ${dimension} in ${((performance.now() - fillStart) / 1000).toFixed(1)} s`,
  );

  const sets = Array.from({ length: users }, () => new Set<number>());
  for (let slot = 0; slot < size; slot++) sets[slot % users]!.add(slot);
  const ids = Array.from({ length: size }, (_, slot) => `m-${slot}`);
  // The parts of a SlotTable the scanner reads.
  const slots = {
    ids,
    forEachCandidate(source: CandidateSource, visit: (slot: number) => void) {
      for (const slot of source.sets[0]!) visit(slot);
    },
  } as unknown as SlotTable;
  const scanner = new ExactScanner(arena, slots);
  const tenants = new Int32Array(size);
  const expiresAt = new Float64Array(size).fill(Number.POSITIVE_INFINITY);
  const matches = (slot: number) => tenants[slot] === 0 && expiresAt[slot]! > 0;
  const queries = Array.from({ length: queryCount }, () => unit());

  const run = (label: string, once: (query: Float32Array, user: Set<number>) => void) => {
    for (let warm = 0; warm < 30; warm++) once(queries[warm % queryCount]!, sets[warm % users]!);
    const times: number[] = [];
    for (const [at, query] of queries.entries()) {
      const start = performance.now();
      once(query, sets[at % users]!);
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    console.log(
      `${label}: p50 ${percentile(times, 0.5).toFixed(2)} ms, p99 ${percentile(times, 0.99).toFixed(2)} ms`,
    );
  };
  const found = new Int32Array(size);
  const estimates = new Float64Array(size);
  const gather = (user: Set<number>) => {
    let count = 0;
    for (const slot of user) if (matches(slot)) found[count++] = slot;
    return count;
  };
  run(`whole scan, ${Math.round(size / users)} candidates`, (query, user) =>
    scanner.scan({ sets: [user], size: user.size }, matches, query, 10),
  );
  run('gathering with the predicate', (_, user) => gather(user));
  run('int8 estimates', (query, user) => arena.estimateMany(found, gather(user), query, estimates));
  run('estimates and the heap of the best 40', (query, user) => {
    const count = gather(user);
    arena.estimateMany(found, count, query, estimates);
    const best = new BoundedHeap<number>(40, (a, b) => estimates[a]! > estimates[b]!);
    for (let at = 0; at < count; at++) best.push(at);
  });
  const forty = new Int32Array(40);
  const scores = new Float64Array(40);
  run('40 exact scores from the file', (query, user) => {
    let at = 0;
    for (const slot of user) {
      if (at === 40) break;
      forty[at++] = slot;
    }
    arena.dotMany(forty, 40, query, scores);
  });
} finally {
  await rm(directory, { recursive: true, force: true });
}
