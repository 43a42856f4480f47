/**
 * membus benchmark: the real stack (nats-server + embedder + vector-store as processes,
 * embedded defaults, local embedder) measured through @membus/client.
 *
 *   pnpm bench                      # sizes 10k and 100k
 *   pnpm bench --quick              # a small run (< 2 min), as CI does
 *   pnpm bench --sizes 10000 --queries 1000
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startNatsServer } from '@membus/bus/testing';
import { repoRoot, startService } from '@membus/cli';
import { connect, type MemoryClient, type StoreInput } from '@membus/client';
import { rng, syntheticMemory, syntheticQuery } from './corpus.ts';
import { rssMb, summarize } from './stats.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    sizes: { type: 'string' },
    queries: { type: 'string' },
    users: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '8' },
  },
});
const quick = values.quick ?? false;
const sizes = (values.sizes ?? (quick ? '2000,10000' : '10000,100000')).split(',').map(Number);
const queryCount = Number(values.queries ?? (quick ? 200 : 1000));
const users = Number(values.users);
const inFlightBatches = Number(values.concurrency);
const BATCH = 500;

const log = (message: string) => process.stderr.write(`${message}\n`);

async function ingest(client: MemoryClient, from: number, to: number, random: () => number) {
  const started = performance.now();
  let next = from;
  let done = 0;
  let lastReport = started;
  const worker = async () => {
    while (next < to) {
      const start = next;
      const end = Math.min(to, start + BATCH);
      next = end;
      const batch: StoreInput[] = [];
      for (let index = start; index < end; index++) {
        const memory = syntheticMemory(random, index, users);
        batch.push({
          text: memory.text,
          userId: memory.userId,
          namespace: memory.namespace,
          categories: [memory.category],
          kind: 'episode',
        });
      }
      await client.storeMany(batch, { wait: 'queryable', timeoutMs: 600_000 });
      done += end - start;
      if (performance.now() - lastReport > 5_000) {
        lastReport = performance.now();
        const rate = (done / (lastReport - started)) * 1000;
        log(`  ingest ${from + done}/${to} (${Math.round(rate)}/s)`);
      }
    }
  };
  await Promise.all(Array.from({ length: inFlightBatches }, worker));
  const seconds = (performance.now() - started) / 1000;
  return { memories: to - from, seconds, perSecond: (to - from) / seconds };
}

/** Waits until the vector-store's ANN graph has absorbed every new memory (steady state). */
async function settled(metricsPort: number) {
  const started = performance.now();
  for (;;) {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const pending = Number(
      /membus_index_memories\{[^}]*state="pending"[^}]*\} (\d+)/.exec(text)?.[1] ?? 0,
    );
    if (pending === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  log(`  index settled after ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

async function queries(client: MemoryClient, random: () => number, filtered: boolean) {
  const samples: number[] = [];
  const serverSamples: number[] = [];
  for (let index = 0; index < queryCount; index++) {
    const text = syntheticQuery(random);
    const started = performance.now();
    const result = await client.query(text, {
      topK: 10,
      ...(filtered ? { filter: { userId: `user-${Math.floor(random() * users)}` } } : {}),
    });
    samples.push(performance.now() - started);
    serverSamples.push(result.tookMs);
  }
  return { client: summarize(samples), server: summarize(serverSamples) };
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'membus-bench-'));
  const nats = await startNatsServer();
  const env = { NATS_URL: nats.url, MEMBUS_DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
  const [embedder, vectorStore] = await Promise.all([
    startService('embedder', { env }),
    startService('vector-store', { env }),
  ]);
  const client = await connect({ servers: nats.url, tenant: 'bench', timeoutMs: 30_000 });
  const random = rng(42);
  const rows: Record<string, unknown>[] = [];
  let stored = 0;
  try {
    for (const size of sizes) {
      log(`size ${size}: ingesting ${size - stored} memories`);
      const ingested = await ingest(client, stored, size, random);
      stored = size;
      await settled(vectorStore.metricsPort);
      log(`size ${size}: ${queryCount} queries unfiltered, ${queryCount} filtered to 1 % (userId)`);
      // Warm-up: JIT and caches.
      await queries(client, rng(7), false);
      const unfiltered = await queries(client, rng(1), false);
      const filtered = await queries(client, rng(2), true);
      rows.push({
        size,
        ingestPerSecond: Math.round(ingested.perSecond),
        unfiltered,
        filtered,
        rssMb: {
          embedder: rssMb(embedder.process.pid),
          vectorStore: rssMb(vectorStore.process.pid),
        },
      });
    }
  } finally {
    await client.close();
    await Promise.all([embedder.stop(), vectorStore.stop()]);
    await nats.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }

  const fmt = (value: number) => value.toFixed(2);
  process.stdout.write(
    `\nmembus bench (${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version})\n` +
      '| memories | ingest/s (store→queryable) | query p50 / p95 / p99 ms | 1 % filter p50 / p95 / p99 ms | RSS embedder / vector-store MB |\n' +
      '|---:|---:|---|---|---|\n',
  );
  for (const row of rows as {
    size: number;
    ingestPerSecond: number;
    unfiltered: { client: { p50: number; p95: number; p99: number } };
    filtered: { client: { p50: number; p95: number; p99: number } };
    rssMb: { embedder?: number; vectorStore?: number };
  }[]) {
    const u = row.unfiltered.client;
    const f = row.filtered.client;
    process.stdout.write(
      `| ${row.size.toLocaleString('en')} | ${row.ingestPerSecond.toLocaleString('en')} | ${fmt(u.p50)} / ${fmt(u.p95)} / ${fmt(u.p99)} | ${fmt(f.p50)} / ${fmt(f.p95)} / ${fmt(f.p99)} | ${row.rssMb.embedder ?? '?'} / ${row.rssMb.vectorStore ?? '?'} |\n`,
    );
  }
  const directory = join(repoRoot, 'bench', 'results');
  mkdirSync(directory, { recursive: true });
  const file = join(
    directory,
    `${new Date().toISOString().replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.json`,
  );
  writeFileSync(
    file,
    JSON.stringify(
      {
        at: new Date().toISOString(),
        machine: { cores: cpus().length, memoryGiB: totalmem() / 2 ** 30, node: process.version },
        queryCount,
        rows,
      },
      null,
      2,
    ),
  );
  process.stdout.write(`\nresults: ${file}\n`);
}

await main();
