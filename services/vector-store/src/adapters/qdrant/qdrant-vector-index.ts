import { CALLER_MODEL, MembusError, type MemoryRecord } from '@membus/contracts';
import type {
  IndexedMemory,
  IndexFilter,
  ScrollRequest,
  ScrollResult,
  SearchRequest,
  SearchResult,
  StatsResult,
  VectorIndex,
  VectorIndexCapabilities,
} from '@membus/vector-index';
import { assertRecordTimestamps, DEFAULT_HYBRID_ALPHA, keywordText } from '@membus/vector-index';
import type { Schemas } from '@qdrant/js-client-rest';
import { recordAccess } from './qdrant-access.ts';
import { openCollection } from './qdrant-collection.ts';
import { QdrantConnection, type QdrantConnectionOptions, READ_CHUNK } from './qdrant-connection.ts';
import { stats } from './qdrant-counts.ts';
import { PayloadKeys } from './qdrant-filter.ts';
import { newestByDedupKey, scroll } from './qdrant-listing.ts';
import {
  decode,
  dimensionMismatch,
  pointVector,
  qdrantPointId,
  READ_KEYS,
  toQdrantPayload,
} from './qdrant-points.ts';
import { search } from './qdrant-search.ts';
import { documentSparseVector, SPARSE_VECTOR_NAME } from './sparse-text-vector.ts';

// The Qdrant adapter of the `VectorIndex` port. Its parts, one module each: the connection
// (client, retries, typed errors), the collection (create, indexes, checks), points (ids,
// payload, decoding), search (dense, keyword, hybrid), listing (scroll), counts (stats) and
// access statistics; writes (upsert, get, delete) stay here.

export interface QdrantVectorIndexOptions extends QdrantConnectionOptions {
  /** Vector dimension of the collection. */
  dimension: number;
  /** Points per write request; 256 unless told. */
  batchSize?: number;
  /**
   * Called with a problem worth an operator's attention that does not stop the index (e.g. a
   * collection without the keyword leg). Default: `process.emitWarning`.
   */
  onWarning?: (message: string, details: Record<string, unknown>) => void;
  /**
   * Hybrid fusion weight: relevance = alpha · min-max normalised cosine + (1 − alpha) · BM25 /
   * best BM25. Default `DEFAULT_HYBRID_ALPHA`, as the embedded index (`@membus/vector-index`).
   */
  hybridAlpha?: number;
  /**
   * Where search hits' records come from. `inline` (default): with every candidate, in the
   * search replies. `fetched`: the search replies carry memory ids only and one retrieve reads
   * the kept hits' records: fewer payload bytes per search (a hybrid search's legs fetch up to
   * `hybridLegDepth(limit)` candidates each), one more round trip. Which is faster against a
   * given Qdrant is measured, not assumed (services/vector-store/README.md).
   */
  payloads?: 'inline' | 'fetched';
}

/** Opens (and creates, idempotently) the collection; fails fast when Qdrant is unreachable. */
export async function openQdrantVectorIndex(
  options: QdrantVectorIndexOptions,
): Promise<VectorIndex> {
  const index = new QdrantVectorIndex(options);
  await index.open();
  return index;
}

const EMBEDDING_MODEL = `${PayloadKeys.record}.embeddingModel`;

class QdrantVectorIndex implements VectorIndex {
  readonly dimension: number;
  readonly #connection: QdrantConnection;
  readonly #batchSize: number;
  readonly #onWarning: NonNullable<QdrantVectorIndexOptions['onWarning']>;
  readonly #hybridAlpha: number;
  readonly #payloads: 'inline' | 'fetched';
  /**
   * The collection has the `text` sparse vector (with the idf modifier): the keyword leg. A
   * collection created before it has none; its keyword and hybrid searches are answered dense.
   */
  #keyword = false;

  constructor(options: QdrantVectorIndexOptions) {
    this.dimension = options.dimension;
    this.#batchSize = options.batchSize ?? 256;
    this.#onWarning =
      options.onWarning ??
      ((message, details) =>
        process.emitWarning(message, { code: 'MEMBUS_QDRANT', detail: JSON.stringify(details) }));
    this.#hybridAlpha = options.hybridAlpha ?? DEFAULT_HYBRID_ALPHA;
    this.#payloads = options.payloads ?? 'inline';
    this.#connection = new QdrantConnection(options);
  }

