/**
 * membus benchmark: the real stack (nats-server + embedder + vector-store as processes,
 * embedded defaults, local embedder) measured through @membus/client. One script over 400 lines
 * on purpose: its phases share one stack, client and report, read top to bottom (each side
 * measurement lives in a module beside it: corpus, stats, mem0, ingest-ack, export-import).
 *
 *   pnpm bench                      # sizes 10k and 100k, mem0 side by side at 10k
 *   pnpm bench --quick              # a small run (< 2 min), as CI does
 *   pnpm bench --sizes 10000 --queries 1000 --mem0-size 0 --embedder-replicas 2
 *   pnpm bench --quick --profile-dir /tmp/prof   # + CPU profiles of the services
 *   pnpm bench --sizes 100000 --queries 300 --mem0-size 0 --rate-seconds 0 --keep-data \
 *     --vector-store-args=--max-semi-space-size=32   # other V8 flags; the data left to inspect
 *     --embedder-args=--trace-gc                      # node flags for the embedder(s) alone
 *   pnpm bench --quick --tenancy off   # no accounts: what the account hop costs
 *   pnpm bench --sizes 2000 --queries 50 --mem0-size 0 --rate-seconds 0 --ingest-ack
 *                                   # + the ack of an ingest vs a plain store (decision 010)
 *   pnpm bench --sizes 2000 --queries 50 --mem0-size 0 --rate-seconds 0 --export-import
 *                                   # + export and import throughput (memories/s)
 *   pnpm bench --sizes 100000 --queries 1000 --mem0-size 0 --rate-trace /tmp/stores.jsonl
 *                                   # + each store of the 1,000/s phase: [sent at, ms]
 *   pnpm bench --sizes 10000 --mem0-size 0 --rate-seconds 0 --embedder onnx
 *                                   # the sentence model (e5-small-v2 int8) instead of hashing
 *
 * Tenancy is on by default, as `membus start` runs the stack (decision 006, JWT mode, in a temp
 * tenancy directory): every service connects as its own user of the membus account and the
 * bench client as tenant `bench` from an account of its own, reaching membus through service
 * imports (one more hop inside nats-server per request and JetStream publish).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startNatsServer, unusedPort } from '@membus/bus/testing';
import { repoRoot, type ServiceName, type ServiceProcess, startService } from '@membus/cli';
import { connect, type MemoryClient, type StoreInput } from '@membus/client';
import { type Credentials, TenancyDirectory } from '@membus/tenancy';
import { rng, syntheticMemory, syntheticQuery } from './corpus.ts';
import { benchExportImport, type ExportImportResult } from './export-import.ts';
import { benchIngestAck, type IngestAckResult } from './ingest-ack.ts';
import { benchMem0, type Mem0Result } from './mem0.ts';
import { embedderOption, tenancyOption } from './options.ts';
import {
  cpuMs,
  eventLoopDelay,
  type GcTotals,
  gcBetween,
  gcTotals,
  histogramBuckets,
  meanBetween,
  type QuerySample,
  type ResidentSplit,
  residentSplit,
  rssMb,
  sharesAbove,
  slowest,
  summarize,
  v8Heap,
} from './stats.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    sizes: { type: 'string' },
    queries: { type: 'string' },
    users: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '8' },
    'mem0-size': { type: 'string' },
    rate: { type: 'string', default: '1000' },
    'rate-seconds': { type: 'string' },
    'embedder-replicas': { type: 'string', default: '1' },
    /** Directory for V8 CPU profiles of every service (written when the run ends). */
    'profile-dir': { type: 'string' },
    /** `on` (default): accounts as `membus start` runs them; `off`: no accounts. */
    tenancy: { type: 'string', default: 'on' },
    /** At the end: acks of ingest (extraction stage) vs plain stores, alternating. */
    'ingest-ack': { type: 'boolean', default: false },
    /** After the sizes: export every memory and import it into empty tenants (memories/s). */
    'export-import': { type: 'boolean', default: false },
    /** The embedder's provider: `local` (default, hashing) or `onnx` (the sentence model). */
    embedder: { type: 'string', default: 'local' },
    /** More node flags for the vector-store only (space-separated), e.g. V8 heap sizes to compare. */
    'vector-store-args': { type: 'string', default: '' },
    'embedder-args': { type: 'string', default: '' },
    /** Leaves the data directory in place (its path is printed) instead of deleting it. */
    'keep-data': { type: 'boolean', default: false },
    /**
     * Writes every store of the fixed-rate phase to this file as JSON lines `[sentAt, ms]` (wall
     * clock of the send in ms since the epoch, store → queryable ms; failed stores omitted): to
     * line slow stores up with other clocks (a process's stalls, nats-server's fsyncs).
     */
    'rate-trace': { type: 'string' },
  },
});
const quick = values.quick ?? false;
const sizes = (values.sizes ?? (quick ? '2000,10000' : '10000,100000')).split(',').map(Number);
const queryCount = Number(values.queries ?? (quick ? 200 : 1000));
const users = Number(values.users);
const inFlightBatches = Number(values.concurrency);
const BATCH = 500;
const mem0Size = Number(values['mem0-size'] ?? (quick ? 1000 : 10000));
const offeredRate = Number(values.rate);
const rateSeconds = Number(values['rate-seconds'] ?? (quick ? 3 : 10));
const embedderReplicas = Number(values['embedder-replicas']);
const profileDir = values['profile-dir'];
const nodeArgs = profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir];
const vectorStoreArgs = (values['vector-store-args'] ?? '').split(' ').filter(Boolean);
const embedderArgs = (values['embedder-args'] ?? '').split(' ').filter(Boolean);
const DIMENSION = 384;
const tenancyMode = tenancyOption(values.tenancy);
const embedderEnv = embedderOption(values.embedder);
/** The bench client's tenant (its own account with tenancy on). */
const TENANT = 'bench';
/** The empty tenants the export/import stage imports into. */
const IMPORT_TENANTS = ['bench-import-vectors', 'bench-import'] as const;

