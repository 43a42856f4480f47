import type hnswlib from 'hnswlib-node';
import {
  createGraph,
  currentGeneration,
  type HnswOptions,
  loadGraph,
  type RebuildReason,
  rebuildReasons,
  saveGraph,
} from './hnsw-graph.ts';
import type { GraphEvent } from './options.ts';
import { grow } from './typed-arrays.ts';
import type { VectorArena } from './vector-arena.ts';

// Per-slot graph state; 0 = the slot is absent from the graph.
const GRAPH_CURRENT = 1;
const GRAPH_STALE = 2;

/** What the graph needs to know of the index around it. */
export interface GraphHost {
  /** Live memories (for the rebuild events). */
  liveCount(): number;
  /** The newest sequence number handed out (the saved graph's watermark). */
  watermark(): number;
  /** The sequence number (vector version) of the memory in `slot`, if the slot is live. */
  seqOf(slot: number): number | undefined;
  /** Makes room for `slot` in every per-slot structure. */
  ensureSlot(slot: number): void;
}

export interface GraphMaintainerOptions {
  directory: string;
  dimension: number;
  hnsw: HnswOptions;
  /** Longest stretch the background indexer holds the event loop, in ms. */
  indexSliceMs: number;
  /** Save the graph in the background after this many graph changes. */
  saveEveryChanges: number;
  onGraphEvent: ((event: GraphEvent) => void) | undefined;
}

/**
 * The HNSW graph over the arena's vectors and its upkeep: loading or rebuilding it at open, a
 * tail of slots not yet in it (searched exactly meanwhile) that a background indexer adds in
 * short slices, stale points hidden until re-added, and saves every so many changes.
 */
export class GraphMaintainer {
  /** Slots whose current vector is not searchable through the graph, in insertion order. */
  readonly tail = new Set<number>();
  /** Per slot: absent from the graph, in it with its current vector, or stale/deleted there. */
  private graphState = new Uint8Array(1024);
  private graph: hnswlib.HierarchicalNSW | undefined;
  private changesSinceSave = 0;
  private generation = 0;
  private saving: Promise<void> | undefined;
  /** markDelete calls deferred while a save reads the graph. */
  private readonly pendingMarkDeletes: number[] = [];
  private indexTimer: NodeJS.Immediate | undefined;
  private indexedWaiters: (() => void)[] = [];
  private storeId: string | undefined;
  private closed = false;
  /**
   * The query vector as the plain array hnswlib takes, filled per search: `Array.from` of a
   * Float32Array allocated ~30 KB of iterator results and boxed numbers per query.
   */
  private readonly queryPoint: number[];
  /** The rebuild that the start began, until its last memory is in the graph. */
  private rebuilding: { reason: RebuildReason; problem: string; started: number } | undefined;
  /** Last background failure (indexing or saving), if any. */
  lastError: string | undefined;
  readonly rebuilds = Object.fromEntries(rebuildReasons.map((reason) => [reason, 0])) as Record<
    RebuildReason,
    number
  >;

  constructor(
    private readonly options: GraphMaintainerOptions,
    private readonly arena: VectorArena,
    private readonly host: GraphHost,
  ) {
    this.queryPoint = new Array<number>(options.dimension).fill(0);
  }

  /** A graph to search (absent only after close). */
  get available(): boolean {
    return this.graph !== undefined;
  }

  get isSaving(): boolean {
    return this.saving !== undefined;
  }

