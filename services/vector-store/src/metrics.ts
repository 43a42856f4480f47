import type { BusObserver } from '@membus/bus';
import { type Kind, kindValues, type Tier, tierValues } from '@membus/contracts';
import { createMessageMetrics, MessageMetricNames } from '@membus/telemetry';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Every metric the vector-store exports (names are the contract with the dashboards). */
export const VectorStoreMetricNames = {
  ...MessageMetricNames,
  querySeconds: 'membus_query_seconds',
  queryEmbeddings: 'membus_query_embeddings_total',
  ingested: 'membus_memories_ingested_total',
  pipelineSeconds: 'membus_store_to_queryable_seconds',
  writeBatch: 'membus_store_write_batch_size',
  indexMemories: 'membus_index_memories',
  memories: 'membus_memories',
  graphRebuilds: 'membus_index_graph_rebuilds_total',
  storageErrors: 'membus_storage_errors_total',
  diskFull: 'membus_storage_disk_full',
} as const;

/** What the index reports about itself, read at scrape time. */
export interface IndexStatusSource {
  status(): { count: number; tail: number; graphRebuilds?: Readonly<Record<string, number>> };
  /** Every tenant's live memories for every (tier, kind), zeros included. */
  memoryCounts(): readonly { tenant: string; tier: Tier; kind: Kind; count: number }[];
}

/** Storage write failures as the service counts them, read at scrape time. */
export interface StorageHealthSource {
  /** Failed storage operations so far by reason. */
  failures(): ReadonlyMap<string, number>;
  /** From a disk-full failure until the next successful write. */
  readonly diskFull: boolean;
}

export interface VectorStoreMetricsOptions {
  /** Split `membus_memories` by tenant (`METRICS_TENANT_LABEL`). */
  tenantLabel?: boolean;
  /** Storage failures (`membus_storage_*`); every reason is reported, zeros included. */
  storage?: { source: StorageHealthSource; reasons: readonly string[] };
}

export function createVectorStoreMetrics(
  registry: Registry,
  index?: IndexStatusSource,
  options: VectorStoreMetricsOptions = {},
) {
  const tenantLabel = options.tenantLabel ?? false;
  const querySeconds = new Histogram({
    name: VectorStoreMetricNames.querySeconds,
    help: 'Query time inside the vector-store, by retrieval mode (dense) and index plan',
    labelNames: ['mode', 'plan'],
    buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const queryEmbeddings = new Counter({
    name: VectorStoreMetricNames.queryEmbeddings,
    help: 'Query vectors by source: local (computed in process, the embedder runs the local model) or embedder',
    labelNames: ['source'],
    registers: [registry],
  });
  const ingested = new Counter({
    name: VectorStoreMetricNames.ingested,
    help: 'Store requests applied, by result (stored, duplicate)',
    labelNames: ['result'],
    registers: [registry],
  });
  const pipelineSeconds = new Histogram({
    name: VectorStoreMetricNames.pipelineSeconds,
    help: 'From the embedder accepting a store to the memory being queryable',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
    registers: [registry],
  });
  const writeBatch = new Histogram({
    name: VectorStoreMetricNames.writeBatch,
    help: 'Memories per index write',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
    registers: [registry],
  });
  new Gauge({
    name: VectorStoreMetricNames.indexMemories,
    help: 'Live memories in the index by state: indexed (in the ANN graph) or pending (scanned exactly until indexed)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      if (!index) return;
      const { count, tail } = index.status();
      this.set({ state: 'indexed' }, count - tail);
      this.set({ state: 'pending' }, tail);
    },
  });
  new Gauge({
    name: VectorStoreMetricNames.memories,
    help: 'Live memories in the embedded index by tier and kind (expired ones not yet swept included)',
    labelNames: tenantLabel ? ['tenant', 'tier', 'kind'] : ['tier', 'kind'],
    registers: [registry],
    collect() {
      if (!index) return;
      // Tenants come and go: start from nothing so a deleted tenant leaves no series behind.
      this.reset();
      if (tenantLabel) {
        for (const { tenant, tier, kind, count } of index.memoryCounts())
          this.set({ tenant, tier, kind }, count);
        return;
      }
      for (const tier of tierValues) for (const kind of kindValues) this.set({ tier, kind }, 0);
      for (const { tier, kind, count } of index.memoryCounts()) this.inc({ tier, kind }, count);
    },
  });
  new Counter({
    name: VectorStoreMetricNames.graphRebuilds,
    help: 'Times the embedded HNSW graph was rebuilt from SQLite at start instead of loaded, by reason: missing (no graph saved), damaged (the file failed its checks), mismatch (not built from this SQLite), parameters (M or efConstruction changed)',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      const rebuilds = index?.status().graphRebuilds;
      if (rebuilds === undefined) return;
      this.reset();
      for (const [reason, count] of Object.entries(rebuilds)) this.inc({ reason }, count);
    },
  });
  const storage = options.storage;
  new Counter({
    name: VectorStoreMetricNames.storageErrors,
    help: 'Storage operations (writes of memories, history, access counts) that failed, by reason: disk_full, corrupt, io, busy, read_only, other',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      if (storage === undefined) return;
      this.reset();
      const failures = storage.source.failures();
      for (const reason of storage.reasons) this.inc({ reason }, failures.get(reason) ?? 0);
    },
  });
  new Gauge({
    name: VectorStoreMetricNames.diskFull,
    help: '1 from a write that failed because the disk is full (SQLITE_FULL, ENOSPC) until the next successful write; stores wait in JetStream meanwhile',
    registers: [registry],
    collect() {
      this.set(storage?.source.diskFull ? 1 : 0);
    },
  });
  const observer: BusObserver = createMessageMetrics(registry);
  return { querySeconds, queryEmbeddings, ingested, pipelineSeconds, writeBatch, observer };
}

export type VectorStoreMetrics = ReturnType<typeof createVectorStoreMetrics>;
