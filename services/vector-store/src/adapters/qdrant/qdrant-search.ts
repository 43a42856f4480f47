import { MembusError, type MemoryRecord } from '@membus/contracts';
import {
  compileFilter,
  fuseHybrid,
  hybridLegDepth,
  type SearchHit,
  type SearchMode,
  type SearchRequest,
  type SearchResult,
  toFilterPayload,
} from '@membus/vector-index';
import type { Schemas } from '@qdrant/js-client-rest';
import { type QdrantConnection, READ_CHUNK } from './qdrant-connection.ts';
import { PayloadKeys, type QdrantFilter, toQdrantFilter } from './qdrant-filter.ts';
import { type Decoded, decode, dimensionMismatch, READ_KEYS } from './qdrant-points.ts';
import {
  querySparseVector,
  SPARSE_VECTOR_NAME,
  type SparseTextVector,
} from './sparse-text-vector.ts';

/**
 * A point found by one leg of a search, with that leg's score: its record read with it
 * (`decoded`), or only its memory id, the record fetched for the hits kept (`payloads:
 * 'fetched'`).
 */
interface Scored {
  pointId: string;
  id: string;
  decoded?: Decoded;
  score: number;
}

/** One leg of a search: its points, best first, and how it was answered. */
interface Leg {
  scored: Scored[];
  plan: string;
}

/** What a search needs of the index beside the connection. */
export interface SearchSettings {
  dimension: number;
  /** The collection has the keyword leg; without it keyword and hybrid are answered dense. */
  keyword: boolean;
  /** Hybrid fusion weight of the cosine. */
  hybridAlpha: number;
  /**
   * `inline`: every candidate's payload comes with the search reply. `fetched`: search replies
   * carry only memory ids, and one retrieve reads the records of the hits kept (a hybrid
   * search's legs over-fetch; a filter Qdrant cannot express exactly is always read inline).
   */
  payloads: 'inline' | 'fetched';
}

/** Dense, keyword (sparse BM25) or hybrid search, as the `VectorIndex` port describes it. */
export async function search(
  connection: QdrantConnection,
  settings: SearchSettings,
  request: SearchRequest,
): Promise<SearchResult> {
  // Absent only for a keyword search: the query was never embedded, hits carry no cosine.
  const query = await request.vector;
  if (query !== undefined && query.length !== settings.dimension)
    throw dimensionMismatch(settings.dimension, query.length, 'search');
  const mode: SearchMode =
    settings.keyword && request.text?.trim() ? (request.mode ?? 'dense') : 'dense';
  if (query === undefined && mode !== 'keyword')
    throw new MembusError('INVALID_MESSAGE', `a ${mode} search needs a query vector`);
  const limit = Math.floor(request.limit);
  if (!(limit > 0)) return { hits: [], plan: mode === 'dense' ? 'qdrant' : mode };
  const { filter, exact } = toQdrantFilter(request.filter, {
    tenant: request.tenant,
    now: request.now,
  });
  // Part of the filter has no Qdrant form: each leg over-fetches and re-checks in process.
  const matches = exact ? undefined : compileFilter(request.filter);
  const inline = settings.payloads === 'inline' || matches !== undefined;
  const vector = query === undefined ? [] : Array.from(query);
  const leg = (
    operation: string,
    body: { query: number[] | SparseTextVector; using?: string },
    want: number,
  ): Promise<Leg> => searchLeg(connection, operation, body, filter, matches, want, inline);
  if (mode === 'dense') {
    const dense = await leg('search', { query: vector }, limit);
    const records = await readRecords(connection, dense.scored);
    return {
      hits: dense.scored.flatMap(({ pointId, score }): SearchHit[] => {
        const record = records.get(pointId);
        return record === undefined ? [] : [{ record, score, dense: score }];
      }),
      plan: dense.plan,
    };
  }

  // Both legs under the same filter (tenant and expiry included), fused as the embedded index.
  const sparse = querySparseVector(request.text ?? '');
  const depth = mode === 'keyword' ? limit : hybridLegDepth(limit);
  const [keyword, dense] = await Promise.all([
    sparse.indices.length === 0
      ? { scored: [], plan: 'qdrant' }
      : leg('keyword search', { query: sparse, using: SPARSE_VECTOR_NAME }, depth),
    mode === 'hybrid' ? leg('search', { query: vector }, depth) : undefined,
  ]);
  const best = keyword.scored[0]?.score ?? 1;
  // A dense-leg score is the cosine; keyword-only candidates get theirs from Qdrant.
  const cosines = new Map(dense?.scored.map((item) => [item.pointId, item.score]));
  const unscored = keyword.scored
    .map((item) => item.pointId)
    .filter((pointId) => !cosines.has(pointId));
  if (query !== undefined)
    for (const [pointId, cosine] of await scoreCosines(
      connection,
      request.tenant,
      vector,
      unscored,
    ))
      cosines.set(pointId, cosine);

  if (mode === 'keyword') {
    // No cosine (with a query vector): the point was deleted between the two calls.
    const kept = keyword.scored.filter(
      ({ pointId }) => query === undefined || cosines.has(pointId),
    );
    const records = await readRecords(connection, kept);
    return {
      hits: kept.flatMap(({ pointId, score }): SearchHit[] => {
        const record = records.get(pointId);
        if (record === undefined) return [];
        const cosine = cosines.get(pointId);
        return [
          {
            record,
            score: score / best,
            ...(cosine !== undefined ? { dense: cosine } : {}),
            keyword: score / best,
          },
        ];
      }),
      plan: 'keyword',
    };
  }
  const candidates = new Map<string, { scored: Scored; keyword?: number }>();
  for (const scored of dense?.scored ?? []) candidates.set(scored.pointId, { scored });
  for (const scored of keyword.scored)
    candidates.set(scored.pointId, { scored, keyword: scored.score / best });
  const ranked = fuseHybrid(
    [...candidates].flatMap(([pointId, candidate]) => {
      const cosine = cosines.get(pointId);
      if (cosine === undefined) return [];
      return [
        {
          scored: candidate.scored,
          id: candidate.scored.id,
          cosine,
          ...(candidate.keyword !== undefined ? { keyword: candidate.keyword } : {}),
        },
      ];
    }),
    { alpha: settings.hybridAlpha, limit },
  );
  const records = await readRecords(
    connection,
    ranked.map((item) => item.scored),
  );
  return {
    hits: ranked.flatMap((item): SearchHit[] => {
      const record = records.get(item.scored.pointId);
      if (record === undefined) return [];
      return [
        {
          record,
          score: item.fused,
          dense: item.cosine,
          ...(item.keyword !== undefined ? { keyword: item.keyword } : {}),
        },
      ];
    }),
    plan: `hybrid(${dense?.plan ?? 'qdrant'})`,
  };
}