  /**
   * Loads the saved graph (or schedules a rebuild) for the live slots below `nextSlot`; returns
   * the loaded graph's watermark (no sequence number up to it may be handed out again).
   */
  async load(storeId: string, nextSlot: number): Promise<number | undefined> {
    const { directory, dimension, hnsw } = this.options;
    this.storeId = storeId;
    this.generation = await currentGeneration(directory);
    const result = await loadGraph(directory, dimension, hnsw, {
      storeId,
      labelLimit: 4 * nextSlot + 65_536,
      row: (slot) => {
        const seq = this.host.seqOf(slot);
        return seq === undefined ? undefined : { seq, vector: this.arena.view(slot) };
      },
    });
    const loaded = result.loaded;
    if (loaded === undefined) {
      this.graph = createGraph(dimension, Math.max(4096, nextSlot), hnsw);
      for (let slot = 0; slot < nextSlot; slot++)
        if (this.host.seqOf(slot) !== undefined) this.tail.add(slot);
      this.changesSinceSave = this.tail.size;
      // A new store has nothing to rebuild; one with memories and no graph was stopped before
      // its first save.
      const memories = this.host.liveCount();
      const reason = result.reason ?? (memories > 0 ? 'missing' : undefined);
      if (reason !== undefined) {
        const problem = result.problem ?? 'no graph was saved before the last stop';
        this.rebuilds[reason]++;
        this.rebuilding = { reason, problem, started: performance.now() };
        this.options.onGraphEvent?.({ type: 'rebuild-started', reason, problem, memories });
      }
      return undefined;
    }
    this.graph = loaded.index;
    for (const label of loaded.labels) {
      this.host.ensureSlot(label);
      const seq = this.host.seqOf(label);
      if (seq !== undefined && seq <= loaded.watermark && !loaded.tail.has(label)) {
        this.graphState[label] = GRAPH_CURRENT;
      } else {
        this.graphState[label] = GRAPH_STALE;
        this.markDeleted(label);
        this.changesSinceSave++;
      }
    }
    for (let slot = 0; slot < nextSlot; slot++)
      if (this.host.seqOf(slot) !== undefined && this.graphState[slot] !== GRAPH_CURRENT)
        this.tail.add(slot);
    return loaded.watermark;
  }

  ensure(slot: number): void {
    if (slot < this.graphState.length) return;
    this.graphState = grow(this.graphState, slot + 1);
  }

  /** The slot has a new vector: out of the graph until the indexer adds it. */
  replace(slot: number): void {
    this.retire(slot);
    this.tail.add(slot);
  }

  /** The slot's memory is deleted. */
  remove(slot: number): void {
    this.tail.delete(slot);
    this.retire(slot);
  }

  /**
   * The graph's nearest `limit` current points that pass `matches` (hnswlib keeps exploring
   * until it holds `ef` candidates that pass the filter, so a selective filter already widens
   * the search; scaling ef by 1/selectivity as well made 10 %-filtered searches at 100k take
   * ~40 ms for no recall gain).
   */
  search(query: Float32Array, limit: number, matches: (slot: number) => boolean): number[] {
    const graph = this.graph;
    if (graph === undefined) return [];
    const graphState = this.graphState;
    const filter = (label: number): boolean =>
      graphState[label] === GRAPH_CURRENT && matches(label);
    graph.setEf(Math.max(limit, this.options.hnsw.efSearch));
    const k = Math.min(limit, graph.getMaxElements());
    const point = this.queryPoint;
    for (let index = 0; index < query.length; index++) point[index] = query[index]!;
    return graph.searchKnn(point, k, filter).neighbors;
  }

  /** Resolves when every memory is in the graph (the tail is empty). */
  async whenIndexed(): Promise<void> {
    if (this.tail.size === 0 || this.closed) return;
    await new Promise<void>((resolve) => this.indexedWaiters.push(resolve));
  }

  /** Writes the graph now (waits for a running save first). */
  async save(): Promise<void> {
    while (this.saving !== undefined) await this.saving;
    const graph = this.graph;
    if (graph === undefined) return;
    this.stopIndexing();
    const manifest = {
      dimension: this.options.dimension,
      m: this.options.hnsw.m,
      efConstruction: this.options.hnsw.efConstruction,
      watermark: this.host.watermark(),
      tail: [...this.tail],
      ...(this.storeId !== undefined ? { storeId: this.storeId } : {}),
    };
    const changes = this.changesSinceSave;
    const generation = this.generation + 1;
    const saving = saveGraph(this.options.directory, graph, manifest, generation)
      .then(() => {
        this.generation = generation;
        this.changesSinceSave -= changes;
      })
      .finally(() => {
        this.saving = undefined;
        for (const slot of this.pendingMarkDeletes.splice(0)) this.markDeleted(slot);
        this.schedule();
      });
    this.saving = saving;
    await saving;
  }

