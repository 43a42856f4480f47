import type { Kind, Tier } from '@membus/contracts';
import type { VectorIndex } from '@membus/vector-index';
import type { HnswOptions, RebuildReason } from './hnsw-graph.ts';

export interface EmbeddedVectorIndexOptions {
  /** Directory for the SQLite file and the graph files (created if missing). */
  directory: string;
  /** Vector dimension; an existing store with another dimension is refused. */
  dimension: number;
  /**
   * Searches whose candidate set (from the indexed equality constraints) has at most this many
   * memories are always answered by an exact scan (~1 µs per candidate at 384 dimensions).
   * Default 2,000.
   */
  exactScanThreshold?: number;
  /**
   * Cost model above the threshold: an exact scan costs ~C (candidates), a filtered graph
   * search ~ratio × N / C (it visits ~1/selectivity nodes per result), so the scan is chosen
   * while C² ≤ ratio × N. Default 2,000 (600 until the scan's int8 estimates used SIMD,
   * 2026-12-06: a 10 % filter at 100k, 10k candidates, scans in 1.9 ms p50 against the graph's
   * 5.8; at 1M the scan is chosen up to ~45k candidates). 0 disables the model (only the
   * threshold decides).
   */
  annCostRatio?: number;
  /** HNSW parameters (usearch connectivity, expansion_add, expansion_search). Defaults: m 32, efConstruction 128, efSearch 64. */
  hnsw?: Partial<HnswOptions>;
  /**
   * The graph is built off the event loop (the graph addon: usearch's threads add a batch of
   * the tail while the loop serves writes and queries). These two apply where the addon is
   * missing (usearch's own binding): the longest stretch, ms, that the indexer then holds the
   * loop, while writes come (default 1) and once idle (default 4).
   */
  indexSliceMs?: number;
  idleIndexSliceMs?: number;
  /**
   * After this long without a write, ms, the indexer adds larger batches (512 points, the graph
   * settles sooner after a burst of stores); before, batches of 128. One usearch thread either
   * way (graph-maintainer.ts: its concurrent adds strand nodes). Default 1,000.
   */
  idleAfterMs?: number;
  /**
   * Hybrid fusion weight: relevance = alpha · min-max normalised cosine + (1 − alpha) · BM25 / best BM25.
   * Default 0.5 (tuned on the retrieval eval; see eval/README.md).
   */
  hybridAlpha?: number;
  /**
   * Save the graph in the background after this many graph changes, or a quarter of the graph's
   * points if more (each save rewrites the whole file). Default 20,000.
   */
  saveEveryChanges?: number;
  /**
   * A due graph save waits until no memory was written for this long, ms (the file write
   * blocks the event loop: ~60 ms at 100k), unless the changes reach 4 × saveEveryChanges.
   * Default 1,000.
   */
  saveQuietMs?: number;
  /** Passive WAL checkpoint interval in a worker thread, ms; 0 = SQLite auto-checkpoints. Default 1,000. */
  checkpointIntervalMs?: number;
  /** SQLite `mmap_size`, bytes. Default 0: only point reads hit SQLite after load, and mapped pages inflate RSS. */
  mmapBytes?: number;
  /**
   * Hears when the graph is rebuilt from SQLite instead of loaded (and why), and when that
   * rebuild is done. Called during `openEmbeddedVectorIndex` for the start.
   */
  onGraphEvent?: (event: GraphEvent) => void;
}

/** A graph rebuild from SQLite: started at open (with what was found), then finished. */
export type GraphEvent =
  | { type: 'rebuild-started'; reason: RebuildReason; problem: string; memories: number }
  | {
      type: 'rebuild-finished';
      reason: RebuildReason;
      problem: string;
      memories: number;
      /** From the decision to rebuild (after the rows were loaded) to the last memory in the graph. */
      seconds: number;
    };

/** Graph and tail state, for tests, benchmarks and metrics. */
export interface EmbeddedIndexStatus {
  /** Live memories. */
  count: number;
  /** Memories searchable through the graph. */
  indexed: number;
  /** Memories waiting for the background indexer (scanned exactly meanwhile). */
  tail: number;
  /** A background graph save is running. */
  saving: boolean;
  /** Last background failure (indexing or saving), if any. */
  lastError?: string;
  /**
   * The HNSW parameters in use: `m` and `efConstruction` the graph is built with (a graph saved
   * with others is rebuilt), `efSearch` each search's (any value, at any open).
   */
  hnsw: HnswOptions;
  /** Graph rebuilds from SQLite since the index was opened, by reason (zeros included). */
  graphRebuilds: Record<RebuildReason, number>;
  /**
   * How the open built the in-memory structures: from the snapshot of the last clean close
   * (payload columns read, keyword index and codes restored), or from every row; with why no
   * snapshot was used, and how long it took (before the graph was loaded).
   */
  opened: { from: 'snapshot' | 'rows'; reason?: string; ms: number };
}

/** Live memories of one tenant with one tier and kind. */
export interface MemoryCount {
  tenant: string;
  tier: Tier;
  kind: Kind;
  /** Includes memories past their expiry that no sweep deleted yet (`stats` leaves them out). */
  count: number;
}

export interface EmbeddedVectorIndex extends VectorIndex {
  /** Resolves when every memory is in the graph (the tail is empty). */
  whenIndexed(): Promise<void>;
  /** Writes the graph now (waits for a running save first). */
  saveGraph(): Promise<void>;
  newestEmbeddingModel(): Promise<string | undefined>;
  status(): EmbeddedIndexStatus;
  /**
   * Every tenant's memories by tier and kind, zeros included, from the in-memory payload
   * index: counters kept on every write, no scan (for metrics scrapes).
   */
  memoryCounts(): MemoryCount[];
  /**
   * Flushes and releases resources. `persistGraph: false` skips writing the graph (as after a
   * crash), so the next open catches up from SQLite.
   */
  close(options?: { persistGraph?: boolean }): Promise<void>;
}