/**
 * The records of these points: those read with them, the rest in one retrieve (a point deleted
 * since the search is absent).
 */
async function readRecords(
  connection: QdrantConnection,
  scored: readonly Scored[],
): Promise<Map<string, MemoryRecord>> {
  const records = new Map<string, MemoryRecord>();
  const missing: string[] = [];
  for (const item of scored) {
    if (item.decoded !== undefined) records.set(item.pointId, item.decoded.record);
    else missing.push(item.pointId);
  }
  if (missing.length > 0)
    for (const decoded of (await connection.retrieve(missing, READ_KEYS)).map(decode))
      records.set(decoded.pointId, decoded.record);
  return records;
}

/**
 * One search leg: the `want` best points of a dense (default vector) or sparse (`using`)
 * query. With `matches` (a filter Qdrant cannot express exactly) it over-fetches and
 * re-checks each point, until enough or exhausted.
 */
async function searchLeg(
  connection: QdrantConnection,
  operation: string,
  leg: { query: number[] | SparseTextVector; using?: string },
  filter: QdrantFilter,
  matches: ReturnType<typeof compileFilter> | undefined,
  want: number,
  inline: boolean,
): Promise<Leg> {
  const query = async (limit: number): Promise<Scored[]> =>
    (
      await connection.call(operation, () =>
        connection.client.query(connection.collection, {
          ...leg,
          filter: filter as Schemas['Filter'],
          limit,
          with_payload: inline ? READ_KEYS : [PayloadKeys.id],
          with_vector: false,
        }),
      )
    ).points.map((point): Scored => {
      const pointId = String(point.id);
      if (!inline) {
        const id = (point.payload as { id?: unknown } | null | undefined)?.id;
        return { pointId, id: typeof id === 'string' ? id : '', score: point.score };
      }
      const decoded = decode(point);
      return { pointId, id: decoded.record.id, decoded, score: point.score };
    });
  if (matches === undefined) return { scored: await query(want), plan: 'qdrant' };
  let limit = Math.max(want * 4, 64);
  for (;;) {
    const points = await query(limit);
    const scored = points
      .filter(({ decoded }) =>
        matches(toFilterPayload((decoded as Decoded).record, (decoded as Decoded).dedupKey)),
      )
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
async function scoreCosines(
  connection: QdrantConnection,
  tenant: string,
  vector: number[],
  pointIds: readonly string[],
): Promise<Map<string, number>> {
  const cosines = new Map<string, number>();
  for (let start = 0; start < pointIds.length; start += READ_CHUNK) {
    const ids = pointIds.slice(start, start + READ_CHUNK);
    const { points } = await connection.call('search', () =>
      connection.client.query(connection.collection, {
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
