/**
 * The embedded VectorIndex: memories in SQLite (the source of truth, sqlite-store.ts), their
 * vectors in an in-memory arena (vector-arena.ts), an HNSW graph kept up in the background
 * (graph-maintainer.ts), a payload index for candidate sets (payload-index.ts), a BM25 keyword
 * index (keyword-index.ts), and a planner choosing an exact scan or the graph per search
 * (planner.ts, exact-scan.ts). This file opens them and answers the port's operations.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Kind, MemoryRecord, Scope, Tier } from '@membus/contracts';
import { kindValues, MembusError, tierValues } from '@membus/contracts';
import {
  DEFAULT_HYBRID_ALPHA,
  fuseHybrid,
  hybridLegDepth,
  type IndexedMemory,
  type IndexFilter,
  type ScrollRequest,
  type ScrollResult,
  type SearchHit,
  type SearchRequest,
  type SearchResult,
  type StatsResult,
  type VectorIndex,
  type VectorIndexCapabilities,
} from '@membus/vector-index';
import { BoundedHeap } from './bounded-heap.ts';
import { ExactScanner } from './exact-scan.ts';
import { GraphMaintainer } from './graph-maintainer.ts';
import { type HnswOptions, hasGraphFiles, type RebuildReason } from './hnsw-graph.ts';
import { KeywordIndex } from './keyword-index.ts';
import { LazyHit } from './lazy-hit.ts';
import { payloadFromRecord, payloadFromRow, rowFromRecord } from './memory-rows.ts';
import { type CandidateSource, PayloadIndex, type SlotPayload } from './payload-index.ts';
import { DensePlanner } from './planner.ts';
import { SlotTable } from './slot-table.ts';
import { type RowToWrite, SqliteStore } from './sqlite-store.ts';
import { classifyStorageError, storageErrorMessage } from './storage-failures.ts';
import { normalized, VectorArena } from './vector-arena.ts';

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
   * search ~ratio × N / C (it visits ~1/selectivity nodes per result, with a JS filter call
   * each), so the scan is chosen while C² ≤ ratio × N. Measured at 100k × 384: ratio ≈ 600
   * (crossover near 7,700 candidates). 0 disables the model (only the threshold decides).
   */
  annCostRatio?: number;
  /** HNSW parameters. Defaults: m 16, efConstruction 64, efSearch 64. */
  hnsw?: Partial<HnswOptions>;
  /** Longest stretch the background indexer holds the event loop, in ms. Default 5. */
  indexSliceMs?: number;
  /**
   * Hybrid fusion weight: relevance = alpha · cosine + (1 − alpha) · BM25 / best BM25.
   * Default 0.5 (tuned on the retrieval eval; see eval/README.md).
   */
  hybridAlpha?: number;
  /** Save the graph in the background after this many graph changes. Default 20,000. */
  saveEveryChanges?: number;
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
  /** Graph rebuilds from SQLite since the index was opened, by reason (zeros included). */
  graphRebuilds: Record<RebuildReason, number>;
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

/** Opens (or creates) an embedded index under `options.directory`. */
export async function openEmbeddedVectorIndex(
  options: EmbeddedVectorIndexOptions,
): Promise<EmbeddedVectorIndex> {
  if (!Number.isInteger(options.dimension) || options.dimension < 1)
    throw new MembusError('INVALID_MESSAGE', `dimension must be a positive integer`);
  await mkdir(options.directory, { recursive: true });
  const file = join(options.directory, DATABASE);
  // SQLite would create an empty database here and the graph's memories would be forgotten:
  // a silent empty start. The operator decides.
  if (!existsSync(file) && hasGraphFiles(options.directory))
    throw new MembusError(
      'INTERNAL',
      `the data directory ${options.directory} holds a graph (graph.json, graph-*.hnsw) but no memories database (${DATABASE}): restore ${file} from a backup, or remove the graph files to start with an empty store`,
      { details: { file, problem: 'memories database missing' } },
    );
  let index: EmbeddedIndex;
  try {
    index = new EmbeddedIndex(options);
  } catch (error) {
    throw storeOpenError(file, options.directory, error);
  }
  try {
    await index.load();
  } catch (error) {
    await index.close({ persistGraph: false }).catch(() => undefined);
    throw storeOpenError(file, options.directory, error);
  }
  return index;
}

