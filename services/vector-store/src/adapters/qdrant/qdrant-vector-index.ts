import { createHash } from 'node:crypto';
import { MembusError, type MemoryRecord, type Scope } from '@membus/contracts';
import { retry } from '@membus/service-runtime';
import type {
  IndexedMemory,
  IndexFilter,
  ScrollCursor,
  ScrollRequest,
  ScrollResult,
  SearchHit,
  SearchMode,
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
import {
  QdrantClient,
  QdrantClientResourceExhaustedError,
  QdrantClientTimeoutError,
  type Schemas,
} from '@qdrant/js-client-rest';
import {
  metadataPathIndex,
  PayloadKeys,
  type QdrantCondition,
  type QdrantFilter,
  toQdrantFilter,
} from './qdrant-filter.ts';
import {
  documentSparseVector,
  querySparseVector,
  SPARSE_VECTOR_NAME,
  type SparseTextVector,
} from './sparse-text-vector.ts';

export interface QdrantVectorIndexOptions {
  /** e.g. `http://127.0.0.1:6333`. */
  url: string;
  apiKey?: string;
  /** Vector dimension of the collection. */
  dimension: number;
  /** Collection name; see `qdrantCollectionName`. */
  collection: string;
  /** Points per write request; 256 unless told. */
  batchSize?: number;
  /** Per-request timeout; 10 s unless told. */
  timeoutMs?: number;
  /** Attempts per call on transient failures (network, timeout, 429, 5xx); 4 unless told. */
  attempts?: number;
  /** First retry delay, doubled per attempt, with full jitter; 200 ms unless told. */
  retryBaseMs?: number;
  /** Called before each retry (for logs and metrics). */
  onRetry?: (info: { operation: string; attempt: number; delayMs: number; error: unknown }) => void;
  /**
   * Called with a problem worth an operator's attention that does not stop the index (e.g. a
   * collection without the keyword leg). Default: `process.emitWarning`.
   */
  onWarning?: (message: string, details: Record<string, unknown>) => void;
  /**
   * Hybrid fusion weight: relevance = alpha · cosine + (1 − alpha) · BM25 / best BM25.
   * Default 0.5, as the embedded index (`@membus/vector-index`).
   */
  hybridAlpha?: number;
}

/** `membus_<model>_<dimension>`: one collection per embedding model and dimension. */
export function qdrantCollectionName(model: string, dimension: number): string {
  const slug = model
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return `membus_${slug || 'default'}_${dimension}`;
}

/**
 * The Qdrant point id of a memory: a UUID (v5 layout) of SHA-1(tenant, memory id). The
 * memory id alone would let two tenants' memories with one id overwrite each other; the
 * memory id itself is kept in the `id` payload field.
 */
export function qdrantPointId(tenant: string, id: string): string {
  const hash = createHash('sha1').update(`membus\n${tenant}\n${id}`).digest();
  hash[6] = ((hash[6] as number) & 0x0f) | 0x50;
  hash[8] = ((hash[8] as number) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The payload of one point: filter fields on top, the record as is under `record`. */
export function toQdrantPayload(item: IndexedMemory): Record<string, unknown> {
  const { metadata, ...rest } = item.record;
  const { paths, arrays } = metadataPathIndex(metadata);
  const record = item.record;
  return {
    [PayloadKeys.tenant]: record.tenant,
    [PayloadKeys.id]: record.id,
    [PayloadKeys.scope]: record.scope,
    ...(record.userId !== undefined ? { [PayloadKeys.userId]: record.userId } : {}),
    ...(record.agentId !== undefined ? { [PayloadKeys.agentId]: record.agentId } : {}),
    ...(record.sessionId !== undefined ? { [PayloadKeys.sessionId]: record.sessionId } : {}),
    ...(record.namespace !== undefined ? { [PayloadKeys.namespace]: record.namespace } : {}),
    [PayloadKeys.kind]: record.kind,
    [PayloadKeys.tier]: record.tier,
    [PayloadKeys.categories]: record.categories,
    [PayloadKeys.tags]: record.tags,
    [PayloadKeys.dedupKey]: item.dedupKey,
    [PayloadKeys.createdAt]: Date.parse(record.createdAt),
    [PayloadKeys.updatedAt]: Date.parse(record.updatedAt),
    ...(record.expiresAt !== undefined
      ? { [PayloadKeys.expiresAt]: Date.parse(record.expiresAt) }
      : {}),
    [PayloadKeys.metadata]: metadata,
    [PayloadKeys.metadataPaths]: paths,
    [PayloadKeys.metadataArrays]: arrays,
    [PayloadKeys.record]: rest,
  };
}

interface Decoded {
  pointId: string;
  record: MemoryRecord;
  dedupKey: string;
  createdAt: number;
}

/** Payload keys read back: enough to rebuild the record and re-check a filter. */
const READ_KEYS = [
  PayloadKeys.record,
  PayloadKeys.metadata,
  PayloadKeys.dedupKey,
  PayloadKeys.createdAt,
];

function decode(point: { id: string | number; payload?: unknown }): Decoded {
  const payload = (point.payload ?? {}) as Record<string, unknown>;
  const rest = payload[PayloadKeys.record] as Omit<MemoryRecord, 'metadata'>;
  const record = {
    ...rest,
    metadata: (payload[PayloadKeys.metadata] ?? {}) as MemoryRecord['metadata'],
  } as MemoryRecord;
  return {
    pointId: String(point.id),
    record,
    dedupKey: String(payload[PayloadKeys.dedupKey] ?? ''),
    createdAt: Number(payload[PayloadKeys.createdAt] ?? Date.parse(record.createdAt)),
  };
}

/** Newest first: createdAt desc, then id desc (the cursor order of every index). */
function newestFirst(a: Decoded, b: Decoded): number {
  if (a.createdAt !== b.createdAt) return b.createdAt - a.createdAt;
  return a.record.id < b.record.id ? 1 : a.record.id > b.record.id ? -1 : 0;
}

function withCondition(filter: QdrantFilter, condition: QdrantCondition): QdrantFilter {
  return { ...filter, must: [...(filter.must ?? []), condition] };
}

const KEYWORD_FIELDS = [
  PayloadKeys.id,
  PayloadKeys.scope,
  PayloadKeys.userId,
  PayloadKeys.agentId,
  PayloadKeys.sessionId,
  PayloadKeys.namespace,
  PayloadKeys.kind,
  PayloadKeys.tier,
  PayloadKeys.categories,
  PayloadKeys.tags,
  PayloadKeys.dedupKey,
  PayloadKeys.metadataPaths,
  PayloadKeys.metadataArrays,
] as const;
const INTEGER_FIELDS = [PayloadKeys.createdAt, PayloadKeys.updatedAt, PayloadKeys.expiresAt];
const FACET_LIMIT = 10_000;
const READ_CHUNK = 500;

/** Opens (and creates, idempotently) the collection; fails fast when Qdrant is unreachable. */
export async function openQdrantVectorIndex(
  options: QdrantVectorIndexOptions,
): Promise<VectorIndex> {
  const index = new QdrantVectorIndex(options);
  await index.open();
  return index;
}

/** The collection's unnamed dense vector, as named in a point's vector map. */
const DENSE_VECTOR_NAME = '';

/** A point found by one leg of a search, with that leg's score. */
interface Scored {
  decoded: Decoded;
  score: number;
}

/** One leg of a search: its points, best first, and how it was answered. */
interface Leg {
  scored: Scored[];
  plan: string;
}

class QdrantVectorIndex implements VectorIndex {
  readonly dimension: number;
  readonly #client: QdrantClient;
  readonly #collection: string;
  readonly #batchSize: number;
  readonly #attempts: number;
  readonly #retryBaseMs: number;
  readonly #onRetry: QdrantVectorIndexOptions['onRetry'];
  readonly #onWarning: NonNullable<QdrantVectorIndexOptions['onWarning']>;
  readonly #hybridAlpha: number;
  readonly #url: string;
  /**
   * The collection has the `text` sparse vector (with the idf modifier): the keyword leg. A
   * collection created before it has none; its keyword and hybrid searches are answered dense.
   */
  #keyword = false;

  constructor(options: QdrantVectorIndexOptions) {
    this.dimension = options.dimension;
    this.#collection = options.collection;
    this.#batchSize = options.batchSize ?? 256;
    this.#attempts = options.attempts ?? 4;
    this.#retryBaseMs = options.retryBaseMs ?? 200;
    this.#onRetry = options.onRetry;
    this.#onWarning =
      options.onWarning ??
      ((message, details) =>
        process.emitWarning(message, { code: 'MEMBUS_QDRANT', detail: JSON.stringify(details) }));
    this.#hybridAlpha = options.hybridAlpha ?? DEFAULT_HYBRID_ALPHA;
    this.#url = options.url;
    this.#client = new QdrantClient({
      url: options.url,
      ...(options.apiKey !== undefined ? { apiKey: options.apiKey } : {}),
      timeout: options.timeoutMs ?? 10_000,
      checkCompatibility: false,
    });
  }

  get capabilities(): VectorIndexCapabilities {
    return { name: 'qdrant', persistent: true, ...(this.#keyword ? { keyword: true } : {}) };
  }

  async open(): Promise<void> {
    try {
      await this.#client.versionInfo();
    } catch (error) {
      throw new MembusError(
        'UNAVAILABLE',
        `Qdrant at ${this.#url} is unreachable: ${messageOf(error)}`,
        { cause: error, details: { backend: 'qdrant', url: this.#url } },
      );
    }
    const { exists } = await this.#call('check collection', () =>
      this.#client.collectionExists(this.#collection),
    );
    if (!exists) {
      try {
        await this.#call('create collection', () =>
          this.#client.createCollection(this.#collection, {
            // Unnamed dense vector (named `""` in a point's vector map) beside the keyword leg:
            // BM25 term weights per memory, IDF applied by Qdrant from the collection's statistics.
            vectors: { size: this.dimension, distance: 'Cosine' },
            sparse_vectors: { [SPARSE_VECTOR_NAME]: { modifier: 'idf' } },
            // Multitenancy: one HNSW graph per tenant (payload_m), none across tenants (m: 0).
            hnsw_config: { payload_m: 16, m: 0 },
          }),
        );
      } catch (error) {
        // Another replica created it first.
        if (statusOf(error) !== 409 && !/already exists/i.test(messageOf(error))) throw error;
      }
    }
    const info = await this.#call('read collection', () =>
      this.#client.getCollection(this.#collection),
    );
    const vectors = info.config.params.vectors as { size?: number } | undefined;
    if (vectors?.size !== undefined && vectors.size !== this.dimension) {
      throw new MembusError(
        'DIMENSION_MISMATCH',
        `Qdrant collection ${this.#collection} holds ${vectors.size}-dimensional vectors; configured ${this.dimension}`,
        { details: { expected: this.dimension, actual: vectors.size } },
      );
    }
    const sparse = info.config.params.sparse_vectors?.[SPARSE_VECTOR_NAME];
    this.#keyword = sparse?.modifier === 'idf';
    if (!this.#keyword) {
      this.#onWarning(
        `Qdrant collection ${this.#collection} ${
          sparse === undefined
            ? `has no sparse vector "${SPARSE_VECTOR_NAME}"`
            : `has a sparse vector "${SPARSE_VECTOR_NAME}" without the idf modifier`
        } (created before keyword search): keyword and hybrid searches on it are answered dense. ` +
          'Re-index into a new collection (QDRANT_COLLECTION) to enable them.',
        { backend: 'qdrant', collection: this.#collection, sparseVector: SPARSE_VECTOR_NAME },
      );
    }
    const existing = new Set(Object.keys(info.payload_schema ?? {}));
    const wanted: [string, Schemas['PayloadFieldSchema']][] = [
      [PayloadKeys.tenant, { type: 'keyword', is_tenant: true }],
      ...KEYWORD_FIELDS.map(
        (field) =>
          [field, { type: 'keyword', enable_hnsw: false }] as [
            string,
            Schemas['PayloadFieldSchema'],
          ],
      ),
      ...INTEGER_FIELDS.map(
        (field) =>
          [
            field,
            {
              type: 'integer',
              lookup: false,
              range: true,
              enable_hnsw: false,
              ...(field === PayloadKeys.createdAt ? { is_principal: true } : {}),
            },
          ] as [string, Schemas['PayloadFieldSchema']],
      ),
    ];
    for (const [field, schema] of wanted) {
      if (existing.has(field)) continue;
      await this.#call('create payload index', () =>
        this.#client.createPayloadIndex(this.#collection, {
          field_name: field,
          field_schema: schema,
          wait: true,
        }),
      );
    }
  }

  async upsert(items: readonly IndexedMemory[]): Promise<void> {
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
      if (item.vector !== undefined && item.vector.length !== this.dimension)
        throw dimensionMismatch(this.dimension, item.vector.length, 'upsert');
    }
    if (items.length === 0) return;
    // Last write wins for an id repeated within the batch.
    const latest = new Map<string, IndexedMemory>();
    for (const item of items) latest.set(qdrantPointId(item.record.tenant, item.record.id), item);
    const withoutVector = [...latest].filter(([, item]) => item.vector === undefined);
    if (withoutVector.length > 0) {
      const found = await this.#retrieve(
        withoutVector.map(([pointId]) => pointId),
        false,
      );
      const present = new Set(found.map((point) => String(point.id)));
      const missing = withoutVector.find(([pointId]) => !present.has(pointId));
      if (missing !== undefined) {
        throw new MembusError(
          'NOT_FOUND',
          `upsert without a vector: memory ${missing[1].record.id} does not exist`,
          { details: { id: missing[1].record.id } },
        );
      }
    }
    const entries = [...latest];
    for (let start = 0; start < entries.length; start += this.#batchSize) {
      const chunk = entries.slice(start, start + this.#batchSize);
      const points: Schemas['PointStruct'][] = [];
      const operations: Schemas['UpdateOperation'][] = [];
      const keywordUpdates: Schemas['PointVectors'][] = [];
      for (const [pointId, item] of chunk) {
        const payload = toQdrantPayload(item);
        const text = this.#keyword ? documentSparseVector(item.record.text) : undefined;
        if (item.vector === undefined) {
          // Replaces the payload, keeps the stored dense vector; the keyword vector follows the
          // text, as the embedded index re-indexes it.
          operations.push({ overwrite_payload: { payload, points: [pointId] } });
          if (text !== undefined)
            keywordUpdates.push({ id: pointId, vector: { [SPARSE_VECTOR_NAME]: text } });
        } else {
          points.push({ id: pointId, vector: pointVector(Array.from(item.vector), text), payload });
        }
      }
      if (points.length > 0) operations.unshift({ upsert: { points } });
      if (keywordUpdates.length > 0)
        operations.push({ update_vectors: { points: keywordUpdates } });
      await this.#call('upsert', () =>
        this.#client.batchUpdate(this.#collection, { wait: true, operations }),
      );
    }
  }

  async get(tenant: string, ids: readonly string[]): Promise<MemoryRecord[]> {
    const points = await this.#retrieve(
      [...new Set(ids)].map((id) => qdrantPointId(tenant, id)),
      READ_KEYS,
    );
    return points
      .map(decode)
      .filter((item) => item.record.tenant === tenant)
      .map((item) => item.record);
  }

  async delete(tenant: string, ids: readonly string[]): Promise<string[]> {
    const unique = [...new Set(ids)];
    const byPoint = new Map(unique.map((id) => [qdrantPointId(tenant, id), id]));
    const found = await this.#retrieve([...byPoint.keys()], [PayloadKeys.tenant]);
    const existing = found
      .filter((point) => (point.payload as Record<string, unknown>)?.tenant === tenant)
      .map((point) => String(point.id));
    if (existing.length === 0) return [];
    for (let start = 0; start < existing.length; start += READ_CHUNK) {
      const chunk = existing.slice(start, start + READ_CHUNK);
      await this.#call('delete', () =>
        this.#client.delete(this.#collection, { points: chunk, wait: true }),
      );
    }
    const deleted = new Set(existing.map((pointId) => byPoint.get(pointId)));
    return unique.filter((id) => deleted.has(id));
  }

  async search(request: SearchRequest): Promise<SearchResult> {
    const query = await request.vector;
    if (query.length !== this.dimension)
      throw dimensionMismatch(this.dimension, query.length, 'search');
    const mode: SearchMode =
      this.#keyword && request.text?.trim() ? (request.mode ?? 'dense') : 'dense';
    const limit = Math.floor(request.limit);
    if (!(limit > 0)) return { hits: [], plan: mode === 'dense' ? 'qdrant' : mode };
    const { filter, exact } = toQdrantFilter(request.filter, {
      tenant: request.tenant,
      now: request.now,
    });
    // Part of the filter has no Qdrant form: each leg over-fetches and re-checks in process.
    const matches = exact ? undefined : compileFilter(request.filter);
    const vector = Array.from(query);
    if (mode === 'dense') {
      const dense = await this.#leg('search', { query: vector }, filter, matches, limit);
      return {
        hits: dense.scored.map(({ decoded, score }) => ({
          record: decoded.record,
          score,
          dense: score,
        })),
        plan: dense.plan,
      };
    }

    // Both legs under the same filter (tenant and expiry included), fused as the embedded index.
    const sparse = querySparseVector(request.text ?? '');
    const depth = mode === 'keyword' ? limit : hybridLegDepth(limit);
    const [keyword, dense] = await Promise.all([
      sparse.indices.length === 0
        ? { scored: [], plan: 'qdrant' }
        : this.#leg(
            'keyword search',
            { query: sparse, using: SPARSE_VECTOR_NAME },
            filter,
            matches,
            depth,
          ),
      mode === 'hybrid'
        ? this.#leg('search', { query: vector }, filter, matches, depth)
        : undefined,
    ]);
    const best = keyword.scored[0]?.score ?? 1;
    // A dense-leg score is the cosine; keyword-only candidates get theirs from Qdrant.
    const cosines = new Map(dense?.scored.map((item) => [item.decoded.pointId, item.score]));
    const unscored = keyword.scored
      .map((item) => item.decoded.pointId)
      .filter((pointId) => !cosines.has(pointId));
    for (const [pointId, cosine] of await this.#cosines(request.tenant, vector, unscored))
      cosines.set(pointId, cosine);

    if (mode === 'keyword') {
      return {
        hits: keyword.scored.flatMap(({ decoded, score }): SearchHit[] => {
          const cosine = cosines.get(decoded.pointId);
          // No cosine: the point was deleted between the two calls.
          if (cosine === undefined) return [];
          return [
            { record: decoded.record, score: score / best, dense: cosine, keyword: score / best },
          ];
        }),
        plan: 'keyword',
      };
    }
    const candidates = new Map<string, { decoded: Decoded; keyword?: number }>();
    for (const { decoded } of dense?.scored ?? []) candidates.set(decoded.pointId, { decoded });
    for (const { decoded, score } of keyword.scored)
      candidates.set(decoded.pointId, { decoded, keyword: score / best });
    const ranked = fuseHybrid(
      [...candidates].flatMap(([pointId, candidate]) => {
        const cosine = cosines.get(pointId);
        if (cosine === undefined) return [];
        return [
          {
            decoded: candidate.decoded,
            id: candidate.decoded.record.id,
            cosine,
            ...(candidate.keyword !== undefined ? { keyword: candidate.keyword } : {}),
          },
        ];
      }),
      { alpha: this.#hybridAlpha, limit },
    );
    return {
      hits: ranked.map((item) => ({
        record: item.decoded.record,
        score: item.fused,
        dense: item.cosine,
        ...(item.keyword !== undefined ? { keyword: item.keyword } : {}),
      })),
      plan: `hybrid(${dense?.plan ?? 'qdrant'})`,
    };
  }

  async scroll(request: ScrollRequest): Promise<ScrollResult> {
    const { filter, exact } = toQdrantFilter(request.filter, {
      tenant: request.tenant,
      now: request.now,
    });
    const matches = exact ? undefined : compileFilter(request.filter);
    const chunk = Math.min(Math.max(request.limit + 1, 16), 1_000);
    const records: MemoryRecord[] = [];
    for await (const item of this.#ordered(filter, request.after, chunk)) {
      if (matches !== undefined && !matches(toFilterPayload(item.record, item.dedupKey))) continue;
      records.push(item.record);
      if (records.length > request.limit) break;
    }
    if (records.length <= request.limit) return { records };
    const page = records.slice(0, request.limit);
    const last = page[page.length - 1] as MemoryRecord;
    return { records: page, next: { createdAt: Date.parse(last.createdAt), id: last.id } };
  }

  async stats(tenant: string, filter: IndexFilter | undefined, now: number): Promise<StatsResult> {
    const translated = toQdrantFilter(filter, { tenant, now });
    if (!translated.exact) return this.#statsByScan(translated.filter, filter);
    const qdrantFilter = translated.filter as Schemas['Filter'];
    const { count } = await this.#call('count', () =>
      this.#client.count(this.#collection, { filter: qdrantFilter, exact: true }),
    );
    const empty: StatsResult = {
      total: 0,
      byScope: {},
      byKind: {},
      byTier: {},
      byNamespace: {},
      byCategory: {},
    };
    if (count === 0) return empty;
    const facet = async (key: string): Promise<Record<string, number>> => {
      const { hits } = await this.#call('facet', () =>
        this.#client.facet(this.#collection, {
          key,
          filter: qdrantFilter,
          limit: FACET_LIMIT,
          exact: true,
        }),
      );
      return Object.fromEntries(hits.map((hit) => [String(hit.value), hit.count]));
    };
    const edge = async (direction: 'asc' | 'desc'): Promise<number | undefined> => {
      const { points } = await this.#call('scroll', () =>
        this.#client.scroll(this.#collection, {
          filter: qdrantFilter,
          limit: 1,
          with_payload: [PayloadKeys.createdAt],
          order_by: { key: PayloadKeys.createdAt, direction },
        }),
      );
      const value = (points[0]?.payload as Record<string, unknown> | undefined)?.createdAt;
      return typeof value === 'number' ? value : undefined;
    };
    const [byScope, byKind, byTier, byNamespace, byCategory, oldest, newest] = await Promise.all([
      facet(PayloadKeys.scope),
      facet(PayloadKeys.kind),
      facet(PayloadKeys.tier),
      facet(PayloadKeys.namespace),
      facet(PayloadKeys.categories),
      edge('asc'),
      edge('desc'),
    ]);
    return {
      total: count,
      byScope: byScope as Partial<Record<Scope, number>>,
      byKind,
      byTier,
      byNamespace,
      byCategory,
      ...(oldest !== undefined ? { oldest } : {}),
      ...(newest !== undefined ? { newest } : {}),
    };
  }

  async recordAccess(
    tenant: string,
    accesses: ReadonlyMap<string, { count: number; at: number }>,
  ): Promise<void> {
    if (accesses.size === 0) return;
    const byPoint = new Map([...accesses.keys()].map((id) => [qdrantPointId(tenant, id), id]));
    const points = await this.#retrieve([...byPoint.keys()], [PayloadKeys.record]);
    const operations: Schemas['UpdateOperation'][] = [];
    for (const point of points) {
      const record = (point.payload as Record<string, unknown>)?.record as
        | Omit<MemoryRecord, 'metadata'>
        | undefined;
      if (record === undefined || record.tenant !== tenant) continue;
      const access = accesses.get(record.id);
      if (access === undefined) continue;
      // Read-modify-write: concurrent flushes from two replicas may lose an increment;
      // access counts are a ranking hint, not an audit log.
      operations.push({
        set_payload: {
          payload: {
            [PayloadKeys.record]: {
              ...record,
              accessCount: record.accessCount + access.count,
              lastAccessedAt: new Date(access.at).toISOString(),
            },
          },
          points: [String(point.id)],
        },
      });
    }
    for (let start = 0; start < operations.length; start += this.#batchSize) {
      const chunk = operations.slice(start, start + this.#batchSize);
      await this.#call('record access', () =>
        this.#client.batchUpdate(this.#collection, { wait: true, operations: chunk }),
      );
    }
  }

  async close(): Promise<void> {
    // The REST client holds no connection that needs closing.
  }

  /**
   * One search leg: the `want` best points of a dense (default vector) or sparse (`using`)
   * query. With `matches` (a filter Qdrant cannot express exactly) it over-fetches and
   * re-checks each point, until enough or exhausted.
   */
  async #leg(
    operation: string,
    leg: { query: number[] | SparseTextVector; using?: string },
    filter: QdrantFilter,
    matches: ReturnType<typeof compileFilter> | undefined,
    want: number,
  ): Promise<Leg> {
    const query = async (limit: number): Promise<Scored[]> =>
      (
        await this.#call(operation, () =>
          this.#client.query(this.#collection, {
            ...leg,
            filter: filter as Schemas['Filter'],
            limit,
            with_payload: READ_KEYS,
            with_vector: false,
          }),
        )
      ).points.map((point) => ({ decoded: decode(point), score: point.score }));
    if (matches === undefined) return { scored: await query(want), plan: 'qdrant' };
    let limit = Math.max(want * 4, 64);
    for (;;) {
      const points = await query(limit);
      const scored = points
        .filter(({ decoded }) => matches(toFilterPayload(decoded.record, decoded.dedupKey)))
        .slice(0, want);
      if (scored.length >= want || points.length < limit || limit >= 10_000)
        return { scored, plan: 'qdrant+recheck' };
      limit = Math.min(limit * 4, 10_000);
    }
  }

  /**
   * The cosine similarity of the query vector to each of these points, scored by Qdrant: a
   * dense query restricted to the ids (exact, no payload). Cheaper than fetching the vectors
   * (`with_vector`), which would ship `dimension` floats per point as JSON to score here.
   * Points that no longer exist are absent from the map.
   */
  async #cosines(
    tenant: string,
    vector: number[],
    pointIds: readonly string[],
  ): Promise<Map<string, number>> {
    const cosines = new Map<string, number>();
    for (let start = 0; start < pointIds.length; start += READ_CHUNK) {
      const ids = pointIds.slice(start, start + READ_CHUNK);
      const { points } = await this.#call('search', () =>
        this.#client.query(this.#collection, {
          query: vector,
          filter: {
            must: [{ has_id: ids }, { key: PayloadKeys.tenant, match: { value: tenant } }],
          },
          params: { exact: true },
          limit: ids.length,
          with_payload: false,
          with_vector: false,
        }),
      );
      for (const point of points) cosines.set(String(point.id), point.score);
    }
    return cosines;
  }

  /** Points by id, in chunks. */
  async #retrieve(
    pointIds: readonly string[],
    withPayload: boolean | string[],
  ): Promise<Schemas['Record'][]> {
    const found: Schemas['Record'][] = [];
    for (let start = 0; start < pointIds.length; start += READ_CHUNK) {
      const ids = pointIds.slice(start, start + READ_CHUNK);
      found.push(
        ...(await this.#call('retrieve', () =>
          this.#client.retrieve(this.#collection, {
            ids,
            with_payload: withPayload,
            with_vector: false,
          }),
        )),
      );
    }
    return found;
  }

  /**
   * Every matching point, newest first (createdAt desc, id desc), from `after` on. Qdrant
   * orders by one payload key and cannot break ties by a string, so each run of equal
   * createdAt values at a chunk boundary is read whole and sorted here.
   */
  async *#ordered(
    filter: QdrantFilter,
    after: ScrollCursor | undefined,
    chunk: number,
  ): AsyncGenerator<Decoded> {
    let below = after?.createdAt;
    if (after !== undefined) {
      for (const item of await this.#tieGroup(filter, after.createdAt))
        if (item.record.id < after.id) yield item;
    }
    for (;;) {
      const ranged =
        below === undefined
          ? filter
          : withCondition(filter, { key: PayloadKeys.createdAt, range: { lt: below } });
      const { points } = await this.#call('scroll', () =>
        this.#client.scroll(this.#collection, {
          filter: ranged as Schemas['Filter'],
          limit: chunk,
          with_payload: READ_KEYS,
          with_vector: false,
          order_by: { key: PayloadKeys.createdAt, direction: 'desc' },
        }),
      );
      const items = points.map(decode);
      if (items.length === 0) return;
      const complete = items.length < chunk;
      const boundary = (items[items.length - 1] as Decoded).createdAt;
      const head = complete ? items : items.filter((item) => item.createdAt > boundary);
      for (const item of head.sort(newestFirst)) yield item;
      if (complete) return;
      for (const item of await this.#tieGroup(filter, boundary)) yield item;
      below = boundary;
    }
  }

  /** All matching points with exactly this createdAt, id desc. */
  async #tieGroup(filter: QdrantFilter, createdAt: number): Promise<Decoded[]> {
    const exact = withCondition(filter, {
      key: PayloadKeys.createdAt,
      range: { gte: createdAt, lte: createdAt },
    }) as Schemas['Filter'];
    const items: Decoded[] = [];
    let offset: Schemas['ExtendedPointId'] | undefined;
    do {
      const page = await this.#call('scroll', () =>
        this.#client.scroll(this.#collection, {
          filter: exact,
          limit: READ_CHUNK,
          with_payload: READ_KEYS,
          with_vector: false,
          ...(offset !== undefined ? { offset } : {}),
        }),
      );
      items.push(...page.points.map(decode));
      offset = (page.next_page_offset ?? undefined) as Schemas['ExtendedPointId'] | undefined;
    } while (offset !== undefined);
    return items.sort(newestFirst);
  }

  async #statsByScan(filter: QdrantFilter, ours: IndexFilter | undefined): Promise<StatsResult> {
    const matches = compileFilter(ours);
    const stats: StatsResult = {
      total: 0,
      byScope: {},
      byKind: {},
      byTier: {},
      byNamespace: {},
      byCategory: {},
    };
    const bump = (counts: Record<string, number>, key: string | undefined): void => {
      if (key !== undefined) counts[key] = (counts[key] ?? 0) + 1;
    };
    let offset: Schemas['ExtendedPointId'] | undefined;
    do {
      const page = await this.#call('scroll', () =>
        this.#client.scroll(this.#collection, {
          filter: filter as Schemas['Filter'],
          limit: READ_CHUNK,
          with_payload: READ_KEYS,
          with_vector: false,
          ...(offset !== undefined ? { offset } : {}),
        }),
      );
      for (const { record, dedupKey, createdAt } of page.points.map(decode)) {
        if (!matches(toFilterPayload(record, dedupKey))) continue;
        stats.total++;
        bump(stats.byScope as Record<string, number>, record.scope);
        bump(stats.byKind, record.kind);
        bump(stats.byTier, record.tier);
        bump(stats.byNamespace, record.namespace);
        for (const category of new Set(record.categories)) bump(stats.byCategory, category);
        stats.oldest = Math.min(stats.oldest ?? createdAt, createdAt);
        stats.newest = Math.max(stats.newest ?? createdAt, createdAt);
      }
      offset = (page.next_page_offset ?? undefined) as Schemas['ExtendedPointId'] | undefined;
    } while (offset !== undefined);
    return stats;
  }

  /** One client call with bounded retries on transient failures; typed errors otherwise. */
  async #call<T>(operation: string, call: () => Promise<T>): Promise<T> {
    return retry(call, {
      attempts: this.#attempts,
      baseMs: this.#retryBaseMs,
      retryable: (error) => !MembusError.is(error) && isTransientQdrantError(error),
      retryAfterMs: (error) =>
        error instanceof QdrantClientResourceExhaustedError && Number.isFinite(error.retry_after)
          ? error.retry_after * 1000
          : undefined,
      onRetry: ({ attempt, delayMs, error }) =>
        this.#onRetry?.({ operation, attempt, delayMs, error }),
      giveUp: (error, { attempts, retryable }) =>
        MembusError.is(error)
          ? error
          : new MembusError('BACKEND_FAILED', `Qdrant ${operation} failed: ${messageOf(error)}`, {
              cause: error,
              retryable,
              details: { backend: 'qdrant', operation, attempts },
            }),
    });
  }
}

