/** In-process profile of the vector-store domain: ingest and query costs without NATS. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openEmbeddedVectorIndex } from '@membus/embedded-index';
import { createLocalEmbeddingProvider, Embedder } from '@membus/embedder';
import { MemoryService, openSqliteDocumentStore } from '@membus/vector-store';
import { rng, syntheticMemory, syntheticQuery } from './corpus.ts';
import { summarize } from './stats.ts';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '20000' },
    near: { type: 'string', default: '0.95' },
    queries: { type: 'string', default: '200' },
    users: { type: 'string', default: '100' },
    /** Writes a V8 CPU profile of the query phase to this file (open it in Chrome DevTools). */
    profile: { type: 'string' },
  },
});
const users = Number(values.users);
const size = Number(values.size);
const directory = mkdtempSync(join(tmpdir(), 'membus-inprocess-'));
const embedder = new Embedder({ provider: createLocalEmbeddingProvider() });
const index = await openEmbeddedVectorIndex({ directory, dimension: 384 });
const service = new MemoryService({
  index,
  documents: openSqliteDocumentStore({ path: join(directory, 'documents.sqlite') }),
  embed: { query: async () => new Float32Array(384), documents: async () => [] },
  events: { publish: async () => {} },
  nearDuplicates: { default: Number(values.near) },
});
const random = rng(42);
let id = 0;
const uuid = () => `01900000-0000-7000-8000-${(id++).toString(16).padStart(12, '0')}`;
const started = performance.now();
for (let start = 0; start < size; start += 256) {
  const stores = [];
  for (let i = start; i < Math.min(size, start + 256); i++) {
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
  await service.ingest(
    outcomes.map((o) => ({
      tenant: 't',
      embedded: (o as unknown as { embedded: never }).embedded,
    })),
  );
}
const seconds = (performance.now() - started) / 1000;
console.log(`ingest ${size} near=${values.near}: ${Math.round(size / seconds)}/s`);
await index.whenIndexed();
const { unpackVector } = await import('@membus/contracts');
const profiler = values.profile === undefined ? undefined : new Session();
if (profiler) {
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.start');
}
for (const mode of ['dense', 'keyword', 'hybrid'] as const) {
  for (const filtered of [false, true]) {
    const r = rng(3);
    const samples: number[] = [];
    for (let q = 0; q < Number(values.queries); q++) {
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
if (profiler && values.profile !== undefined) {
  const { profile } = await profiler.post('Profiler.stop');
  writeFileSync(values.profile, JSON.stringify(profile));
  console.log(`profile written to ${values.profile}`);
}
await index.close();
rmSync(directory, { recursive: true, force: true });