  /** Stops indexing and releases the graph, saving it first unless `persist` is false. */
  async close(persist: boolean): Promise<void> {
    this.closed = true;
    this.stopIndexing();
    for (const resolve of this.indexedWaiters.splice(0)) resolve();
    try {
      while (this.saving !== undefined) await this.saving.catch(() => undefined);
      if (persist && this.changesSinceSave > 0) await this.save();
    } finally {
      this.graph = undefined;
    }
  }

  /** Starts the background indexer if the tail has work, or wakes the waiters if not. */
  schedule(): void {
    if (this.indexTimer !== undefined || this.closed || this.saving !== undefined) return;
    if (this.tail.size === 0) {
      this.resolveIndexedWaiters();
      return;
    }
    this.indexTimer = setImmediate(() => {
      this.indexTimer = undefined;
      this.indexSlice();
    });
  }

  resolveIndexedWaiters(): void {
    if (this.tail.size !== 0) return;
    if (this.rebuilding !== undefined) this.finishRebuild();
    if (this.indexedWaiters.length === 0) return;
    for (const resolve of this.indexedWaiters.splice(0)) resolve();
  }

  /** The slot's vector in the graph is no longer current: hide it until it is re-added. */
  private retire(slot: number): void {
    if (this.graphState[slot] !== GRAPH_CURRENT) return;
    this.graphState[slot] = GRAPH_STALE;
    this.changesSinceSave++;
    if (this.saving !== undefined) this.pendingMarkDeletes.push(slot);
    else this.markDeleted(slot);
  }

  private markDeleted(slot: number): void {
    try {
      this.graph?.markDelete(slot);
    } catch {
      // Already marked deleted in the graph: nothing to do.
    }
  }

  private stopIndexing(): void {
    if (this.indexTimer === undefined) return;
    clearImmediate(this.indexTimer);
    this.indexTimer = undefined;
  }

  private indexSlice(): void {
    const graph = this.graph;
    if (graph === undefined || this.closed || this.saving !== undefined) return;
    const deadline = performance.now() + this.options.indexSliceMs;
    try {
      for (const slot of this.tail) {
        if (graph.getCurrentCount() >= graph.getMaxElements())
          graph.resizeIndex(Math.max(graph.getMaxElements() * 2, this.arena.capacity));
        graph.addPoint(Array.from(this.arena.view(slot)), slot);
        this.graphState[slot] = GRAPH_CURRENT;
        this.tail.delete(slot);
        this.changesSinceSave++;
        if (performance.now() >= deadline) break;
      }
    } catch (error) {
      // Searches stay correct (the tail is scanned exactly); waiters must not hang.
      this.lastError = `indexing failed: ${error instanceof Error ? error.message : String(error)}`;
      for (const resolve of this.indexedWaiters.splice(0)) resolve();
      return;
    }
    if (this.changesSinceSave >= this.options.saveEveryChanges) {
      this.save().catch((error: unknown) => {
        this.lastError = `saving the graph failed: ${error instanceof Error ? error.message : String(error)}`;
      });
      return;
    }
    this.schedule();
  }

  /** The start's rebuild is done: says so, and saves the graph so a restart loads it. */
  private finishRebuild(): void {
    const rebuilding = this.rebuilding;
    if (rebuilding === undefined) return;
    this.rebuilding = undefined;
    this.options.onGraphEvent?.({
      type: 'rebuild-finished',
      reason: rebuilding.reason,
      problem: rebuilding.problem,
      memories: this.host.liveCount(),
      seconds: (performance.now() - rebuilding.started) / 1000,
    });
    if (this.closed || this.changesSinceSave === 0) return;
    this.save().catch((error: unknown) => {
      this.lastError = `saving the graph failed: ${error instanceof Error ? error.message : String(error)}`;
    });
  }
}
