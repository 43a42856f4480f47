import {
  createGraph,
  currentGeneration,
  type Graph,
  type HnswOptions,
  loadGraph,
  type RebuildReason,
  rebuildReasons,
  saveGraph,
  slotRuns,
} from './hnsw-graph.ts';
import type { GraphEvent } from './options.ts';
import { grow } from './typed-arrays.ts';
import { int8Codes } from './usearch-binding.ts';
import type { VectorArena } from './vector-arena.ts';

// Per-slot graph state; 0 = the slot is absent from the graph (removed from it, or never added).
const GRAPH_CURRENT = 1;
/**
 * Points per background add while memories are being written, and once idle. A batch's points
 * join the graph's searches when it is done; meanwhile they are scanned exactly, as the rest of
 * the tail.
 */
const ADD_BATCH = 128;
const IDLE_ADD_BATCH = 512;
/**
 * usearch threads per `add` call: one while memories are being written (the other core serves
 * them), two once idle — where the graph allows concurrent adds (`ArenaGraph.concurrentAdds`:
 * the addon, with its fix for unum-cloud/USearch#735; usearch's own binding strands about one
 * point in 1,300 with two threads, which `test/idle-indexing.test.ts` catches).
 */
const ADD_THREADS = 1;
const IDLE_ADD_THREADS = 2;
/**
 * Up to this many slots waiting for the graph, its adds run in the idle scheduling class
 * (`AddOptions.idlePriority`): the event loops of this process and the ones beside it never
 * wait for a core behind them (at 1,000 stores/s on two cores, store → queryable p99 35–49 ms
 * over six runs against 38–77 at nice 10, the graph as fast). Past it, at nice 10, so that a host
 * whose cores never idle still indexes: the tail is scanned exactly by every query meanwhile
 * (~1–2 ms per 10k slots).
 */
export const IDLE_PRIORITY_TAIL = 10_000;
/** Times a graph search that found too few matches is repeated with 4 × the points. */
const WIDEN_ROUNDS = 3;
/** Under writes that never pause, a due save still runs once the changes reach this × saveEveryChanges. */
export const SAVE_CAP_FACTOR = 4;
/**
 * A save rewrites the whole graph file and adds wait while it runs, so saving every
 * saveEveryChanges changes costs time quadratic in the graph's size: building 10M, a 1.1 GB
 * file was written every 20k adds and the build all but stopped. A save is due only once the
 * changes also reach this share of the graph's points: the files written then add up to about
 * 5 × the final one, and a crash replays at most a quarter of the graph (more only while it is
 * below 4 × saveEveryChanges / SAVE_GROWTH points).
 */
export const SAVE_GROWTH = 0.25;

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
  /**
   * The same once no memory was written for `idleAfterMs`: the indexer then adds larger batches
   * (the graph settles sooner after a burst of stores), still in slices a query waits out at
   * most.
   */
  idleIndexSliceMs: number;
  idleAfterMs: number;
  /** Save the graph in the background after this many graph changes (or SAVE_GROWTH of it). */
  saveEveryChanges: number;
  /**
   * A due save waits until no write has come for this long (usearch writes the file
   * synchronously: ~60 ms at 100k, ~0.5 s at 1M on the event loop), unless the changes reach
   * SAVE_CAP_FACTOR × saveEveryChanges.
   */
  saveQuietMs: number;
  onGraphEvent: ((event: GraphEvent) => void) | undefined;
}

/**
 * The HNSW graph (usearch, over the arena's int8 codes) and its upkeep: loading or rebuilding it
 * at open, a tail of slots not yet in it (searched exactly meanwhile) that a background indexer
 * adds in short slices, stale points removed until re-added, and saves every so many changes
 * once writes pause. Just over 400 lines on purpose: the indexer, the saves and the searches all
 * read and change the same per-slot graph state.
 */