const DATABASE = 'memories.sqlite';

/**
 * An open that failed on the database file, as one sentence naming the file and what to do;
 * other errors (e.g. a dimension mismatch) unchanged.
 */
function storeOpenError(file: string, directory: string, error: unknown): unknown {
  const reason = classifyStorageError(error);
  if (reason === undefined) return error;
  const cause = storageErrorMessage(error);
  const details = { file, reason };
  if (reason === 'corrupt')
    return new MembusError(
      'INTERNAL',
      `the memories database ${file} is damaged (${cause}): restore it from a backup; to start with an empty store instead, move the directory ${directory} aside`,
      { details, cause: error },
    );
  return new MembusError(
    'INTERNAL',
    `cannot open the memories database ${file} (${cause})${reason === 'disk_full' ? ': the disk is full, free space and restart' : ''}`,
    { details, cause: error },
  );
}

const defaultHnsw: HnswOptions = {
  m: 16,
  // 64 instead of 128: half the insert CPU (graph build at 100k 154 s -> 76 s, which competes
  // with ingest on two cores) for recall@10 1.000 -> 0.999 unfiltered, 0.995 -> 0.990 at 10 %.
  efConstruction: 64,
  efSearch: 64,
  randomSeed: 100,
};

const newerFirst = (a: SlotPayload, b: SlotPayload): boolean =>
  a.createdAt > b.createdAt || (a.createdAt === b.createdAt && a.id > b.id);

class EmbeddedIndex implements EmbeddedVectorIndex {
  readonly capabilities: VectorIndexCapabilities = {
    name: 'embedded',
    persistent: true,
    keyword: true,
  };
  readonly dimension: number;

  private readonly directory: string;
  private readonly hybridAlpha: number;
  private readonly store: SqliteStore;
  private readonly arena: VectorArena;
  private readonly slots = new SlotTable();
  private readonly payloadIndex = new PayloadIndex();
  private readonly keywords = new KeywordIndex();
  private readonly graph: GraphMaintainer;
  private readonly scanner: ExactScanner;
  private readonly planner: DensePlanner;
  private nextSeq = 1;
  private liveCount = 0;
  private closed = false;

  constructor(options: EmbeddedVectorIndexOptions) {
    this.directory = options.directory;
    this.dimension = options.dimension;
    this.hybridAlpha = options.hybridAlpha ?? DEFAULT_HYBRID_ALPHA;
    this.arena = new VectorArena(options.dimension);
    this.graph = new GraphMaintainer(
      {
        directory: options.directory,
        dimension: options.dimension,
        hnsw: { ...defaultHnsw, ...options.hnsw },
        indexSliceMs: options.indexSliceMs ?? 5,
        saveEveryChanges: options.saveEveryChanges ?? 20_000,
        onGraphEvent: options.onGraphEvent,
      },
      this.arena,
      {
        liveCount: () => this.liveCount,
        watermark: () => this.nextSeq - 1,
        seqOf: (slot) => this.slots.payloads[slot]?.seq,
        ensureSlot: (slot) => this.ensureSlotCapacity(slot),
      },
    );
    this.scanner = new ExactScanner(this.arena, this.slots);
    this.planner = new DensePlanner(
      {
        exactScanThreshold: options.exactScanThreshold ?? 2_000,
        annCostRatio: options.annCostRatio ?? 600,
      },
      this.arena,
      this.slots,
      this.graph,
      this.scanner,
    );
    this.store = new SqliteStore(join(options.directory, DATABASE), {
      checkpointIntervalMs: options.checkpointIntervalMs ?? 1_000,
      mmapBytes: options.mmapBytes ?? 0,
    });
  }