/** A point's vectors: the dense one alone, or with the keyword vector beside it. */
function pointVector(
  dense: number[],
  text: SparseTextVector | undefined,
): Schemas['PointStruct']['vector'] {
  if (text === undefined) return dense;
  return { [DENSE_VECTOR_NAME]: dense, [SPARSE_VECTOR_NAME]: text };
}

function dimensionMismatch(expected: number, actual: number, operation: string): MembusError {
  return new MembusError(
    'DIMENSION_MISMATCH',
    `${operation}: vector has ${actual} dimensions; this index holds ${expected}`,
    { details: { expected, actual } },
  );
}

function statusOf(error: unknown): number | undefined {
  if (error !== null && typeof error === 'object' && 'status' in error) {
    const status = (error as { status: unknown }).status;
    if (typeof status === 'number') return status;
  }
  const match = /Unexpected Response: (\d{3})/.exec(messageOf(error));
  return match ? Number(match[1]) : undefined;
}

/** Network failures, timeouts, 429 and 5xx (except 501) are worth retrying. */
export function isTransientQdrantError(error: unknown): boolean {
  if (error instanceof QdrantClientTimeoutError) return true;
  if (error instanceof QdrantClientResourceExhaustedError) return true;
  const status = statusOf(error);
  if (status !== undefined)
    return status === 408 || status === 429 || (status >= 500 && status !== 501);
  // fetch() rejects with a TypeError whose cause is the socket error.
  return error instanceof TypeError || (error instanceof Error && error.name === 'AbortError');
}

function messageOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const first = message.split('\n')[0] ?? message;
  // fetch() says only "fetch failed"; the socket error is its cause.
  const cause =
    error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  return typeof cause?.code === 'string' ? `${first} (${cause.code})` : first;
}