export class GraphMaintainer {
  /** Slots whose current vector is not searchable through the graph, in insertion order. */
  readonly tail = new Set<number>();
  /** Per slot: in the graph with its current vector, or absent. */
  private graphState = new Uint8Array(1024);
  private graph: Graph | undefined;
  private changesSinceSave = 0;
  private generation = 0;
  private saving: Promise<void> | undefined;
  /** The background add running (addSlotsAsync), its slots, and those written meanwhile. */
  private adding: Promise<void> | undefined;
  private addingSlots: ReadonlySet<number> = new Set();
  private readonly changedWhileAdding = new Set<number>();
  /** Slots to take out of the graph once the running add is done (usearch may not remove meanwhile). */
  private deferredRemovals: number[] = [];
  private indexTimer: NodeJS.Immediate | undefined;
  /** Checks again, once writes may have paused, whether a due save can run. */
  private saveTimer: NodeJS.Timeout | undefined;
  /** When a memory was last written or deleted (performance.now()). */
  private lastWriteAt = Number.NEGATIVE_INFINITY;
  /** When a background save last failed: the next waits saveQuietMs (no retry loop on a full disk). */
  private lastSaveFailedAt = Number.NEGATIVE_INFINITY;
  private indexedWaiters: (() => void)[] = [];
  private storeId: string | undefined;
  private closed = false;
  /** The query's int8 codes, filled per search. */
  private readonly queryCodes: Int8Array;
  /** The arena's page version the graph was last given (setPages); -1: none yet. */
  private pagesVersion = -1;
  /** One key per `remove` call. */
  private readonly removeKey = new BigUint64Array(1);
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
    this.queryCodes = new Int8Array(options.dimension);
  }

  /** A graph to search (absent only after close). */
  get available(): boolean {
    return this.graph !== undefined;
  }

  get isSaving(): boolean {
    return this.saving !== undefined;
  }

  /** A batch is being added to the graph off the event loop. */
  get isAdding(): boolean {
    return this.adding !== undefined;
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
        return seq === undefined ? undefined : { seq, codes: this.arena.codesView(slot) };
      },
      pages: (slot) => {
        this.arena.ensure(slot);
        const { pages, pageSlots, version } = this.arena.graphPages();
        this.pagesVersion = version;
        return { pages, pageSlots };
      },
    });
    const loaded = result.loaded;
    if (loaded === undefined) {
      this.graph = createGraph(dimension, hnsw);
      this.pagesVersion = -1;
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
        this.removeFromGraph(label);
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
    this.lastWriteAt = performance.now();
    this.retire(slot);
    this.tail.add(slot);
  }

  /** The slot's memory is deleted. */
  remove(slot: number): void {
    this.lastWriteAt = performance.now();
    this.tail.delete(slot);
    this.retire(slot);
  }

  /**
   * The first `keep` of the graph's nearest points (by the int8 codes' cosine, best first) that
   * are current and pass `matches`. usearch has no filter predicate: the graph is asked for `k`
   * points (the planner sizes it as keep ÷ selectivity) and they are filtered here; while fewer
   * than `keep` pass (expired memories near the query, a filter the planner could not size), it
   * is asked again for 4 × as many, at most WIDEN_ROUNDS times.
   */
  search(
    query: Float32Array,
    k: number,
    keep: number,
    matches: (slot: number) => boolean,
  ): number[] {
    const graph = this.ready();
    if (graph === undefined) return [];
    const size = graph.size();
    const codes = int8Codes(query, this.queryCodes);
    const graphState = this.graphState;
    let wanted = Math.min(k, size);
    for (let round = 0; ; round++) {
      if (wanted <= 0) return [];
      const [keys, , counts] = graph.search(codes, wanted, 1);
      const found = Number(counts[0]);
      const slots: number[] = [];
      for (let at = 0; at < found && slots.length < keep; at++) {
        const slot = Number(keys[at]);
        if (graphState[slot] === GRAPH_CURRENT && matches(slot)) slots.push(slot);
      }
      if (slots.length >= keep || found < wanted || wanted >= size || round >= WIDEN_ROUNDS)
        return slots;
      wanted = Math.min(size, wanted * 4);
    }
  }

  /** Resolves when every memory is in the graph (the tail is empty). */
  async whenIndexed(): Promise<void> {
    if (this.tail.size === 0 || this.closed) return;
    await new Promise<void>((resolve) => this.indexedWaiters.push(resolve));
  }

  /** Writes the graph now (waits for a running save first). */
  async save(): Promise<void> {
    // An add that finishes meanwhile may start a save (saveDue) or the next add: wait for both.
    this.stopIndexing();
    while (this.saving !== undefined || this.adding !== undefined) {
      while (this.saving !== undefined) await this.saving;
      this.stopIndexing();
      await this.settleAdd();
    }
    // usearch writes the codes through the nodes' pointers into the pages.
    const graph = this.ready();
    if (graph === undefined) return;
    // Taken as the write starts (see saveGraph: later changes get sequence numbers above it).
    const manifest = {
      dimension: this.options.dimension,
      m: this.options.hnsw.m,
      efConstruction: this.options.hnsw.efConstruction,
      watermark: this.host.watermark(),
      tailRuns: slotRuns(this.tail),
      ...(this.storeId !== undefined ? { storeId: this.storeId } : {}),
    };
    const changes = this.changesSinceSave;
    const generation = this.generation + 1;
    const saving = saveGraph(this.options.directory, graph, manifest, generation)
      .then(
        () => {
          this.generation = generation;
          this.changesSinceSave -= changes;
        },
        (error: unknown) => {
          this.lastSaveFailedAt = performance.now();
          throw error;
        },
      )
      .finally(() => {
        this.saving = undefined;
        this.applyDeferred(graph);
        this.schedule();
      });
    this.saving = saving;
    await saving;
  }

  /** Stops indexing and releases the graph, saving it first unless `persist` is false. */
  async close(persist: boolean): Promise<void> {
    this.closed = true;
    this.stopIndexing();
    if (this.saveTimer !== undefined) clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    for (const resolve of this.indexedWaiters.splice(0)) resolve();
    try {
      while (this.saving !== undefined) await this.saving.catch(() => undefined);
      await this.settleAdd();
      if (persist && this.changesSinceSave > 0) await this.save();
    } finally {
      this.graph = undefined;
    }
  }

  /** Starts the background indexer if the tail has work, or wakes the waiters if not. */
  schedule(): void {
    if (
      this.indexTimer !== undefined ||
      this.closed ||
      this.saving !== undefined ||
      this.adding !== undefined
    )
      return;
    if (this.tail.size === 0) {
      this.resolveIndexedWaiters();
      this.saveWhenQuiet();
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

  /** The slot's vector in the graph is no longer current: out of it until it is re-added. */
  private retire(slot: number): void {
    // Being added with the codes it had: taken out again once that add is done.
    if (this.addingSlots.has(slot)) this.changedWhileAdding.add(slot);
    if (this.graphState[slot] !== GRAPH_CURRENT) return;
    this.removeFromGraph(slot);
    this.changesSinceSave++;
  }

  /**
   * The graph, given the arena's pages if they changed since it was last (a page added, or
   * moved: its nodes then point at the new place); undefined after close.
   */
  private ready(): Graph | undefined {
    const graph = this.graph;
    if (graph === undefined) return undefined;
    const { pages, pageSlots, version } = this.arena.graphPages();
    // A page added meanwhile holds none of the running add's points nor a saved one: given after.
    if (version !== this.pagesVersion && this.adding === undefined && this.saving === undefined) {
      graph.setPages(pages, pageSlots);
      this.pagesVersion = version;
    }
    return graph;
  }

  /** usearch marks the node free (searches skip it) and reuses it for a later add. */
  private removeFromGraph(slot: number): void {
    this.graphState[slot] = 0;
    if (this.adding !== undefined || this.saving !== undefined) {
      this.deferredRemovals.push(slot);
      return;
    }
    this.removeKey[0] = BigInt(slot);
    this.graph?.remove(this.removeKey);
  }

  /** Waits for the running background add, if any (its completion handler has run after). */
  private async settleAdd(): Promise<void> {
    while (this.adding !== undefined) await this.adding;
  }

  private stopIndexing(): void {
    if (this.indexTimer === undefined) return;
    clearImmediate(this.indexTimer);
    this.indexTimer = undefined;
  }

  /**
   * Adds the next batch of the tail to the graph off the event loop (addSlotsAsync: usearch's
   * threads read the codes in the arena's pages); one batch at a time. Until it is done the
   * batch stays in the tail (scanned exactly), removals wait, and a slot written meanwhile is
   * taken out again after (its node holds the codes it had).
   */
  private indexSlice(): void {
    const graph = this.ready();
    if (graph === undefined || this.closed || this.saving !== undefined || this.adding) return;
    if (this.tail.size === 0) {
      this.schedule();
      return;
    }
    const idle = performance.now() - this.lastWriteAt >= this.options.idleAfterMs;
    const size = idle ? IDLE_ADD_BATCH : ADD_BATCH;
    const batch: number[] = [];
    for (const slot of this.tail) {
      batch.push(slot);
      if (batch.length >= size) break;
    }
    const keys = new BigUint64Array(batch.length);
    for (const [at, slot] of batch.entries()) keys[at] = BigInt(slot);
    this.addingSlots = new Set(batch);
    let added: Promise<void>;
    try {
      const threads = idle && graph.concurrentAdds ? IDLE_ADD_THREADS : ADD_THREADS;
      added = graph.addSlotsAsync(keys, threads, {
        sliceMs: idle ? this.options.idleIndexSliceMs : this.options.indexSliceMs,
        idlePriority: this.tail.size <= IDLE_PRIORITY_TAIL,
      });
    } catch (error) {
      added = Promise.reject(error);
    }
    this.adding = added.then(
      () => {
        for (const slot of batch) {
          if (this.changedWhileAdding.has(slot)) this.deferredRemovals.push(slot);
          else {
            this.graphState[slot] = GRAPH_CURRENT;
            this.tail.delete(slot);
          }
        }
        this.changesSinceSave += batch.length;
        this.finishAdd(graph);
        if (this.saveDue()) this.startSave();
        else this.schedule();
      },
      (error: unknown) => {
        this.finishAdd(graph);
        // Searches stay correct (the tail is scanned exactly); waiters must not hang.
        this.lastError = `indexing failed: ${error instanceof Error ? error.message : String(error)}`;
        for (const resolve of this.indexedWaiters.splice(0)) resolve();
      },
    );
  }

  /** The add is done: what waited for it (removals, the pages) is applied. */
  private finishAdd(graph: Graph): void {
    this.adding = undefined;
    this.addingSlots = new Set();
    this.changedWhileAdding.clear();
    this.applyDeferred(graph);
  }

  /** Removals and pages that waited for a background add or save. */
  private applyDeferred(graph: Graph): void {
    if (this.adding !== undefined || this.saving !== undefined) return;
    const removals = this.deferredRemovals.splice(0);
    if (removals.length > 0 && this.graph === graph)
      graph.remove(BigUint64Array.from(removals, (slot) => BigInt(slot)));
    this.ready();
  }

  /**
   * Enough changes for a save, and either writes have paused for saveQuietMs or the changes
   * reached the cap: the synchronous file write then stalls no write batch (or only rarely,
   * under writes that never pause).
   */
  private saveDue(): boolean {
    const { saveEveryChanges, saveQuietMs } = this.options;
    const threshold = this.saveThreshold();
    if (this.changesSinceSave < threshold) return false;
    if (performance.now() - this.lastSaveFailedAt < saveQuietMs) return false;
    return (
      performance.now() - this.lastWriteAt >= saveQuietMs ||
      this.changesSinceSave >= Math.max(SAVE_CAP_FACTOR * saveEveryChanges, threshold)
    );
  }

  /** The changes that make a save due: saveEveryChanges, or SAVE_GROWTH of the graph if more. */
  private saveThreshold(): number {
    const points = this.graph?.size() ?? 0;
    return Math.max(this.options.saveEveryChanges, Math.floor(SAVE_GROWTH * points));
  }

  /** With a save pending on writes to pause, checks again when they may have. */
  private saveWhenQuiet(): void {
    if (this.saveTimer !== undefined || this.closed || this.saving !== undefined) return;
    if (this.changesSinceSave < this.saveThreshold()) return;
    if (this.saveDue()) {
      this.startSave();
      return;
    }
    const now = performance.now();
    const wait =
      this.options.saveQuietMs - (now - Math.max(this.lastWriteAt, this.lastSaveFailedAt));
    this.saveTimer = setTimeout(
      () => {
        this.saveTimer = undefined;
        // Writes meanwhile put slots in the tail: the indexer checks again once it is done.
        if (this.tail.size === 0) this.saveWhenQuiet();
      },
      Math.max(1, Math.ceil(wait)),
    );
    this.saveTimer.unref();
  }

  private startSave(): void {
    this.save().catch((error: unknown) => {
      this.lastError = `saving the graph failed: ${error instanceof Error ? error.message : String(error)}`;
    });
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
    this.startSave();
  }
}