  /** Loads rows into memory, then the saved graph (or schedules a rebuild), then catches up. */
  async load(): Promise<void> {
    const storedDimension = this.store.getSetting('dimension');
    if (storedDimension !== undefined && Number(storedDimension) !== this.dimension)
      throw new MembusError(
        'DIMENSION_MISMATCH',
        `the store under ${this.directory} holds vectors of dimension ${storedDimension}, not ${this.dimension}`,
        { details: { expected: Number(storedDimension), actual: this.dimension } },
      );
    if (storedDimension === undefined) this.store.putSetting('dimension', String(this.dimension));
    // Names this database in the graph manifest: a graph saved beside another database (one
    // restored from a backup, or replaced) is not loaded.
    let storeId = this.store.getSetting('store_id');
    if (storeId === undefined) {
      storeId = randomUUID();
      this.store.putSetting('store_id', storeId);
    }

    const byteLength = this.dimension * 4;
    const slots = this.slots;
    for (const row of this.store.loadAll()) {
      if (row.vector.byteLength !== byteLength)
        throw new MembusError(
          'INTERNAL',
          `memory ${row.id} in ${this.directory} has a vector of ${row.vector.byteLength} bytes, not ${byteLength}`,
        );
      const payload = payloadFromRow(row);
      this.ensureSlotCapacity(row.slot);
      this.arena.setBytes(row.slot, row.vector);
      slots.set(row.slot, payload);
      this.payloadIndex.add(row.slot, payload);
      this.keywords.set(row.slot, row.text);
      this.liveCount++;
      if (row.slot >= slots.nextSlot) slots.nextSlot = row.slot + 1;
    }
    for (let slot = 0; slot < slots.nextSlot; slot++)
      if (slots.payloads[slot] === undefined) slots.freeSlots.push(slot);
    slots.freeSlots.reverse();
    this.nextSeq = this.store.maxSeq() + 1;

    const watermark = await this.graph.load(storeId, slots.nextSlot);
    // Sequence numbers above the watermark may be in the graph's past even if SQLite no longer
    // holds them (the newest rows deleted): never reuse one for a new vector.
    if (watermark !== undefined) this.nextSeq = Math.max(this.nextSeq, watermark + 1);
    this.graph.schedule();
  }

  async upsert(items: readonly IndexedMemory[]): Promise<void> {
    this.assertOpen();
    for (const item of items) {
      const { record } = item;
      if (
        Number.isNaN(Date.parse(record.createdAt)) ||
        Number.isNaN(Date.parse(record.updatedAt)) ||
        (record.expiresAt !== undefined && Number.isNaN(Date.parse(record.expiresAt)))
      )
        throw new MembusError('INVALID_MESSAGE', `memory ${record.id} has an invalid timestamp`, {
          details: { id: record.id },
        });
      if (item.vector !== undefined) this.assertDimension(item.vector, 'upsert');
      else if (this.payloadIndex.slotOf(item.record.tenant, item.record.id) === undefined)
        throw new MembusError(
          'NOT_FOUND',
          `upsert without a vector: memory ${item.record.id} does not exist`,
          { details: { id: item.record.id } },
        );
    }
    if (items.length === 0) return;
    // Last write wins for an id repeated within the batch.
    const latest = new Map<string, IndexedMemory>();
    for (const item of items) latest.set(`${item.record.tenant}\u0000${item.record.id}`, item);

    const allocated: number[] = [];
    const changes: {
      slot: number;
      payload: SlotPayload;
      vector: Float32Array | undefined;
      text: string;
    }[] = [];
    const rows: RowToWrite[] = [];
    let seq = this.nextSeq;
    for (const { record, vector, dedupKey } of latest.values()) {
      let slot = this.payloadIndex.slotOf(record.tenant, record.id);
      if (slot === undefined) {
        slot = this.slots.allocate();
        allocated.push(slot);
      }
      // `seq` versions the vector: a change that keeps the vector keeps the graph point current.
      const unit = vector === undefined ? undefined : normalized(vector);
      const rowSeq = unit === undefined ? this.slots.payloads[slot]!.seq : seq++;
      const payload = payloadFromRecord(record, dedupKey, rowSeq);
      changes.push({ slot, payload, vector: unit, text: record.text });
      rows.push(rowFromRecord(record, payload, slot, unit ?? this.arena.view(slot)));
    }
    try {
      this.store.writeRows(rows);
    } catch (error) {
      for (const slot of allocated.reverse()) this.slots.freeSlots.push(slot);
      throw new MembusError('BACKEND_FAILED', 'writing memories to SQLite failed', {
        cause: error,
      });
    }
    this.nextSeq = seq;
    for (const { slot, payload, vector, text } of changes) {
      this.ensureSlotCapacity(slot);
      this.keywords.set(slot, text);
      const previous = this.slots.payloads[slot];
      if (previous === undefined) this.liveCount++;
      else this.payloadIndex.remove(slot, previous);
      this.slots.set(slot, payload);
      this.payloadIndex.add(slot, payload);
      if (vector === undefined) continue;
      this.arena.set(slot, vector);
      this.graph.replace(slot);
    }
    this.graph.schedule();
  }

