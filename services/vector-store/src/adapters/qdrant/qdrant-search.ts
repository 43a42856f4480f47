import { MembusError } from '@membus/contracts';
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

/** What a search needs of the index beside the connection. */
export interface SearchSettings {
  dimension: number;
  /** The collection has the keyword leg; without it keyword and hybrid are answered dense. */
  keyword: boolean;
  /** Hybrid fusion weight of the cosine. */
  hybridAlpha: number;
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
  const vector = query === undefined ? [] : Array.from(query);
  if (mode === 'dense') {
    const dense = await searchLeg(connection, 'search', { query: vector }, filter, matches, limit);
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
      : searchLeg(
          connection,
          'keyword search',
          { query: sparse, using: SPARSE_VECTOR_NAME },
          filter,
          matches,
          depth,
        ),
    mode === 'hybrid'
      ? searchLeg(connection, 'search', { query: vector }, filter, matches, depth)
      : undefined,
  ]);
  const best = keyword.scored[0]?.score ?? 1;
  // A dense-leg score is the cosine; keyword-only candidates get theirs from Qdrant.
  const cosines = new Map(dense?.scored.map((item) => [item.decoded.pointId, item.score]));
  const unscored = keyword.scored
    .map((item) => item.decoded.pointId)
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
    return {
      hits: keyword.scored.flatMap(({ decoded, score }): SearchHit[] => {
        const cosine = cosines.get(decoded.pointId);
        if (query === undefined)
          return [{ record: decoded.record, score: score / best, keyword: score / best }];
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
    { alpha: settings.hybridAlpha, limit },
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
): Promise<Leg> {
  const query = async (limit: number): Promise<Scored[]> =>
    (
      await connection.call(operation, () =>
        connection.client.query(connection.collection, {
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
