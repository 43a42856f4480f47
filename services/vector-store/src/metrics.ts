import type { BusObserver } from '@membus/bus';
import { type Kind, kindValues, type Tier, tierValues } from '@membus/contracts';
import {
  counter,
  createMessageMetrics,
  defineMetrics,
  gauge,
  histogram,
  registerMetrics,
} from '@membus/telemetry';
import type { Registry } from 'prom-client';

/** Every metric the vector-store declares besides the message metrics. */
// biome-ignore format: a metric a line
const vectorStoreMetrics = defineMetrics({
  querySeconds: histogram('membus_query_seconds', 'Query time inside the vector-store, by retrieval mode (dense) and index plan', [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], ['mode', 'plan']),
  queryEmbeddings: counter('membus_query_embeddings_total', 'Query vectors by source: local (computed in process, the embedder runs the local model) or embedder', ['source']),
  ingested: counter('membus_memories_ingested_total', 'Store requests applied, by result (stored, duplicate)', ['result']),
  pipelineSeconds: histogram('membus_store_to_queryable_seconds', 'From the embedder accepting a store to the memory being queryable', [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30]),
  writeBatch: histogram('membus_store_write_batch_size', 'Memories per index write', [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]),
  indexMemories: gauge('membus_index_memories', 'Live memories in the index by state: indexed (in the ANN graph) or pending (scanned exactly until indexed)', ['state']),
  // Without `METRICS_TENANT_LABEL` the tenant label is left out (see createVectorStoreMetrics).
  memories: gauge('membus_memories', 'Live memories in the embedded index by tier and kind (expired ones not yet swept included)', ['tenant', 'tier', 'kind']),
  graphRebuilds: counter('membus_index_graph_rebuilds_total', 'Times the embedded HNSW graph was rebuilt from SQLite at start instead of loaded, by reason: missing (no graph saved), damaged (the file failed its checks), mismatch (not built from this SQLite), parameters (connectivity or expansion_add changed, or a graph saved by hnswlib before 2026-12-06)', ['reason']),
  indexOpenSeconds: gauge('membus_index_open_seconds', 'Seconds the last start took to build the embedded index in memory (before its graph was loaded), by source: snapshot (the last close was clean and left one) or rows (every row read again: a first start, or after a crash or a kill)', ['from']),
  storageErrors: counter('membus_storage_errors_total', 'Storage operations (writes of memories, history, access counts) that failed, by reason: disk_full, corrupt, io, busy, read_only, other', ['reason']),
  watchFeeds: gauge('membus_watch_feeds', 'Change feeds (memory.watch relays) running on this replica'),
  watchMessages: counter('membus_watch_messages_total', 'Messages the change feeds sent, by type (event, heartbeat)', ['type']),
  reembedded: counter('membus_reembedded_total', 'Memories written into a new model\'s index by re-embedding runs (decision 011)'),
  reembedChanges: counter('membus_reembed_changes_total', 'Re-embedding runs by change: started, switched (queries moved to the new model), cancelled, dropped (a tenant\'s memories left an index)', ['change']),
  diskFull: gauge('membus_storage_disk_full', '1 from a write that failed because the disk is full (SQLITE_FULL, ENOSPC) until the next successful write; stores wait in JetStream meanwhile'),
});

/** Every metric the vector-store exports (names are the contract with the dashboards). */
export const VectorStoreMetricNames = vectorStoreMetrics.names;

/** What the index reports about itself, read at scrape time. */
export interface IndexStatusSource {
  status(): {
    count: number;
    tail: number;
    graphRebuilds?: Readonly<Record<string, number>>;
    opened?: { from: string; ms: number };
  };
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
  const storage = options.storage;
  const { table } = vectorStoreMetrics;
  const declared = tenantLabel
    ? table
    : {
        ...table,
        memories: { ...table.memories, labels: ['tier', 'kind'] as const },
      };
  const metrics = registerMetrics(registry, declared, {
    indexMemories(gauge) {
      if (!index) return;
      const { count, tail } = index.status();
      gauge.set({ state: 'indexed' }, count - tail);
      gauge.set({ state: 'pending' }, tail);
    },
    memories(gauge) {
      if (!index) return;
      // Tenants come and go: start from nothing so a deleted tenant leaves no series behind.
      gauge.reset();
      if (tenantLabel) {
        for (const { tenant, tier, kind, count } of index.memoryCounts())
          gauge.set({ tenant, tier, kind }, count);
        return;
      }
      for (const tier of tierValues) for (const kind of kindValues) gauge.set({ tier, kind }, 0);
      for (const { tier, kind, count } of index.memoryCounts()) gauge.inc({ tier, kind }, count);
    },
    graphRebuilds(counter) {
      const rebuilds = index?.status().graphRebuilds;
      if (rebuilds === undefined) return;
      counter.reset();
      for (const [reason, count] of Object.entries(rebuilds)) counter.inc({ reason }, count);
    },
    indexOpenSeconds(gauge) {
      const opened = index?.status().opened;
      if (opened === undefined) return;
      gauge.reset();
      gauge.set({ from: opened.from }, opened.ms / 1000);
    },
    storageErrors(counter) {
      if (storage === undefined) return;
      counter.reset();
      const failures = storage.source.failures();
      for (const reason of storage.reasons) counter.inc({ reason }, failures.get(reason) ?? 0);
    },
    diskFull(gauge) {
      gauge.set(storage?.source.diskFull ? 1 : 0);
    },
  });
  const observer: BusObserver = createMessageMetrics(registry);
  const { querySeconds, queryEmbeddings, ingested, pipelineSeconds, writeBatch } = metrics;
  const { watchFeeds, watchMessages, reembedded, reembedChanges } = metrics;
  return {
    querySeconds,
    queryEmbeddings,
    ingested,
    pipelineSeconds,
    writeBatch,
    watchFeeds,
    watchMessages,
    reembedded,
    reembedChanges,
    observer,
  };
}

export type VectorStoreMetrics = ReturnType<typeof createVectorStoreMetrics>;