  async get(tenant: string, ids: readonly string[]): Promise<MemoryRecord[]> {
    this.assertOpen();
    const records: MemoryRecord[] = [];
    for (const id of new Set(ids)) {
      const record = this.store.getRecord(tenant, id);
      if (record !== undefined) records.push(record);
    }
    return records;
  }

  async delete(tenant: string, ids: readonly string[]): Promise<string[]> {
    this.assertOpen();
    const deleted = this.store.deleteRows(tenant, ids);
    for (const slot of deleted.values()) {
      const payload = this.slots.payloads[slot];
      if (payload === undefined) continue;
      this.payloadIndex.remove(slot, payload);
      this.keywords.remove(slot);
      this.slots.set(slot, undefined);
      this.liveCount--;
      this.graph.remove(slot);
      this.slots.freeSlots.push(slot);
    }
    this.graph.resolveIndexedWaiters();
    return [...deleted.keys()];
  }

  async search(request: SearchRequest): Promise<SearchResult> {
    const pending = request.vector instanceof Float32Array ? undefined : request.vector;
    // Handled here so a throw below cannot leave it rejected with no handler.
    pending?.catch(() => undefined);
    this.assertOpen();
    const limit = Math.max(0, Math.floor(request.limit));
    const mode = request.text?.trim() ? (request.mode ?? 'dense') : 'dense';
    // Each leg looks deeper than `limit` so fusion can promote what one leg ranks lower.
    const depth = mode === 'keyword' ? limit : hybridLegDepth(limit);
    // The keyword leg needs no vector: with the vector still on its way, it runs while the
    // embedder answers, once the embed request has gone out (nats.js writes in a microtask).
    if (pending !== undefined && mode !== 'dense' && limit > 0) await Promise.resolve();
    let legs = mode === 'dense' || limit === 0 ? undefined : this.keywordLeg(request, depth);
    const vector = pending === undefined ? (request.vector as Float32Array) : await pending;
    this.assertOpen();
    this.assertDimension(vector, 'search');
    if (limit === 0) return { hits: [], plan: mode === 'dense' ? 'exact' : mode };
    const query = normalized(vector);
    // A write while the vector was awaited may have moved slots: the leg is run again.
    if (legs !== undefined && legs.writes !== this.slots.writes)
      legs = this.keywordLeg(request, depth);
    if (legs === undefined) {
      const { filterCandidates, matches, candidateMatches } = this.searchFilter(request);
      const { scored, plan } = this.denseSearch(
        filterCandidates,
        query,
        matches,
        candidateMatches,
        limit,
      );
      return {
        hits: this.toHits(request.tenant, scored, (item) => ({
          score: item.score,
          dense: item.score,
        })),
        plan,
      };
    }
    const { filterCandidates, matches, candidateMatches, keyword } = legs;
    const best = keyword[0]?.score ?? 1;
    if (mode === 'keyword') {
      return {
        hits: this.toHits(request.tenant, keyword.slice(0, limit), (item) => ({
          score: item.score / best,
          dense: this.arena.dot(item.slot, query),
          keyword: item.score / best,
        })),
        plan: 'keyword',
      };
    }
    const dense = this.denseSearch(filterCandidates, query, matches, candidateMatches, depth);
    // Convex fusion: every candidate of either leg gets its cosine (cheap: the vector is in
    // memory) and its normalised BM25 (0 when the keyword leg did not find it).
    const fusing: { slot: number; id: string; cosine: number; keyword?: number }[] = [];
    const bySlot = new Map<number, (typeof fusing)[number]>();
    for (const item of dense.scored) {
      const candidate = { slot: item.slot, id: item.id, cosine: item.score };
      bySlot.set(item.slot, candidate);
      fusing.push(candidate);
    }
    for (const item of keyword) {
      const found = bySlot.get(item.slot);
      if (found !== undefined) found.keyword = item.score / best;
      else
        fusing.push({
          slot: item.slot,
          id: this.slots.payloads[item.slot]?.id ?? '',
          cosine: this.arena.dot(item.slot, query),
          keyword: item.score / best,
        });
    }
    const ranked = fuseHybrid(fusing, { alpha: this.hybridAlpha, limit });
    return {
      hits: this.toHits(request.tenant, ranked, (item) => ({
        score: item.fused,
        dense: item.cosine,
        ...(item.keyword !== undefined ? { keyword: item.keyword } : {}),
      })),
      plan: `hybrid(${dense.plan})`,
    };
  }

