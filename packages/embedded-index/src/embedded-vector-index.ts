import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Kind, MemoryRecord, Scope, Tier } from '@membus/contracts';
import { kindValues, MembusError, tierValues } from '@membus/contracts';
import type {
  IndexedMemory,
  IndexFilter,
  ScrollRequest,
  ScrollResult,
  SearchHit,
  SearchRequest,
  SearchResult,
  StatsResult,
  VectorIndex,
  VectorIndexCapabilities,
} from '@membus/vector-index';
import {
  compileFilter,
  DEFAULT_HYBRID_ALPHA,
  fuseHybrid,
  hybridLegDepth,
  toFilterPayload,
} from '@membus/vector-index';
import type hnswlib from 'hnswlib-node';
import { BoundedHeap } from './bounded-heap.ts';
import {
  createGraph,
  currentGeneration,
  type HnswOptions,
  hasGraphFiles,
  loadGraph,
  type RebuildReason,
  rebuildReasons,
  saveGraph,
} from './hnsw-graph.ts';
import { type KeywordCandidates, KeywordIndex } from './keyword-index.ts';
import {
  type CandidateSource,
  type CoveredField,
  PayloadIndex,
  type SlotPayload,
} from './payload-index.ts';
import { type RowToWrite, SqliteStore, type StoredRow } from './sqlite-store.ts';
import { classifyStorageError, storageErrorMessage } from './storage-failures.ts';
import { grow } from './typed-arrays.ts';
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

// graphState values; 0 = the slot is absent from the graph.
const GRAPH_CURRENT = 1;
const GRAPH_STALE = 2;

const defaultHnsw: HnswOptions = {
  m: 16,
  // 64 instead of 128: half the insert CPU (graph build at 100k 154 s -> 76 s, which competes
  // with ingest on two cores) for recall@10 1.000 -> 0.999 unfiltered, 0.995 -> 0.990 at 10 %.
  efConstruction: 64,
  efSearch: 64,
  randomSeed: 100,
};

interface Scored {
  slot: number;
  score: number;
  id: string;
}