  get capabilities(): VectorIndexCapabilities {
    return { name: 'qdrant', persistent: true, ...(this.#keyword ? { keyword: true } : {}) };
  }

  async open(): Promise<void> {
    this.#keyword = await openCollection(this.#connection, {
      dimension: this.dimension,
      onWarning: this.#onWarning,
    });
  }

  async upsert(items: readonly IndexedMemory[]): Promise<void> {
    for (const item of items) {
      const { record } = item;
      assertRecordTimestamps(record);
      if (item.vector !== undefined && item.vector.length !== this.dimension)
        throw dimensionMismatch(this.dimension, item.vector.length, 'upsert');
    }
    if (items.length === 0) return;
    // Last write wins for an id repeated within the batch.
    const latest = new Map<string, IndexedMemory>();
    for (const item of items) latest.set(qdrantPointId(item.record.tenant, item.record.id), item);
    const withoutVector = [...latest].filter(([, item]) => item.vector === undefined);
    if (withoutVector.length > 0) {
      const found = await this.#connection.retrieve(
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
        const text = this.#keyword
          ? documentSparseVector(keywordText(item.record.text, item.record.context))
          : undefined;
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
      await this.#connection.call('upsert', () =>
        this.#connection.client.batchUpdate(this.#connection.collection, {
          wait: true,
          operations,
        }),
      );
    }
  }

  async get(tenant: string, ids: readonly string[]): Promise<MemoryRecord[]> {
    const points = await this.#connection.retrieve(
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
    const found = await this.#connection.retrieve([...byPoint.keys()], [PayloadKeys.tenant]);
    const existing = found
      .filter((point) => (point.payload as Record<string, unknown>)?.tenant === tenant)
      .map((point) => String(point.id));
    if (existing.length === 0) return [];
    for (let start = 0; start < existing.length; start += READ_CHUNK) {
      const chunk = existing.slice(start, start + READ_CHUNK);
      await this.#connection.call('delete', () =>
        this.#connection.client.delete(this.#connection.collection, { points: chunk, wait: true }),
      );
    }
    const deleted = new Set(existing.map((pointId) => byPoint.get(pointId)));
    return unique.filter((id) => deleted.has(id));
  }

  search(request: SearchRequest): Promise<SearchResult> {
    return search(
      this.#connection,
      {
        dimension: this.dimension,
        keyword: this.#keyword,
        hybridAlpha: this.#hybridAlpha,
        payloads: this.#payloads,
      },
      request,
    );
  }

  scroll(request: ScrollRequest): Promise<ScrollResult> {
    return scroll(this.#connection, request);
  }

  newestByDedupKey(
    tenant: string,
    keys: readonly string[],
    now: number,
  ): Promise<Map<string, MemoryRecord>> {
    return newestByDedupKey(this.#connection, tenant, keys, now);
  }

  stats(tenant: string, filter: IndexFilter | undefined, now: number): Promise<StatsResult> {
    return stats(this.#connection, tenant, filter, now);
  }

  recordAccess(
    tenant: string,
    accesses: ReadonlyMap<string, { count: number; at: number }>,
  ): Promise<void> {
    return recordAccess(this.#connection, this.#batchSize, tenant, accesses);
  }

  /**
   * The `embeddingModel` of the most recently updated memories (by the `updatedAt` range
   * index, every tenant, as the embedded index reads its newest rows), skipping caller vectors;
   * undefined when none of the newest 64 names one. One small scroll, at startup.
   */
  async newestEmbeddingModel(): Promise<string | undefined> {
    let points: Schemas['Record'][];
    try {
      ({ points } = await this.#connection.call('scroll', () =>
        this.#connection.client.scroll(this.#connection.collection, {
          limit: 64,
          with_payload: [EMBEDDING_MODEL],
          with_vector: false,
          order_by: { key: PayloadKeys.updatedAt, direction: 'desc' },
        }),
      ));
    } catch (error) {
      // A hint for startup, not worth failing it (e.g. an `updatedAt` index made without range).
      this.#onWarning(
        `Qdrant collection ${this.#connection.collection}: cannot read the newest memories' embedding model; query vectors come from the embedder until it names its model`,
        { backend: 'qdrant', error: error instanceof Error ? error.message : String(error) },
      );
      return undefined;
    }
    for (const point of points) {
      const model = (point.payload as { record?: { embeddingModel?: unknown } } | null | undefined)
        ?.record?.embeddingModel;
      if (typeof model === 'string' && model !== CALLER_MODEL) return model;
    }
    return undefined;
  }

  async close(): Promise<void> {
    // The REST client holds no connection that needs closing.
  }
}