  async scroll(request: ScrollRequest): Promise<ScrollResult> {
    this.assertOpen();
    const limit = Math.max(0, Math.floor(request.limit));
    const candidates = this.payloadIndex.candidates(request.tenant, request.filter);
    const matches = this.slots.predicate(
      request.tenant,
      request.filter,
      request.now,
      candidates.covers,
    );
    const after = request.after;
    const heap = new BoundedHeap<SlotPayload>(limit + 1, newerFirst);
    const payloads = this.slots.payloads;
    this.slots.forEachCandidate(candidates, (slot) => {
      if (!matches(slot)) return;
      const payload = payloads[slot]!;
      if (
        after !== undefined &&
        !(
          payload.createdAt < after.createdAt ||
          (payload.createdAt === after.createdAt && payload.id < after.id)
        )
      )
        return;
      heap.push(payload);
    });
    const page = heap.sorted();
    const more = page.length > limit;
    const kept = more ? page.slice(0, limit) : page;
    const records: MemoryRecord[] = [];
    for (const payload of kept) {
      const record = this.store.getRecord(request.tenant, payload.id);
      if (record !== undefined) records.push(record);
    }
    const last = kept.at(-1);
    return more && last !== undefined
      ? { records, next: { createdAt: last.createdAt, id: last.id } }
      : { records };
  }

  async stats(tenant: string, filter: IndexFilter | undefined, now: number): Promise<StatsResult> {
    this.assertOpen();
    const candidates = this.payloadIndex.candidates(tenant, filter);
    const matches = this.slots.predicate(tenant, filter, now, candidates.covers);
    const result: StatsResult = {
      total: 0,
      byScope: {},
      byKind: {},
      byTier: {},
      byNamespace: {},
      byCategory: {},
    };
    const increment = (counts: Record<string, number>, key: string): void => {
      counts[key] = (counts[key] ?? 0) + 1;
    };
    const payloads = this.slots.payloads;
    this.slots.forEachCandidate(candidates, (slot) => {
      if (!matches(slot)) return;
      const payload = payloads[slot]!;
      result.total++;
      increment(result.byScope as Record<string, number>, payload.scope as Scope);
      increment(result.byKind, payload.kind);
      increment(result.byTier, payload.tier);
      if (payload.namespace !== undefined) increment(result.byNamespace, payload.namespace);
      for (const category of new Set(payload.categories)) increment(result.byCategory, category);
      if (result.oldest === undefined || payload.createdAt < result.oldest)
        result.oldest = payload.createdAt;
      if (result.newest === undefined || payload.createdAt > result.newest)
        result.newest = payload.createdAt;
    });
    return result;
  }