const log = (message: string) => process.stderr.write(`${message}\n`);

async function ingest(client: MemoryClient, from: number, to: number, random: () => number) {
  const cpuBefore = cpuNow();
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
  return {
    memories: to - from,
    seconds,
    perSecond: (to - from) / seconds,
    cpuUsPerMemory: cpuPer(cpuBefore, cpuNow(), to - from),
  };
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

async function queries(
  client: MemoryClient,
  random: () => number,
  filtered: boolean,
  mode: 'dense' | 'hybrid' = 'dense',
  count = queryCount,
) {
  const samples: QuerySample[] = [];
  const gcBefore = await vectorStoreGc();
  const cpuBefore = cpuNow();
  const setStarted = performance.now();
  for (let index = 0; index < count; index++) {
    const text = syntheticQuery(random);
    const started = performance.now();
    const result = await client.query(text, {
      topK: 10,
      mode,
      ...(filtered ? { filter: { userId: `user-${Math.floor(random() * users)}` } } : {}),
    });
    samples.push({
      atMs: started - setStarted,
      clientMs: performance.now() - started,
      serverMs: result.tookMs,
    });
  }
  const cpuUsPerQuery = cpuPer(cpuBefore, cpuNow(), count);
  const vectorStoreGcs = gcBetween(gcBefore, await vectorStoreGc());
  const rounded = (sample: QuerySample): QuerySample => ({
    atMs: Math.round(sample.atMs),
    clientMs: Number(sample.clientMs.toFixed(2)),
    serverMs: Number(sample.serverMs.toFixed(2)),
  });
  return {
    client: summarize(samples.map((sample) => sample.clientMs)),
    server: summarize(samples.map((sample) => sample.serverMs)),
    /** End to end minus the service's `tookMs`: the NATS round trip (and the client's work). */
    transport: summarize(samples.map((sample) => sample.clientMs - sample.serverMs)),
    cpuUsPerQuery,
    /** The vector-store's garbage collections during the set (a major one stops its loop). */
    vectorStoreGc: vectorStoreGcs,
    slowest: slowest(samples, 10).map(rounded),
  };
}

/** The processes whose CPU a query costs (set once they run). */
const watched: {
  natsServer?: number;
  embedder?: number;
  vectorStore?: number;
  vectorStoreMetricsPort?: number;
} = {};

/** The vector-store's garbage collections so far, from its /metrics (none before it runs). */
async function vectorStoreGc(): Promise<GcTotals> {
  return gcTotals(await vectorStoreMetrics());
}

/** The vector-store's /metrics text ('' before it runs); reading it resets its event-loop delay histogram. */
async function vectorStoreMetrics(): Promise<string> {
  if (watched.vectorStoreMetricsPort === undefined) return '';
  const response = await fetch(`http://127.0.0.1:${watched.vectorStoreMetricsPort}/metrics`);
  return response.text();
}

/** The vector-store's resident memory by kind and its main thread's V8 heap, MB. */
async function vectorStoreMemory(): Promise<{
  resident?: ResidentSplit;
  heap?: ReturnType<typeof v8Heap>;
}> {
  const resident = residentSplit(watched.vectorStore);
  if (watched.vectorStoreMetricsPort === undefined) return resident ? { resident } : {};
  const response = await fetch(`http://127.0.0.1:${watched.vectorStoreMetricsPort}/metrics`);
  return { ...(resident ? { resident } : {}), heap: v8Heap(await response.text()) };
}

/** CPU used so far by this process (the client) and the watched ones, ms. */
function cpuNow(): Record<string, number | undefined> {
  const own = process.cpuUsage();
  return {
    client: (own.user + own.system) / 1000,
    natsServer: cpuMs(watched.natsServer),
    embedder: cpuMs(watched.embedder),
    vectorStore: cpuMs(watched.vectorStore),
  };
}

/** CPU µs per operation by process between two {@link cpuNow} readings. */
function cpuPer(
  before: Record<string, number | undefined>,
  after: Record<string, number | undefined>,
  operations: number,
): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after).map(([name, ms]) => [
      name,
      Math.round((((ms ?? Number.NaN) - (before[name] ?? Number.NaN)) * 1000) / operations),
    ]),
  );
}