const scoredBetter = (a: Scored, b: Scored): boolean =>
  a.score > b.score || (a.score === b.score && a.id < b.id);

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
  private readonly exactScanThreshold: number;
  private readonly annCostRatio: number;
  private readonly hnsw: HnswOptions;
  private readonly indexSliceMs: number;
  private readonly hybridAlpha: number;
  private readonly saveEveryChanges: number;
  private readonly store: SqliteStore;

  private readonly arena: VectorArena;
  private readonly payloads: (SlotPayload | undefined)[] = [];
  /**
   * Columns beside `payloads` for the checks every search makes per candidate (tenant and
   * expiry): typed-array reads instead of chasing a payload object and its strings, which cost
   * ~3 µs per candidate at 100k on this kind of VM (cache and TLB misses).
   */
  private slotTenant = new Int32Array(1024);
  private slotExpiresAt = new Float64Array(1024);
  /** Ranking inputs per slot, for the same reason. */
  private slotUpdatedAt = new Float64Array(1024);
  private slotImportance = new Float64Array(1024);
  /** Tenant → small integer for `slotTenant` (0 = free slot). */
  private readonly tenantNumbers = new Map<string, number>();
  private readonly payloadIndex = new PayloadIndex();
  private readonly keywords = new KeywordIndex();
  private readonly freeSlots: number[] = [];
  private nextSlot = 0;
  /** An exact scan's matching slots and their similarities (reused; see `exactScan`). */
  private scanSlots = new Int32Array(1024);
  private scanScores = new Float64Array(1024);
  /** Counts slot writes, so that a search can tell whether slots moved while it awaited. */
  private writes = 0;
  private nextSeq = 1;
  private liveCount = 0;

  private graph: hnswlib.HierarchicalNSW | undefined;
  /** Per slot: absent from the graph, in it with its current vector, or stale/deleted there. */
  private graphState = new Uint8Array(1024);
  /** Slots whose current vector is not searchable through the graph, in insertion order. */
  private readonly tail = new Set<number>();
  private graphChangesSinceSave = 0;
  private generation = 0;
  private saving: Promise<void> | undefined;
  /** markDelete calls deferred while a save reads the graph. */
  private readonly pendingMarkDeletes: number[] = [];
  private indexTimer: NodeJS.Immediate | undefined;
  private indexedWaiters: (() => void)[] = [];
  /** Marker per slot for de-duplicating unions of candidate sets. */
  private visitMarks = new Uint32Array(1024);
  private visitEpoch = 0;
  /**
   * The query vector as the plain array hnswlib takes, filled per search: `Array.from` of a
   * Float32Array allocated ~30 KB of iterator results and boxed numbers per query.
   */
  private readonly queryPoint: number[];
  private lastError: string | undefined;
  private storeId: string | undefined;
  private closed = false;
  private readonly onGraphEvent: ((event: GraphEvent) => void) | undefined;
  private readonly graphRebuilds = Object.fromEntries(
    rebuildReasons.map((reason) => [reason, 0]),
  ) as Record<RebuildReason, number>;
  /** The rebuild that the start began, until its last memory is in the graph. */
  private rebuilding: { reason: RebuildReason; problem: string; started: number } | undefined;

  constructor(options: EmbeddedVectorIndexOptions) {
    this.directory = options.directory;
    this.dimension = options.dimension;
    this.exactScanThreshold = options.exactScanThreshold ?? 2_000;
    this.annCostRatio = options.annCostRatio ?? 600;
    this.hnsw = { ...defaultHnsw, ...options.hnsw };
    this.indexSliceMs = options.indexSliceMs ?? 5;
    this.hybridAlpha = options.hybridAlpha ?? DEFAULT_HYBRID_ALPHA;
    this.saveEveryChanges = options.saveEveryChanges ?? 20_000;
    this.arena = new VectorArena(options.dimension);
    this.queryPoint = new Array<number>(options.dimension).fill(0);
    this.onGraphEvent = options.onGraphEvent;
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
    this.storeId = storeId;

    const byteLength = this.dimension * 4;
    for (const row of this.store.loadAll()) {
      if (row.vector.byteLength !== byteLength)
        throw new MembusError(
          'INTERNAL',
          `memory ${row.id} in ${this.directory} has a vector of ${row.vector.byteLength} bytes, not ${byteLength}`,
        );
      const payload = payloadFromRow(row);
      this.ensureSlotCapacity(row.slot);
      this.arena.setBytes(row.slot, row.vector);
      this.setPayload(row.slot, payload);
      this.payloadIndex.add(row.slot, payload);
      this.keywords.set(row.slot, row.text);
      this.liveCount++;
      if (row.slot >= this.nextSlot) this.nextSlot = row.slot + 1;
    }
    for (let slot = 0; slot < this.nextSlot; slot++)
      if (this.payloads[slot] === undefined) this.freeSlots.push(slot);
    this.freeSlots.reverse();
    this.nextSeq = this.store.maxSeq() + 1;

    this.generation = await currentGeneration(this.directory);
    const result = await loadGraph(this.directory, this.dimension, this.hnsw, {
      storeId,
      labelLimit: 4 * this.nextSlot + 65_536,
      row: (slot) => {
        const payload = this.payloads[slot];
        return payload === undefined
          ? undefined
          : { seq: payload.seq, vector: this.arena.view(slot) };
      },
    });
    const loaded = result.loaded;
    if (loaded === undefined) {
      this.graph = createGraph(this.dimension, Math.max(4096, this.nextSlot), this.hnsw);
      for (let slot = 0; slot < this.nextSlot; slot++)
        if (this.payloads[slot] !== undefined) this.tail.add(slot);
      this.graphChangesSinceSave = this.tail.size;
      // A new store has nothing to rebuild; one with memories and no graph was stopped before
      // its first save.
      const reason = result.reason ?? (this.liveCount > 0 ? 'missing' : undefined);
      if (reason !== undefined) {
        const problem = result.problem ?? 'no graph was saved before the last stop';
        this.graphRebuilds[reason]++;
        this.rebuilding = { reason, problem, started: performance.now() };
        this.onGraphEvent?.({ type: 'rebuild-started', reason, problem, memories: this.liveCount });
      }
    } else {
      // Sequence numbers above the watermark may be in the graph's past even if SQLite no
      // longer holds them (the newest rows deleted): never reuse one for a new vector.
      this.nextSeq = Math.max(this.nextSeq, loaded.watermark + 1);
      this.graph = loaded.index;
      for (const label of loaded.labels) {
        this.ensureSlotCapacity(label);
        const payload = this.payloads[label];
        if (payload !== undefined && payload.seq <= loaded.watermark && !loaded.tail.has(label)) {
          this.graphState[label] = GRAPH_CURRENT;
        } else {
          this.graphState[label] = GRAPH_STALE;
          this.markDeleted(label);
          this.graphChangesSinceSave++;
        }
      }
      for (let slot = 0; slot < this.nextSlot; slot++)
        if (this.payloads[slot] !== undefined && this.graphState[slot] !== GRAPH_CURRENT)
          this.tail.add(slot);
    }
    this.scheduleIndexing();
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
        slot = this.freeSlots.pop() ?? this.nextSlot++;
        allocated.push(slot);
      }
      // `seq` versions the vector: a change that keeps the vector keeps the graph point current.
      const unit = vector === undefined ? undefined : normalized(vector);
      const rowSeq = unit === undefined ? this.payloads[slot]!.seq : seq++;
      const payload = payloadFromRecord(record, dedupKey, rowSeq);
      changes.push({ slot, payload, vector: unit, text: record.text });
      rows.push(rowFromRecord(record, payload, slot, unit ?? this.arena.view(slot)));
    }
    try {
      this.store.writeRows(rows);
    } catch (error) {
      for (const slot of allocated.reverse()) this.freeSlots.push(slot);
      throw new MembusError('BACKEND_FAILED', 'writing memories to SQLite failed', {
        cause: error,
      });
    }
    this.nextSeq = seq;
    for (const { slot, payload, vector, text } of changes) {
      this.ensureSlotCapacity(slot);
      this.keywords.set(slot, text);
      const previous = this.payloads[slot];
      if (previous === undefined) this.liveCount++;
      else this.payloadIndex.remove(slot, previous);
      this.setPayload(slot, payload);
      this.payloadIndex.add(slot, payload);
      if (vector === undefined) continue;
      this.arena.set(slot, vector);
      this.retireFromGraph(slot);
      this.tail.add(slot);
    }
    this.scheduleIndexing();
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
      const payload = this.payloads[slot];
      if (payload === undefined) continue;
      this.payloadIndex.remove(slot, payload);
      this.keywords.remove(slot);
      this.setPayload(slot, undefined);
      this.liveCount--;
      this.tail.delete(slot);
      this.retireFromGraph(slot);
      this.freeSlots.push(slot);
    }
    this.resolveIndexedWaiters();
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
    if (legs !== undefined && legs.writes !== this.writes) legs = this.keywordLeg(request, depth);
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
          id: this.payloads[item.slot]?.id ?? '',
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

  /** A request's candidate set and predicates (valid until the next write). */
  private searchFilter(request: SearchRequest) {
    // One candidate set for both legs.
    const filterCandidates = this.payloadIndex.candidates(request.tenant, request.filter);
    const matches = this.predicate(request.tenant, request.filter, request.now);
    const candidateMatches = this.predicate(
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
      candidates: this.candidateIterator(filter.filterCandidates, filter.candidateMatches),
      limit: depth,
    });
    return { ...filter, keyword, writes: this.writes };
  }

  async scroll(request: ScrollRequest): Promise<ScrollResult> {
    this.assertOpen();
    const limit = Math.max(0, Math.floor(request.limit));
    const candidates = this.payloadIndex.candidates(request.tenant, request.filter);
    const matches = this.predicate(request.tenant, request.filter, request.now, candidates.covers);
    const after = request.after;
    const heap = new BoundedHeap<SlotPayload>(limit + 1, newerFirst);
    this.forEachCandidate(candidates, (slot) => {
      if (!matches(slot)) return;
      const payload = this.payloads[slot]!;
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
    const matches = this.predicate(tenant, filter, now, candidates.covers);
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
    this.forEachCandidate(candidates, (slot) => {
      if (!matches(slot)) return;
      const payload = this.payloads[slot]!;
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

  async whenIndexed(): Promise<void> {
    if (this.tail.size === 0 || this.closed) return;
    await new Promise<void>((resolve) => this.indexedWaiters.push(resolve));
  }

  async newestEmbeddingModel(): Promise<string | undefined> {
    this.assertOpen();
    return this.store.newestEmbeddingModel();
  }

  status(): EmbeddedIndexStatus {
    return {
      count: this.liveCount,
      indexed: this.liveCount - this.tail.size,
      tail: this.tail.size,
      saving: this.saving !== undefined,
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
      graphRebuilds: { ...this.graphRebuilds },
    };
  }

  memoryCounts(): MemoryCount[] {
    return this.payloadIndex.countByTierAndKind(tierValues, kindValues);
  }

  async saveGraph(): Promise<void> {
    while (this.saving !== undefined) await this.saving;
    const graph = this.graph;
    if (graph === undefined) return;
    this.stopIndexing();
    const manifest = {
      dimension: this.dimension,
      m: this.hnsw.m,
      efConstruction: this.hnsw.efConstruction,
      watermark: this.nextSeq - 1,
      tail: [...this.tail],
      ...(this.storeId !== undefined ? { storeId: this.storeId } : {}),
    };
    const changes = this.graphChangesSinceSave;
    const generation = this.generation + 1;
    const saving = saveGraph(this.directory, graph, manifest, generation)
      .then(() => {
        this.generation = generation;
        this.graphChangesSinceSave -= changes;
      })
      .finally(() => {
        this.saving = undefined;
        for (const slot of this.pendingMarkDeletes.splice(0)) this.markDeleted(slot);
        this.scheduleIndexing();
      });
    this.saving = saving;
    await saving;
  }

  async close(options: { persistGraph?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopIndexing();
    for (const resolve of this.indexedWaiters.splice(0)) resolve();
    try {
      while (this.saving !== undefined) await this.saving.catch(() => undefined);
      if ((options.persistGraph ?? true) && this.graphChangesSinceSave > 0) await this.saveGraph();
    } finally {
      this.graph = undefined;
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

  /** The dense leg: exact scan of a small candidate set, or the filtered graph plus the tail. */
  private denseSearch(
    candidates: CandidateSource,
    query: Float32Array,
    matches: (slot: number) => boolean,
    candidateMatches: (slot: number) => boolean,
    limit: number,
  ): { scored: Scored[]; plan: string } {
    const graph = this.graph;
    const indexed = this.liveCount - this.tail.size;

    if (
      candidates.size <= this.exactScanThreshold ||
      candidates.size * candidates.size <= this.annCostRatio * indexed ||
      graph === undefined ||
      indexed <= 0
    ) {
      return {
        scored: this.exactScan(candidates, candidateMatches, query, limit),
        plan: 'exact',
      };
    }

    const heap = new BoundedHeap<Scored>(limit, scoredBetter);
    const graphState = this.graphState;
    const filter = (label: number): boolean =>
      graphState[label] === GRAPH_CURRENT && matches(label);
    // hnswlib keeps exploring until it holds `ef` candidates that pass the filter, so a
    // selective filter already widens the search; scaling ef by 1/selectivity as well made
    // 10 %-filtered searches at 100k take ~40 ms for no recall gain.
    graph.setEf(Math.max(limit, this.hnsw.efSearch));
    const k = Math.min(limit, graph.getMaxElements());
    const point = this.queryPoint;
    for (let index = 0; index < query.length; index++) point[index] = query[index]!;
    const result = graph.searchKnn(point, k, filter);
    let found = 0;
    for (const slot of result.neighbors) {
      const payload = this.payloads[slot];
      if (payload === undefined) continue;
      heap.push({ slot, score: this.arena.dot(slot, query), id: payload.id });
      found++;
    }
    found += this.scanInto(
      heap,
      (visit) => {
        for (const slot of this.tail) visit(slot);
      },
      matches,
      query,
    );
    if (found < limit && candidates.size > found) {
      // The graph may have missed matches a selective filter left unreachable.
      return {
        scored: this.exactScan(candidates, candidateMatches, query, limit),
        plan: 'ann+exact-fallback',
      };
    }
    return { scored: heap.sorted(), plan: 'ann' };
  }

  /** A candidate source as the keyword index iterates it (each slot once). */
  private candidateIterator(
    source: CandidateSource,
    matches: (slot: number) => boolean,
  ): KeywordCandidates {
    return {
      size: source.size,
      forEach: (visit) => this.forEachCandidate(source, visit),
      matches,
      contains: () => {
        // Marks every member with a fresh epoch (forEachCandidate bumps it for unions only).
        const epoch = this.nextVisitEpoch();
        const marks = this.visitMarks;
        for (const set of source.sets) for (const slot of set) marks[slot] = epoch;
        return (slot) => marks[slot] === epoch;
      },
    };
  }

  /**
   * The full predicate for one request, by slot: live, same tenant, not expired, filter. A
   * filter field the candidate set already implies (`covers`) is not checked again; a filter
   * with nothing else left is answered from the typed columns alone. Valid until the next
   * write (the columns may be reallocated).
   */
  private predicate(
    tenant: string,
    filter: IndexFilter | undefined,
    now: number,
    covers?: CoveredField,
  ): (slot: number) => boolean {
    const tenantNumber = this.tenantNumbers.get(tenant) ?? -1;
    const tenants = this.slotTenant;
    const expiresAt = this.slotExpiresAt;
    const rest = residualFilter(filter, covers);
    if (rest === undefined)
      return (slot) => tenants[slot] === tenantNumber && expiresAt[slot]! > now;
    const compiled = compileFilter(rest);
    const payloads = this.payloads;
    return (slot) =>
      tenants[slot] === tenantNumber && expiresAt[slot]! > now && compiled(payloads[slot]!);
  }

  private setPayload(slot: number, payload: SlotPayload | undefined): void {
    this.writes++;
    this.payloads[slot] = payload;
    if (payload === undefined) {
      this.slotTenant[slot] = 0;
      return;
    }
    let tenantNumber = this.tenantNumbers.get(payload.tenant);
    if (tenantNumber === undefined) {
      tenantNumber = this.tenantNumbers.size + 1;
      this.tenantNumbers.set(payload.tenant, tenantNumber);
    }
    this.slotTenant[slot] = tenantNumber;
    this.slotExpiresAt[slot] = payload.expiresAt ?? Number.POSITIVE_INFINITY;
    this.slotUpdatedAt[slot] = payload.updatedAt;
    this.slotImportance[slot] = payload.importance;
  }

  private forEachCandidate(source: CandidateSource, visit: (slot: number) => void): void {
    if (source.sets.length === 1) {
      for (const slot of source.sets[0]!) visit(slot);
      return;
    }
    const epoch = this.nextVisitEpoch();
    const marks = this.visitMarks;
    for (const set of source.sets)
      for (const slot of set) {
        if (marks[slot] === epoch) continue;
        marks[slot] = epoch;
        visit(slot);
      }
  }

  /** A marker value no slot carries yet in `visitMarks`. */
  private nextVisitEpoch(): number {
    this.visitEpoch++;
    if (this.visitEpoch === 0xffffffff) {
      this.visitMarks.fill(0);
      this.visitEpoch = 1;
    }
    return this.visitEpoch;
  }

  private exactScan(
    candidates: CandidateSource,
    matches: (slot: number) => boolean,
    query: Float32Array,
    limit: number,
  ): Scored[] {
    const heap = new BoundedHeap<Scored>(limit, scoredBetter);
    this.scanInto(heap, (visit) => this.forEachCandidate(candidates, visit), matches, query);
    return heap.sorted();
  }

  /**
   * Scores the visited slots that pass `matches` into `heap`: matches first, then their
   * similarities in one batch (see VectorArena.dotMany). Returns how many matched.
   */
  private scanInto(
    heap: BoundedHeap<Scored>,
    visitSlots: (visit: (slot: number) => void) => void,
    matches: (slot: number) => boolean,
    query: Float32Array,
  ): number {
    let count = 0;
    visitSlots((slot) => {
      if (!matches(slot)) return;
      if (count === this.scanSlots.length) {
        this.scanSlots = grow(this.scanSlots, count + 1);
        this.scanScores = grow(this.scanScores, count + 1);
      }
      this.scanSlots[count++] = slot;
    });
    const slots = this.scanSlots;
    const scores = this.scanScores;
    this.arena.dotMany(slots, count, query, scores);
    for (let at = 0; at < count; at++) {
      const score = scores[at]!;
      const worst = heap.worst;
      if (worst !== undefined && score < worst.score) continue;
      const slot = slots[at]!;
      heap.push({ slot, score, id: this.payloads[slot]!.id });
    }
    return count;
  }

  /**
   * Hits whose records are read from SQLite on first access: the caller ranks by `ranking` and
   * reads only what it keeps (a query with recency or importance weights asks for 5× topK
   * candidates, at least 50, to re-rank; reading and parsing them all cost ~0.5 ms per query).
   */
  private toHits<T extends { slot: number; id?: string }>(
    tenant: string,
    items: readonly T[],
    scores: (item: T) => Omit<SearchHit, 'record' | 'ranking'>,
  ): SearchHit[] {
    const hits: SearchHit[] = [];
    for (const item of items) {
      const id = item.id ?? this.payloads[item.slot]?.id;
      if (id === undefined) continue;
      hits.push(
        new LazyHit(
          this.store,
          tenant,
          id,
          {
            updatedAt: this.slotUpdatedAt[item.slot]!,
            importance: this.slotImportance[item.slot]!,
          },
          scores(item),
        ),
      );
    }
    return hits;
  }

  private ensureSlotCapacity(slot: number): void {
    this.arena.ensure(slot);
    if (slot < this.graphState.length) return;
    this.graphState = grow(this.graphState, slot + 1);
    this.visitMarks = grow(this.visitMarks, slot + 1);
    this.slotTenant = grow(this.slotTenant, slot + 1);
    this.slotExpiresAt = grow(this.slotExpiresAt, slot + 1);
    this.slotUpdatedAt = grow(this.slotUpdatedAt, slot + 1);
    this.slotImportance = grow(this.slotImportance, slot + 1);
  }

  /** The slot's vector in the graph is no longer current: hide it until it is re-added. */
  private retireFromGraph(slot: number): void {
    if (this.graphState[slot] !== GRAPH_CURRENT) return;
    this.graphState[slot] = GRAPH_STALE;
    this.graphChangesSinceSave++;
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

  private scheduleIndexing(): void {
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

  private stopIndexing(): void {
    if (this.indexTimer === undefined) return;
    clearImmediate(this.indexTimer);
    this.indexTimer = undefined;
  }

  private indexSlice(): void {
    const graph = this.graph;
    if (graph === undefined || this.closed || this.saving !== undefined) return;
    const deadline = performance.now() + this.indexSliceMs;
    try {
      for (const slot of this.tail) {
        if (graph.getCurrentCount() >= graph.getMaxElements())
          graph.resizeIndex(Math.max(graph.getMaxElements() * 2, this.arena.capacity));
        graph.addPoint(Array.from(this.arena.view(slot)), slot);
        this.graphState[slot] = GRAPH_CURRENT;
        this.tail.delete(slot);
        this.graphChangesSinceSave++;
        if (performance.now() >= deadline) break;
      }
    } catch (error) {
      // Searches stay correct (the tail is scanned exactly); waiters must not hang.
      this.lastError = `indexing failed: ${error instanceof Error ? error.message : String(error)}`;
      for (const resolve of this.indexedWaiters.splice(0)) resolve();
      return;
    }
    if (this.graphChangesSinceSave >= this.saveEveryChanges) {
      this.saveGraph().catch((error: unknown) => {
        this.lastError = `saving the graph failed: ${error instanceof Error ? error.message : String(error)}`;
      });
      return;
    }
    this.scheduleIndexing();
  }

  private resolveIndexedWaiters(): void {
    if (this.tail.size !== 0) return;
    if (this.rebuilding !== undefined) this.finishRebuild();
    if (this.indexedWaiters.length === 0) return;
    for (const resolve of this.indexedWaiters.splice(0)) resolve();
  }

  /** The start's rebuild is done: says so, and saves the graph so a restart loads it. */
  private finishRebuild(): void {
    const rebuilding = this.rebuilding;
    if (rebuilding === undefined) return;
    this.rebuilding = undefined;
    this.onGraphEvent?.({
      type: 'rebuild-finished',
      reason: rebuilding.reason,
      problem: rebuilding.problem,
      memories: this.liveCount,
      seconds: (performance.now() - rebuilding.started) / 1000,
    });
    if (this.closed || this.graphChangesSinceSave === 0) return;
    this.saveGraph().catch((error: unknown) => {
      this.lastError = `saving the graph failed: ${error instanceof Error ? error.message : String(error)}`;
    });
  }
}

/** The filter without the field the candidate set implies; undefined when nothing is left. */
function residualFilter(
  filter: IndexFilter | undefined,
  covers: CoveredField | undefined,
): IndexFilter | undefined {
  if (filter === undefined) return undefined;
  let rest: IndexFilter | undefined;
  for (const [key, value] of Object.entries(filter)) {
    if (value === undefined || key === covers) continue;
    rest ??= {};
    (rest as Record<string, unknown>)[key] = value;
  }
  return rest;
}

/** A search hit whose record is read on first access (the slot's row exists: writes are synchronous). */
class LazyHit implements SearchHit {
  readonly score: number;
  readonly dense?: number;
  readonly keyword?: number;
  readonly ranking: { updatedAt: number; importance: number };
  #record: MemoryRecord | undefined;

  constructor(
    private readonly store: SqliteStore,
    private readonly tenant: string,
    private readonly id: string,
    ranking: { updatedAt: number; importance: number },
    scores: Omit<SearchHit, 'record' | 'ranking'>,
  ) {
    this.score = scores.score;
    if (scores.dense !== undefined) this.dense = scores.dense;
    if (scores.keyword !== undefined) this.keyword = scores.keyword;
    this.ranking = ranking;
  }

  get record(): MemoryRecord {
    if (this.#record === undefined) {
      const record = this.store.getRecord(this.tenant, this.id);
      if (record === undefined)
        throw new MembusError('NOT_FOUND', `memory ${this.id} was deleted after the search`, {
          details: { id: this.id },
        });
      this.#record = record;
    }
    return this.#record;
  }
}

function payloadFromRecord(record: MemoryRecord, dedupKey: string, seq: number): SlotPayload {
  return {
    ...toFilterPayload(record, dedupKey),
    tenant: record.tenant,
    seq,
    importance: record.importance,
  };
}

function rowFromRecord(
  record: MemoryRecord,
  payload: SlotPayload,
  slot: number,
  vector: Float32Array,
): Omit<RowToWrite, 'text' | 'keys'> {
  return {
    tenant: payload.tenant,
    id: payload.id,
    slot,
    seq: payload.seq,
    scope: payload.scope,
    user_id: payload.userId ?? null,
    agent_id: payload.agentId ?? null,
    session_id: payload.sessionId ?? null,
    namespace: payload.namespace ?? null,
    kind: payload.kind,
    tier: payload.tier,
    created_at: payload.createdAt,
    updated_at: payload.updatedAt,
    expires_at: payload.expiresAt ?? null,
    dedup_key: payload.dedupKey ?? null,
    importance: record.importance,
    access_count: record.accessCount,
    last_accessed_at:
      record.lastAccessedAt === undefined ? null : Date.parse(record.lastAccessedAt),
    labels: JSON.stringify({
      categories: payload.categories,
      tags: payload.tags,
      metadata: payload.metadata,
    }),
    record: JSON.stringify(record),
    vector: Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength),
  };
}

function payloadFromRow(row: StoredRow): SlotPayload {
  // Our own column, written by `rowFromRecord`.
  const labels = JSON.parse(row.labels) as {
    categories: string[];
    tags: string[];
    metadata: Record<string, unknown>;
  };
  return {
    tenant: row.tenant,
    seq: row.seq,
    importance: row.importance,
    id: row.id,
    scope: row.scope,
    userId: row.user_id ?? undefined,
    agentId: row.agent_id ?? undefined,
    sessionId: row.session_id ?? undefined,
    namespace: row.namespace ?? undefined,
    kind: row.kind,
    tier: row.tier,
    categories: labels.categories,
    tags: labels.tags,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    expiresAt: row.expires_at ?? undefined,
    dedupKey: row.dedup_key ?? undefined,
    metadata: labels.metadata,
  };
}
