/**
 * In-process profile of the vector-store domain: ingest and query costs without NATS.
 *
 *   node --expose-gc --max-semi-space-size=64 --import tsx bench/src/inprocess.ts \
 *     [--size 20000] [--near 0.95] [--write-batches 1,8,64] [--profile FILE]
 *
 * `--write-batches`: after the bulk ingest, 4,000 more memories written in batches of each size
 * (the batches a vector-store writes at a steady offered rate are small): CPU µs per memory, the
 * collections meanwhile, and the heap each memory keeps. What a batch costs whatever its size
 * (the two SQLite commits, the turn) shows as the difference between the sizes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';
import { openEmbeddedVectorIndex } from '@membus/embedded-index';
import { createLocalEmbeddingProvider, Embedder } from '@membus/embedder';
import { MemoryService, openSqliteDocumentStore } from '@membus/vector-store';
import { rng, syntheticMemory, syntheticQuery } from './corpus.ts';
import { scriptOptions } from './options.ts';
import { summarize } from './stats.ts';

const values = scriptOptions(
  { size: 20_000, near: 0.95, queries: 200, users: 100 },
  {
    /** Writes a V8 CPU profile of the query phase to this file (open it in Chrome DevTools). */
    profile: '',
    'write-batches': '',
  },
);
const { users, size } = values;
const directory = mkdtempSync(join(tmpdir(), 'membus-inprocess-'));
const embedder = new Embedder({ provider: createLocalEmbeddingProvider() });
const index = await openEmbeddedVectorIndex({ directory, dimension: 384 });
const service = new MemoryService({
  index,
  documents: openSqliteDocumentStore({ path: join(directory, 'documents.sqlite') }),
  embed: { query: async () => new Float32Array(384), documents: async () => [] },
  events: { publish: async () => {} },
  nearDuplicates: { default: values.near },
});
const random = rng(42);
let id = 0;
const uuid = () => `01900000-0000-7000-8000-${(id++).toString(16).padStart(12, '0')}`;
/** Embedded stores `from`…`to` − 1 (the embedding is not part of what is measured). */
async function embeddedBatch(from: number, to: number) {
  const stores = [];
  for (let i = from; i < to; i++) {
    const m = syntheticMemory(random, i, users);
    stores.push({
      v: 1 as const,
      id: uuid(),
      text: m.text,
      userId: m.userId,
      namespace: m.namespace,
      kind: 'episode' as const,
      metadata: {},
      categories: [m.category],
      tags: [],
      importance: 0.5,
    });
  }
  const outcomes = await embedder.embedStores(stores);
  return outcomes.map((o) => ({
    tenant: 't',
    embedded: (o as unknown as { embedded: never }).embedded,
  }));
}
const started = performance.now();
for (let start = 0; start < size; start += 256)
  await service.ingest(await embeddedBatch(start, Math.min(size, start + 256)));
const seconds = (performance.now() - started) / 1000;
console.log(`ingest ${size} near=${values.near}: ${Math.round(size / seconds)}/s`);
await index.whenIndexed();

const WRITES = 4_000;
let written = size;
for (const batchSize of values['write-batches'].split(',').filter(Boolean).map(Number)) {
  const batches = [];
  for (let start = 0; start < WRITES; start += batchSize)
    batches.push(
      await embeddedBatch(written + start, written + Math.min(WRITES, start + batchSize)),
    );
  written += WRITES;
  const collections = new Map<number, { count: number; ms: number }>();
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? 0;
      const seen = collections.get(kind) ?? { count: 0, ms: 0 };
      collections.set(kind, { count: seen.count + 1, ms: seen.ms + entry.duration });
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  (globalThis as { gc?: () => void }).gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  for (const batch of batches) await service.ingest(batch);
  const wall = performance.now() - wallBefore;
  const cpu = process.cpuUsage(cpuBefore);
  // Entries are delivered on a later turn of the event loop.
  await new Promise((resolve) => setTimeout(resolve, 20));
  observer.disconnect();
  (globalThis as { gc?: () => void }).gc?.();
  const kept = (process.memoryUsage().heapUsed - heapBefore) / WRITES;
  const kinds: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakcb' };
  console.log(
    `writes in batches of ${batchSize}: ${Math.round(((cpu.user + cpu.system) / WRITES) * 1) / 1} µs CPU per memory (${Math.round((wall * 1000) / WRITES)} µs wall); GC ${
      [...collections]
        .map(([kind, { count, ms }]) => `${kinds[kind] ?? kind} ${count} (${ms.toFixed(1)} ms)`)
        .join(', ') || 'none'
    }; heap kept ${kept.toFixed(0)} B per memory`,
  );
}
const { unpackVector } = await import('@membus/contracts');
const profiler = values.profile === '' ? undefined : new Session();
if (profiler) {
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.start');
}
for (const mode of ['dense', 'keyword', 'hybrid'] as const) {
  for (const filtered of [false, true]) {
    const r = rng(3);
    const samples: number[] = [];
    for (let q = 0; q < values.queries; q++) {
      const text = syntheticQuery(r);
      const reply = await embedder.embedRequest({ v: 1, texts: [text], purpose: 'query' });
      const vector = unpackVector(reply.vectors[0] as string) as Float32Array;
      const userId = `user-${Math.floor(r() * users)}`;
      const t = performance.now();
      await index.search({
        tenant: 't',
        vector,
        text,
        mode,
        limit: 10,
        now: Date.now(),
        ...(filtered ? { filter: { userId } } : {}),
      });
      samples.push(performance.now() - t);
    }
    const s = summarize(samples);
    console.log(
      `${mode} ${filtered ? '1%' : 'all'}: p50 ${s.p50.toFixed(2)} p95 ${s.p95.toFixed(2)} p99 ${s.p99.toFixed(2)} max ${Math.max(...samples).toFixed(2)} ms`,
    );
  }
}
if (profiler) {
  const { profile } = await profiler.post('Profiler.stop');
  writeFileSync(values.profile, JSON.stringify(profile));
  console.log(`profile written to ${values.profile}`);
}
await index.close();
rmSync(directory, { recursive: true, force: true });
