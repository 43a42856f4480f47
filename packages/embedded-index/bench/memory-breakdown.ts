/**
 * Bytes per memory of the embedded index, by component.
 *
 *   node --expose-gc --import tsx packages/embedded-index/bench/memory-breakdown.ts --size 100000 \
 *     [--directory /tmp/membus-breakdown-100k] [--dimension 384] [--build-only] [--parts graph,index]
 *     [--no-graph-wait]
 *
 * Builds the benchmark's data (the same generator as embedded-index.ts) into `directory` once
 * (kept, so later runs measure the same store), then in fresh processes: (1) each in-memory
 * component alone, built from the stored rows the way an open builds it (vector arena, slot table
 * with the payload index, keyword index, the usearch graph read from its file); (2) the whole index
 * opened. Each figure is the growth of process.memoryUsage() after a full GC, per memory; the payload
 * index alone is `payload` (slot table and payload index) less `slots` (the slot table alone).
 */

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { IndexedMemory } from '@membus/vector-index';
import { seededRandom, testItem } from '@membus/vector-index/testing/fixtures';
import { openEmbeddedVectorIndex } from '../src/index.ts';
import { KeywordIndex } from '../src/keyword-index.ts';
import { payloadFromRow } from '../src/memory-rows.ts';
import { PayloadIndex } from '../src/payload-index.ts';
import { SlotTable } from '../src/slot-table.ts';
import { SqliteStore } from '../src/sqlite-store.ts';
import { createUsearchIndex } from '../src/usearch-binding.ts';
import { VectorArena } from '../src/vector-arena.ts';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '100000' },
    dimension: { type: 'string', default: '384' },
    directory: { type: 'string' },
    /** Internal: the part to measure in this (fresh) process. */
    part: { type: 'string' },
    /** Only build the store (so that building and measuring can run at different times). */
    'build-only': { type: 'boolean', default: false },
    /**
     * Build without waiting for the graph (closed with what the background indexer added), for
     * measuring the parts other than `graph` and `index` at sizes whose graph build is long.
     */
    'no-graph-wait': { type: 'boolean', default: false },
    /** Measure only these parts (comma-separated; default all). */
    parts: { type: 'string', default: 'arena,slots,payload,keyword,graph,index' },
  },
});
const size = Number(values.size);
const dimension = Number(values.dimension);
const directory = values.directory ?? `/tmp/membus-breakdown-${size}`;
const TENANT = 'bench';
const NOW = Date.parse('2026-06-01T00:00:00.000Z');

interface Usage {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

function settled(): Usage {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) throw new Error('run with node --expose-gc');
  collect();
  collect();
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
  return { rss, heapUsed, external, arrayBuffers };
}

function report(part: string, before: Usage, after: Usage, memories: number): void {
  const per = (key: keyof Usage) => ((after[key] - before[key]) / memories).toFixed(0);
  console.log(
    `${part.padEnd(10)} per memory: rss ${per('rss').padStart(5)} B, heapUsed ${per('heapUsed').padStart(5)} B, external ${per('external').padStart(5)} B (arrayBuffers ${per('arrayBuffers').padStart(5)} B)`,
  );
}

async function build(): Promise<void> {
  const random = seededRandom(1);
  const gaussian = (): number =>
    Math.sqrt(-2 * Math.log(random() || 1e-12)) * Math.cos(2 * Math.PI * random());
  const centres = Array.from({ length: 1_000 }, () =>
    Float32Array.from({ length: dimension }, gaussian),
  );
  const sample = (): Float32Array => {
    const centre = centres[Math.floor(random() * centres.length)]!;
    const vector = Float32Array.from(centre, (value) => value + 0.8 * gaussian());
    let norm = 0;
    for (const value of vector) norm += value * value;
    const scale = 1 / Math.sqrt(norm);
    for (let index = 0; index < vector.length; index++) vector[index] = vector[index]! * scale;
    return vector;
  };
  const index = await openEmbeddedVectorIndex({ directory, dimension });
  const start = performance.now();
  for (let first = 0; first < size; first += 256) {
    const batch: IndexedMemory[] = [];
    for (let n = first; n < Math.min(size, first + 256); n++) {
      const createdAt = new Date(NOW - 10_000_000 + n).toISOString();
      batch.push(
        testItem(n, sample(), {
          tenant: TENANT,
          userId: `user-${n % 100}`,
          sessionId: `session-${n % 10_000}`,
          text: `benchmark memory number ${n} with some text to make the record realistic`,
          metadata: { n, source: 'bench' },
          categories: [`category-${n % 10}`],
          createdAt,
          updatedAt: createdAt,
          embeddingModel: 'bench',
        }),
      );
    }
    await index.upsert(batch);
  }
  if (!values['no-graph-wait']) await index.whenIndexed();
  await index.close();
  console.log(`built ${size} memories in ${((performance.now() - start) / 1000).toFixed(0)} s`);
}

async function measure(part: string): Promise<void> {
  const before = settled();
  if (part === 'index') {
    const index = await openEmbeddedVectorIndex({ directory, dimension });
    await index.whenIndexed();
    const count = index.status().count;
    report('index', before, settled(), count);
    await index.close({ persistGraph: false });
    return;
  }
  if (part === 'graph') {
    const manifest = (await import(join(directory, 'graph.json'), { with: { type: 'json' } }))
      .default as { file: string; m: number; efConstruction: number };
    const graph = createUsearchIndex({
      dimension,
      connectivity: manifest.m,
      expansionAdd: manifest.efConstruction,
      expansionSearch: 64,
    });
    graph.load(join(directory, manifest.file));
    report('graph', before, settled(), graph.size());
    return;
  }
  const store = new SqliteStore(join(directory, 'memories.sqlite'), {
    checkpointIntervalMs: 0,
    mmapBytes: 0,
  });
  // As the index holds it: int8 codes, the float32 vectors read from SQLite when scored.
  const arena = new VectorArena(dimension, (slot) => store.vectorOf(slot));
  const slots = new SlotTable();
  const payloads = new PayloadIndex();
  const keywords = new KeywordIndex();
  let count = 0;
  for (const row of store.loadAll()) {
    count++;
    if (part === 'arena') arena.setBytes(row.slot, row.vector);
    // `slots`: the slot table alone (its columns and dictionaries); `payload`: with the payload index.
    if (part === 'slots' || part === 'payload') {
      const payload = payloadFromRow(row);
      slots.ensure(row.slot);
      slots.set(row.slot, payload);
      if (part === 'payload') payloads.add(row.slot, payload);
    }
    if (part === 'keyword')
      keywords.set(row.slot, row.context ? `${row.text}\n${row.context}` : row.text);
  }
  await store.close();
  report(part, before, settled(), count);
  // Keeps the parts reachable until they are measured.
  if ([arena, slots, payloads, keywords].some((kept) => kept === undefined)) console.log('gone');
}

if (values.part !== undefined) await measure(values.part);
else {
  if (!existsSync(join(directory, 'memories.sqlite'))) await build();
  for (const part of values['build-only'] ? [] : values.parts.split(',')) {
    const child = spawnSync(
      process.execPath,
      [
        ...process.execArgv,
        fileURLToPath(import.meta.url),
        '--part',
        part,
        '--directory',
        directory,
        '--dimension',
        String(dimension),
      ],
      { stdio: 'inherit' },
    );
    if (child.status !== 0) throw new Error(`measuring ${part} failed with status ${child.status}`);
  }
}