/** Stores one memory at a time at a fixed offered rate; latency = accepted → queryable notice. */
async function fixedRate(
  client: MemoryClient,
  rate: number,
  seconds: number,
  random: () => number,
) {
  const total = Math.round(rate * seconds);
  const latencies: number[] = [];
  /** Per stored memory: wall-clock ms of the send and its latency. */
  const trace: [sentAt: number, ms: number][] = [];
  /** Stores that failed (e.g. not queryable within the timeout), by error code. */
  const failed: Record<string, number> = {};
  const pending: Promise<void>[] = [];
  const started = performance.now();
  for (let index = 0; index < total; index++) {
    const due = started + (index * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const memory = syntheticMemory(random, 10_000_000 + index, users);
    const sent = performance.now();
    pending.push(
      client
        .store(
          {
            text: memory.text,
            userId: memory.userId,
            namespace: memory.namespace,
            kind: 'episode',
          },
          { wait: 'queryable', timeoutMs: 120_000 },
        )
        .then(
          () => {
            const ms = performance.now() - sent;
            latencies.push(ms);
            trace.push([Math.round(performance.timeOrigin + sent), Math.round(ms * 100) / 100]);
          },
          (error: { code?: string }) => {
            const code = error.code ?? 'ERROR';
            failed[code] = (failed[code] ?? 0) + 1;
          },
        ),
    );
  }
  await Promise.all(pending);
  const achieved = total / ((performance.now() - started) / 1000);
  if (values['rate-trace'] !== undefined)
    writeFileSync(
      values['rate-trace'],
      trace
        .sort((a, b) => a[0] - b[0])
        .map((entry) => `${JSON.stringify(entry)}\n`)
        .join(''),
    );
  return { offered: rate, achieved, latency: summarize(latencies), failed };
}

/** Every file under `path` with its size in bytes, by path relative to `path`. */
function fileSizes(path: string, prefix = ''): Record<string, number> {
  const sizes: Record<string, number> = {};
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) Object.assign(sizes, fileSizes(full, `${prefix}${entry.name}/`));
    else sizes[`${prefix}${entry.name}`] = statSync(full).size;
  }
  return sizes;
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'membus-bench-'));
  // Tenancy on: as `membus start` does, a JWT-mode directory with the tenant added before
  // nats-server starts with its config; each service connects with its own credentials.
  const tenancyDir =
    tenancyMode === 'on' ? mkdtempSync(join(tmpdir(), 'membus-bench-tenancy-')) : undefined;
  const tenancy = tenancyDir ? await TenancyDirectory.open(tenancyDir, { mode: 'jwt' }) : undefined;
  await tenancy?.addTenant(TENANT);
  if (values['export-import'])
    for (const tenant of IMPORT_TENANTS) await tenancy?.addTenant(tenant);
  const nats = await startNatsServer(tenancy ? { configFile: tenancy.configFile } : {});
  log(
    tenancy
      ? `tenancy on (JWT accounts in ${tenancyDir}): services as their own users, the client as tenant "${TENANT}"`
      : 'tenancy off: no accounts, no users',
  );
  const env = (service: ServiceName) => ({
    NATS_URL: nats.url,
    ...(tenancy?.serviceEnv(service) ?? {}),
    MEMBUS_DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
  });
  const embeddingsPort = await unusedPort();
  /** Every service started so far: stopped when the run ends, also when a start fails. */
  const services: ServiceProcess[] = [];
  let client: MemoryClient | undefined;
  const random = rng(42);
  const rows: Record<string, unknown>[] = [];
  let stored = 0;
  let rateResult:
    | (Awaited<ReturnType<typeof fixedRate>> & {
        vectorStore: {
          eventLoopDelay: ReturnType<typeof eventLoopDelay>;
          gc: GcTotals;
          afterEmbedder: ReturnType<typeof sharesAbove>;
          writeBatch: number;
        };
      })
    | undefined;
  let mem0: Mem0Result | undefined;
  let ingestAck: IngestAckResult | undefined;
  let exportImport: ExportImportResult | undefined;
  let bytesPerMemory = 0;
  let diskFiles: Record<string, number> = {};
  let violations: string[] = [];
  try {
    const started = await Promise.allSettled(
      Array.from({ length: embedderReplicas }, (_, replica) =>
        startService('embedder', {
          env:
            replica === 0
              ? {
                  ...env('embedder'),
                  ...embedderEnv,
                  EMBEDDINGS_HTTP_PORT: String(embeddingsPort),
                }
              : { ...env('embedder'), ...embedderEnv },
          label: `embedder-${replica}`,
          nodeArgs: [...nodeArgs, ...embedderArgs],
        }),
      ),
    );
    for (const result of started) if (result.status === 'fulfilled') services.push(result.value);
    for (const result of started) if (result.status === 'rejected') throw result.reason;
    const embedder = services[0] as ServiceProcess;
    const vectorStore = await startService('vector-store', {
      env: env('vector-store'),
      nodeArgs: [...nodeArgs, ...vectorStoreArgs],
    });
    services.push(vectorStore);
    watched.natsServer = nats.pid;
    watched.embedder = embedder.process.pid;
    watched.vectorStore = vectorStore.process.pid;
    watched.vectorStoreMetricsPort = vectorStore.metricsPort;
    const credentials: Credentials | Record<string, never> = tenancy?.agent(TENANT) ?? {};
    client = await connect({
      servers: nats.url,
      tenant: TENANT,
      timeoutMs: 30_000,
      ...credentials,
    });
    for (const size of sizes) {
      log(`size ${size}: ingesting ${size - stored} memories`);
      const ingested = await ingest(client, stored, size, random);
      stored = size;
      await settled(vectorStore.metricsPort);
      log(`size ${size}: ${queryCount} queries unfiltered, ${queryCount} filtered to 1 % (userId)`);
      // Warm-up of every kind of query measured below (JIT, caches), on other query seeds: a
      // service that has run for a while has compiled all of these paths.
      const warmUp = Math.max(50, Math.round(queryCount / 4));
      for (const [seed, filtered, mode] of [
        [7, false, 'dense'],
        [8, true, 'dense'],
        [7, false, 'hybrid'],
        [8, true, 'hybrid'],
      ] as const)
        await queries(client, rng(seed), filtered, mode, warmUp);
      const unfiltered = await queries(client, rng(1), false);
      const filtered = await queries(client, rng(2), true);
      const hybrid = await queries(client, rng(1), false, 'hybrid');
      const hybridFiltered = await queries(client, rng(2), true, 'hybrid');
      rows.push({
        size,
        ingestPerSecond: Math.round(ingested.perSecond),
        ingestCpuUsPerMemory: ingested.cpuUsPerMemory,
        unfiltered,
        filtered,
        hybrid,
        hybridFiltered,
        rssMb: {
          embedder: rssMb(embedder.process.pid),
          vectorStore: rssMb(vectorStore.process.pid),
        },
        vectorStoreMemory: await vectorStoreMemory(),
      });
    }
    diskFiles = fileSizes(join(dataDir, 'vector-store'));
    bytesPerMemory =
      Object.values(diskFiles).reduce((sum, bytes) => sum + bytes, 0) / Math.max(1, stored);
    if (values['export-import']) {
      log(`export / import of ${stored} memories`);
      const [withVectors, plain] = await Promise.all(
        IMPORT_TENANTS.map(async (tenant) =>
          connect({
            servers: nats.url,
            tenant,
            timeoutMs: 30_000,
            ...((tenancy?.agent(tenant) as Credentials | undefined) ?? {}),
          }),
        ),
      );
      try {
        exportImport = await benchExportImport(
          client,
          withVectors as MemoryClient,
          plain as MemoryClient,
          log,
        );
      } finally {
        await Promise.all([withVectors?.close(), plain?.close()]);
      }
    }
    if (rateSeconds > 0) {
      log(`store → queryable at ${offeredRate}/s offered for ${rateSeconds} s`);
      // The vector-store's event loop and collections during the stores: a stall there is a
      // store → queryable tail.
      const before = await vectorStoreMetrics();
      const result = await fixedRate(client, offeredRate, rateSeconds, rng(9));
      const after = await vectorStoreMetrics();
      const histogram = (name: string) =>
        sharesAbove(
          histogramBuckets(before, name),
          histogramBuckets(after, name),
          [0.025, 0.05, 0.1],
        );
      rateResult = {
        ...result,
        vectorStore: {
          eventLoopDelay: eventLoopDelay(after),
          gc: gcBetween(gcTotals(before), gcTotals(after)),
          // Its own part of the tail: from the embedder accepting a store to it being written.
          afterEmbedder: histogram('membus_store_to_queryable_seconds'),
          writeBatch: meanBetween(before, after, 'membus_store_write_batch_size'),
        },
      };
    }
    if (mem0Size > 0) {
      log(
        `mem0 OSS: ${mem0Size} adds (infer: false, SQLite file store), ${queryCount} searches filtered by userId`,
      );
      mem0 = await benchMem0({
        embeddingsUrl: `http://127.0.0.1:${embeddingsPort}/v1`,
        size: mem0Size,
        // mem0 scans every memory per search (~0.35 s at 10k): fewer searches keep runs short.
        queries: Math.min(queryCount, 200),
        users,
        dimension: DIMENSION,
        log,
      });
    }
    if (values['ingest-ack']) {
      log('ack of ingest vs store: 500 of each, alternating');
      ingestAck = await benchIngestAck(client, 500);
    }
  } finally {
    await client?.close();
    await Promise.all(services.map((service) => service.stop()));
    // A permission refused to a service or the client would skew the run (timeouts, retries).
    violations = [...nats.violations];
    await nats.stop();
    if (values['keep-data']) log(`data kept in ${dataDir}`);
    else rmSync(dataDir, { recursive: true, force: true });
    if (tenancyDir) rmSync(tenancyDir, { recursive: true, force: true });
  }
  if (violations.length > 0) {
    log(`nats-server logged ${violations.length} permission violation(s):`);
    for (const line of violations.slice(0, 10)) log(`  ${line}`);
  }

  const fmt = (value: number) => value.toFixed(2);
  process.stdout.write(
    `\nmembus bench (tenancy ${tenancyMode}; embedder ${embedderEnv.EMBEDDING_PROVIDER}, ${embedderReplicas} replica(s); ${vectorStoreArgs.length > 0 ? `vector-store ${vectorStoreArgs.join(' ')}; ` : ''}${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version})\n` +
      '| memories | ingest/s (store→queryable) | dense p50 / p95 / p99 ms | dense, 1 % filter | hybrid | hybrid, 1 % filter | RSS embedder / vector-store MB |\n' +
      '|---:|---:|---|---|---|---|---|\n',
  );
  for (const row of rows as {
    size: number;
    ingestPerSecond: number;
    unfiltered: { client: { p50: number; p95: number; p99: number } };
    filtered: { client: { p50: number; p95: number; p99: number } };
    hybrid: { client: { p50: number; p95: number; p99: number } };
    hybridFiltered: { client: { p50: number; p95: number; p99: number } };
    rssMb: { embedder?: number; vectorStore?: number };
  }[]) {
    const cell = (summary: { p50: number; p95: number; p99: number }) =>
      `${fmt(summary.p50)} / ${fmt(summary.p95)} / ${fmt(summary.p99)}`;
    process.stdout.write(
      `| ${row.size.toLocaleString('en')} | ${row.ingestPerSecond.toLocaleString('en')} | ${cell(row.unfiltered.client)} | ${cell(row.filtered.client)} | ${cell(row.hybrid.client)} | ${cell(row.hybridFiltered.client)} | ${row.rssMb.embedder ?? '?'} / ${row.rssMb.vectorStore ?? '?'} |\n`,
    );
  }
  for (const row of rows as {
    size: number;
    unfiltered: { vectorStoreGc: GcTotals };
    filtered: { vectorStoreGc: GcTotals };
    hybrid: { vectorStoreGc: GcTotals };
    hybridFiltered: { vectorStoreGc: GcTotals };
  }[]) {
    const sets = [row.unfiltered, row.filtered, row.hybrid, row.hybridFiltered];
    const kind = (name: string) => {
      const count = sets.reduce((sum, set) => sum + (set.vectorStoreGc[name]?.count ?? 0), 0);
      const ms = sets.reduce((sum, set) => sum + (set.vectorStoreGc[name]?.ms ?? 0), 0);
      return `${name} ${count} (${ms.toFixed(0)} ms)`;
    };
    process.stdout.write(
      `\nvector-store GC during the ${(4 * queryCount).toLocaleString('en')} queries at ${row.size.toLocaleString('en')}: ${kind('major')}, ${kind('minor')}, ${kind('incremental')}`,
    );
  }
  for (const row of rows as {
    size: number;
    ingestCpuUsPerMemory: Record<string, number>;
    unfiltered: { cpuUsPerQuery: Record<string, number>; transport: { p50: number; p99: number } };
    hybrid: { cpuUsPerQuery: Record<string, number>; transport: { p50: number; p99: number } };
  }[]) {
    const cpu = (perQuery: Record<string, number>) =>
      `client ${perQuery.client}, nats-server ${perQuery.natsServer}, embedder ${perQuery.embedder}, vector-store ${perQuery.vectorStore}`;
    const transport = (summary: { p50: number; p99: number }) =>
      `${fmt(summary.p50)} / ${fmt(summary.p99)}`;
    process.stdout.write(
      `\nCPU µs per memory ingested up to ${row.size.toLocaleString('en')}: ${cpu(row.ingestCpuUsPerMemory)}` +
        `\nCPU µs per query at ${row.size.toLocaleString('en')}: dense: ${cpu(row.unfiltered.cpuUsPerQuery)}; hybrid: ${cpu(row.hybrid.cpuUsPerQuery)}` +
        `\nend to end minus the service's tookMs (the NATS round trip), p50 / p99 ms: dense ${transport(row.unfiltered.transport)}, hybrid ${transport(row.hybrid.transport)}`,
    );
  }
  process.stdout.write('\n');
  if (rateResult) {
    const l = rateResult.latency;
    process.stdout.write(
      `\nstore → queryable at ${rateResult.offered}/s offered (${Math.round(rateResult.achieved)}/s achieved): ` +
        `p50 ${fmt(l.p50)} ms, p99 ${fmt(l.p99)} ms` +
        (Object.keys(rateResult.failed).length > 0
          ? `; failed: ${JSON.stringify(rateResult.failed)}`
          : '') +
        `\n  vector-store meanwhile: event-loop delay max ${fmt(rateResult.vectorStore.eventLoopDelay?.max ?? Number.NaN)} ms, p99 ${fmt(rateResult.vectorStore.eventLoopDelay?.p99 ?? Number.NaN)} ms; GC ${Object.entries(
          rateResult.vectorStore.gc,
        )
          .filter(([, { count }]) => count > 0)
          .map(([kind, { count, ms }]) => `${kind} ${count} (${ms} ms)`)
          .join(', ')}` +
        `\n  embedder accepted → written (vector-store's histogram): over 25 / 50 / 100 ms ${[
          '0.025',
          '0.05',
          '0.1',
        ]
          .map(
            (bound) =>
              `${(100 * (rateResult?.vectorStore.afterEmbedder.above[bound] ?? 0)).toFixed(1)} %`,
          )
          .join(
            ' / ',
          )} of ${rateResult.vectorStore.afterEmbedder.count}; ${fmt(rateResult.vectorStore.writeBatch)} memories per write on average` +
        '\n',
    );
  }
  for (const row of rows as {
    size: number;
    vectorStoreMemory: { resident?: ResidentSplit; heap?: ReturnType<typeof v8Heap> };
  }[]) {
    const { resident, heap } = row.vectorStoreMemory;
    if (resident === undefined) continue;
    const files = Object.entries(resident.files)
      .map(([name, mb]) => `${name} ${mb}`)
      .join(', ');
    process.stdout.write(
      `vector-store RSS at ${row.size.toLocaleString('en')}, MB: ${resident.rss} = anonymous ${resident.anonymous} ` +
        `(huge pages ${resident.hugePages}; malloc main heap ${resident.brkHeap}, ${resident.mallocArenas.count} other arenas ${resident.mallocArenas.mb}, ` +
        `rest ${resident.otherAnonymous}) + files (${files}); ${resident.threads} threads` +
        (heap
          ? `; main V8 heap used ${heap.used} of ${heap.total}, external ${heap.external}`
          : '') +
        '\n',
    );
  }
  const megabytes = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
  process.stdout.write(
    `disk: ${((bytesPerMemory * 100_000) / 2 ** 20).toFixed(0)} MB per 100k memories (vector-store data, MB: ${Object.entries(
      diskFiles,
    )
      .filter(([, bytes]) => bytes >= 2 ** 20)
      .sort((a, b) => b[1] - a[1])
      .map(([name, bytes]) => `${name} ${megabytes(bytes)}`)
      .join(', ')})\n`,
  );
  if (exportImport)
    process.stdout.write(
      `export / import of ${exportImport.memories.toLocaleString('en')} memories (memories/s): export ${exportImport.exportPerSecond}, ` +
        `with vectors and history ${exportImport.exportWithVectorsPerSecond}; import with vectors ${exportImport.importWithVectorsPerSecond}, ` +
        `without (embedded) ${exportImport.importPerSecond}; failed ${exportImport.failed}\n`,
    );
  let comparison: { searchP50Ratio: number; ingestRatio: number } | undefined;
  if (mem0) {
    const ours = (
      rows as { size: number; ingestPerSecond: number; filtered: { client: { p50: number } } }[]
    )
      .filter((row) => row.size >= mem0.size)
      .at(0);
    process.stdout.write(
      `\nmem0 OSS at ${mem0.size.toLocaleString('en')} memories: add ${Math.round(mem0.addPerSecond)}/s ` +
        `(p50 ${fmt(mem0.add.p50)} ms, p99 ${fmt(mem0.add.p99)} ms); userId-filtered search p50 ${fmt(mem0.filteredSearch.p50)} ms, ` +
        `p99 ${fmt(mem0.filteredSearch.p99)} ms\n`,
    );
    if (ours) {
      comparison = {
        searchP50Ratio: mem0.filteredSearch.p50 / ours.filtered.client.p50,
        ingestRatio: ours.ingestPerSecond / mem0.addPerSecond,
      };
      process.stdout.write(
        `membus vs mem0 (membus at ${ours.size.toLocaleString('en')}): filtered search p50 ${comparison.searchP50Ratio.toFixed(0)}× faster, ` +
          `ingest ${comparison.ingestRatio.toFixed(1)}× the throughput\n`,
      );
    }
  }
  if (ingestAck)
    process.stdout.write(
      `\nack p50 / p99 ms (${ingestAck.count} each): ingest ${fmt(ingestAck.ingest.p50)} / ${fmt(ingestAck.ingest.p99)}, ` +
        `store ${fmt(ingestAck.store.p50)} / ${fmt(ingestAck.store.p99)}\n`,
    );
  const directory = join(repoRoot, 'bench', 'results');
  mkdirSync(directory, { recursive: true });
  const file = join(
    directory,
    `${new Date().toISOString().replace(/[:.]/g, '-')}${quick ? '-quick' : ''}-tenancy-${tenancyMode}${embedderEnv.EMBEDDING_PROVIDER === 'onnx' ? '-onnx' : ''}.json`,
  );
  writeFileSync(
    file,
    JSON.stringify(
      {
        at: new Date().toISOString(),
        machine: { cores: cpus().length, memoryGiB: totalmem() / 2 ** 30, node: process.version },
        /** `on`: JWT accounts as `membus start` runs them (client in its own account); `off`: none. */
        tenancy: tenancyMode,
        /** The embedder's provider: `local` (hashing) or `onnx` (the sentence model). */
        embedder: embedderEnv.EMBEDDING_PROVIDER,
        embedderReplicas,
        vectorStoreArgs,
        queryCount,
        rows,
        storeToQueryable: rateResult
          ? {
              offered: rateResult.offered,
              achieved: Math.round(rateResult.achieved),
              latency: rateResult.latency,
              failed: rateResult.failed,
              vectorStore: rateResult.vectorStore,
            }
          : undefined,
        bytesPerMemory: Math.round(bytesPerMemory),
        /** The vector-store's data directory at the end of the sizes, bytes by file. */
        diskFiles,
        mem0: mem0 ? { ...mem0, comparison } : undefined,
        ingestAck,
        exportImport,
        permissionViolations: violations.length,
      },
      null,
      2,
    ),
  );
  process.stdout.write(`\nresults: ${file}\n`);
}

await main();