  async recordAccess(
    tenant: string,
    accesses: ReadonlyMap<string, { count: number; at: number }>,
  ): Promise<void> {
    this.assertOpen();
    await this.store.recordAccess(tenant, accesses);
  }

  whenIndexed(): Promise<void> {
    return this.graph.whenIndexed();
  }

  async newestEmbeddingModel(): Promise<string | undefined> {
    this.assertOpen();
    return this.store.newestEmbeddingModel();
  }

  status(): EmbeddedIndexStatus {
    const tail = this.graph.tail.size;
    const lastError = this.graph.lastError;
    return {
      count: this.liveCount,
      indexed: this.liveCount - tail,
      tail,
      saving: this.graph.isSaving,
      ...(lastError === undefined ? {} : { lastError }),
      graphRebuilds: { ...this.graph.rebuilds },
    };
  }

  memoryCounts(): MemoryCount[] {
    return this.payloadIndex.countByTierAndKind(tierValues, kindValues);
  }

  saveGraph(): Promise<void> {
    return this.graph.save();
  }

  async close(options: { persistGraph?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.graph.close(options.persistGraph ?? true);
    } finally {
      await this.store.close();
    }
  }

  // --- internals ---

  private assertOpen(): void {
    if (this.closed) throw new MembusError('UNAVAILABLE', 'the embedded vector index is closed');
  }

  private assertDimension(vector: Float32Array, operation: string): void {
    if (vector.length !== this.dimension)
      throw new MembusError(
        'DIMENSION_MISMATCH',
        `${operation}: vector has dimension ${vector.length}, the index holds ${this.dimension}`,
        { details: { expected: this.dimension, actual: vector.length } },
      );
  }

  private denseSearch(
    candidates: CandidateSource,
    query: Float32Array,
    matches: (slot: number) => boolean,
    candidateMatches: (slot: number) => boolean,
    limit: number,
  ) {
    return this.planner.search(candidates, query, matches, candidateMatches, limit, this.liveCount);
  }

  /** A request's candidate set and predicates (valid until the next write). */
  private searchFilter(request: SearchRequest) {
    // One candidate set for both legs.
    const filterCandidates = this.payloadIndex.candidates(request.tenant, request.filter);
    const matches = this.slots.predicate(request.tenant, request.filter, request.now);
    const candidateMatches = this.slots.predicate(
      request.tenant,
      request.filter,
      request.now,
      filterCandidates.covers,
    );
    return { filterCandidates, matches, candidateMatches };
  }

  /** The keyword leg `depth` deep, with the filter it ran under and the write it saw last. */
  private keywordLeg(request: SearchRequest, depth: number) {
    const filter = this.searchFilter(request);
    const keyword = this.keywords.search({
      text: request.text ?? '',
      matches: filter.matches,
      candidates: this.slots.candidateIterator(filter.filterCandidates, filter.candidateMatches),
      limit: depth,
    });
    return { ...filter, keyword, writes: this.slots.writes };
  }

  /** Hits whose records are read from SQLite on first access (see LazyHit). */
  private toHits<T extends { slot: number; id?: string }>(
    tenant: string,
    items: readonly T[],
    scores: (item: T) => Omit<SearchHit, 'record' | 'ranking'>,
  ): SearchHit[] {
    const hits: SearchHit[] = [];
    for (const item of items) {
      const id = item.id ?? this.slots.payloads[item.slot]?.id;
      if (id === undefined) continue;
      hits.push(
        new LazyHit(
          this.store,
          tenant,
          id,
          {
            updatedAt: this.slots.updatedAt[item.slot]!,
            importance: this.slots.importance[item.slot]!,
          },
          scores(item),
        ),
      );
    }
    return hits;
  }

  private ensureSlotCapacity(slot: number): void {
    this.arena.ensure(slot);
    this.slots.ensure(slot);
    this.graph.ensure(slot);
  }
}
