import { MembusError, type MemoryFilter, type MemoryRecord, type Scope } from '@membus/contracts';

/** A memory and its embedding, as written to an index. */
export interface IndexedMemory {
  /** The full record; the index stores it as payload and returns it with hits. */
  record: MemoryRecord;
  /**
   * L2-normalised embedding of `record.text` (length = the index dimension). Absent: keep the
   * stored vector (the memory must exist; used for changes that leave the text alone).
   */
  vector?: Float32Array;
  /** Exact-duplicate key: same scope, owner ids, namespace and content hash. */
  dedupKey: string;
}

/** The wire filter plus fields only services use. */
export interface IndexFilter extends MemoryFilter {
  /** Only memories with this exact-duplicate key. */
  dedupKey?: string;
}

export interface SearchRequest {
  /** Tenant from the subject; an index never returns another tenant's memory. */
  tenant: string;
  /**
   * Query vector, L2-normalised, of the index dimension. May still be on its way (the embedder's
   * answer): an adapter can do what needs no vector meanwhile — the embedded one runs its keyword
   * leg while the embedder works on the other core. Absent only for a `keyword` search on an
   * index with the `keyword` capability: the query is then never embedded, and its hits carry
   * no `dense` score.
   */
  vector?: Float32Array | Promise<Float32Array>;
  filter?: IndexFilter;
  /** How many hits to return, best first. */
  limit: number;
  /** Current time (ms since epoch): memories with `expiresAt <= now` are never returned. */
  now: number;
  /**
   * `dense` (default): by vector. `keyword`: BM25 over `text`. `hybrid`: both legs under the
   * same filter, fused as `alpha · min-max normalised cosine + (1 − alpha) · BM25 / best BM25` (hybrid-fusion.ts). Adapters without keyword search answer `dense`.
   */
  mode?: SearchMode;
  /** The query text, for the keyword leg. */
  text?: string;
}

export type SearchMode = 'dense' | 'keyword' | 'hybrid';

export interface SearchHit {
  /**
   * The full record. With `ranking` present an adapter may read it on first access, so a caller
   * that ranks by `ranking` and keeps a few hits reads only those.
   */
  readonly record: MemoryRecord;
  /** Ranking inputs known without reading the record (`updatedAt` in ms since epoch). */
  ranking?: { updatedAt: number; importance: number };
  /** Cosine similarity (dense), normalised BM25 (keyword) or normalised fused rank (hybrid). */
  score: number;
  /** Cosine similarity to the query vector, when computed. */
  dense?: number;
  /** BM25 score normalised to 0..1 within the result, when the keyword leg found the memory. */
  keyword?: number;
}

export interface SearchResult {
  hits: SearchHit[];
  /** How the index answered, for metrics and debugging (e.g. `exact`, `ann`). */
  plan: string;
}

/** Keyset position in newest-first order. */
export interface ScrollCursor {
  createdAt: number;
  id: string;
}

export interface ScrollRequest {
  tenant: string;
  filter?: IndexFilter;
  limit: number;
  /** Continue after this position (exclusive). */
  after?: ScrollCursor;
  now: number;
}

export interface ScrollResult {
  /** Newest first (createdAt desc, then id desc). */
  records: MemoryRecord[];
  /** Present when more records may follow. */
  next?: ScrollCursor;
}

export interface StatsResult {
  total: number;
  byScope: Partial<Record<Scope, number>>;
  byKind: Record<string, number>;
  byTier: Record<string, number>;
  byNamespace: Record<string, number>;
  byCategory: Record<string, number>;
  /** ms since epoch */
  oldest?: number;
  newest?: number;
}

/** The stats of no memories, where every count starts. */
export function emptyStats(): StatsResult {
  return { total: 0, byScope: {}, byKind: {}, byTier: {}, byNamespace: {}, byCategory: {} };
}

/**
 * Refuses a memory whose timestamps do not parse (every adapter orders and filters by them):
 * INVALID_MESSAGE naming the memory.
 */
export function assertRecordTimestamps(record: MemoryRecord): void {
  if (
    Number.isNaN(Date.parse(record.createdAt)) ||
    Number.isNaN(Date.parse(record.updatedAt)) ||
    (record.expiresAt !== undefined && Number.isNaN(Date.parse(record.expiresAt)))
  )
    throw new MembusError('INVALID_MESSAGE', `memory ${record.id} has an invalid timestamp`, {
      details: { id: record.id },
    });
}

export interface VectorIndexCapabilities {
  /** Adapter name for logs and metrics, e.g. `embedded`, `qdrant`. */
  name: string;
  /** Data survives close + reopen. */
  persistent: boolean;
  /** Answers `keyword` and `hybrid` search modes (otherwise every search is dense). */
  keyword?: boolean;
}

/**
 * Owns memories and their vectors. Every call is tenant-scoped; the tenant is never read
 * from a filter. Adapters: embedded (SQLite + in-memory ANN), qdrant.
 */
export interface VectorIndex {
  readonly capabilities: VectorIndexCapabilities;
  /** Vector dimension this index holds. */
  readonly dimension: number;
  /** Inserts or replaces by `record.id` (same tenant), atomically for the batch. */
  upsert(items: readonly IndexedMemory[]): Promise<void>;
  /** Records by id (expired ones included: the caller decides), in no particular order. */
  get(tenant: string, ids: readonly string[]): Promise<MemoryRecord[]>;
  /**
   * The stored vectors of these ids (those that exist), as the index holds them (L2-normalised):
   * what an export with vectors writes. Optional: an index without it exports no vectors.
   */
  vectors?(tenant: string, ids: readonly string[]): Promise<Map<string, Float32Array>>;
  /** Deletes by id; returns the ids that existed. */
  delete(tenant: string, ids: readonly string[]): Promise<string[]>;
  /**
   * For each exact-duplicate key, the newest live memory with it (what `scroll` with that
   * `dedupKey` and limit 1 returns), keys without one absent: ingest's duplicate checks for a
   * whole batch in one call. Optional: for an index where one call per key costs a round trip
   * (Qdrant); without it, ingest scrolls per key.
   */
  newestByDedupKey?(
    tenant: string,
    keys: readonly string[],
    now: number,
  ): Promise<Map<string, MemoryRecord>>;
  /** Most similar live memories matching the filter. */
  search(request: SearchRequest): Promise<SearchResult>;
  /** Live memories matching the filter, newest first, in pages. */
  scroll(request: ScrollRequest): Promise<ScrollResult>;
  /** Counts of live memories matching the filter. */
  stats(tenant: string, filter: IndexFilter | undefined, now: number): Promise<StatsResult>;
  /** Adds `count` to accessCount and sets lastAccessedAt for each id (batched by the caller). */
  recordAccess(
    tenant: string,
    accesses: ReadonlyMap<string, { count: number; at: number }>,
  ): Promise<void>;
  /**
   * The embedding model of the most recently written memories (caller vectors aside), when the
   * index can tell cheaply: after a restart, the model to compute query vectors with until the
   * embedder names its own.
   */
  newestEmbeddingModel?(): Promise<string | undefined>;
  /** Flushes and releases resources. */
  close(): Promise<void>;
}
