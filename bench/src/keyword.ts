/**
 * The embedded index's keyword leg alone (BM25 over `KeywordIndex`) on the bench's corpus, at a
 * size the whole stack takes hours to reach (issue 25: the hybrid query at 10M).
 *
 *   node --expose-gc --max-old-space-size=16384 --import tsx bench/src/keyword.ts \
 *     [--size 1000000] [--queries 300] [--users 100] [--limit 40]
 *
 * Data: the memories of `pnpm bench` (bench/src/corpus.ts, seed 42) and its queries
 * (`syntheticQuery`, seed 1): each query word is held by 10–25 % of the memories, so every one
 * is ranked from a bitmap. Printed: the build (ms, memory), then the latency p50 / p95 / p99 of
 * `limit` hits (40: the hybrid search's keyword leg for a top 10), unfiltered, filtered to one
 * user (~1 %, with the user's slots as the candidate set the payload index gives), and of a query
 * of words nearly every memory holds (as `memory number N realistic` is in the embedded-index
 * bench).
 */
import { KeywordIndex } from '@membus/embedded-index';
import { rng, syntheticMemory, syntheticQuery } from './corpus.ts';
import { scriptOptions } from './options.ts';
import { summarize } from './stats.ts';

const { size, queries, users, limit } = scriptOptions({
  size: 1_000_000,
  queries: 300,
  users: 100,
  limit: 40,
});

/** Heap and typed arrays, MB. */
const memoryMb = () => {
  globalThis.gc?.();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return Math.round((heapUsed + arrayBuffers) / 2 ** 20);
};
const memoryBefore = memoryMb();
const index = new KeywordIndex();
const random = rng(42);
let started = performance.now();
for (let slot = 0; slot < size; slot++) {
  index.set(slot, syntheticMemory(random, slot, users).text);
  if ((slot + 1) % 1_000_000 === 0)
    console.log(`${slot + 1} indexed, ${Math.round((performance.now() - started) / 1000)} s`);
}
console.log(
  `built ${size}: ${Math.round(performance.now() - started)} ms, +${memoryMb() - memoryBefore} MB`,
);

// A user's memories are every `users`-th slot (syntheticMemory's userId), as a candidate set.
const userSlots = (user: number) => ({
  size: Math.ceil((size - user) / users),
  forEach(visit: (slot: number) => void) {
    for (let slot = user; slot < size; slot += users) visit(slot);
  },
  matches: () => true,
  contains: () => (slot: number) => slot % users === user,
});

const queryRandom = rng(1);
const texts = Array.from({ length: queries }, () => syntheticQuery(queryRandom));
const kinds: { label: string; text: (query: number) => string; user?: boolean }[] = [
  { label: 'unfiltered', text: (query) => texts[query]! },
  { label: 'one user (~1 %)', text: (query) => texts[query]!, user: true },
  {
    label: 'words every memory holds',
    text: (query) => `deployed run ${(query * 7919) % size} took steps`,
  },
];
for (const kind of kinds) {
  const samples: number[] = [];
  let hits = 0;
  for (let query = 0; query < queries; query++) {
    const user = query % users;
    const matches = kind.user ? (slot: number) => slot % users === user : () => true;
    const candidates = kind.user ? userSlots(user) : undefined;
    started = performance.now();
    hits += index.search({ text: kind.text(query), matches, candidates, limit }).length;
    samples.push(performance.now() - started);
  }
  const { p50, p95, p99 } = summarize(samples);
  console.log(
    `${kind.label}: p50 / p95 / p99 ${p50.toFixed(2)} / ${p95.toFixed(2)} / ${p99.toFixed(2)} ms, ${(hits / queries).toFixed(1)} hits a query`,
  );
}
