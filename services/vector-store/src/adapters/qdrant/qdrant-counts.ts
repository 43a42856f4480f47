import type { Scope } from '@membus/contracts';
import {
  compileFilter,
  emptyStats,
  type IndexFilter,
  type StatsResult,
  toFilterPayload,
} from '@membus/vector-index';
import type { Schemas } from '@qdrant/js-client-rest';
import { type QdrantConnection, READ_CHUNK } from './qdrant-connection.ts';
import { PayloadKeys, type QdrantFilter, toQdrantFilter } from './qdrant-filter.ts';
import { decode, READ_KEYS } from './qdrant-points.ts';

const FACET_LIMIT = 10_000;

/**
 * Counts by scope, kind, tier, namespace and category, and the oldest and newest: count and
 * facet calls when Qdrant can express the filter exactly, else a scan that re-checks each point.
 */
export async function stats(
  connection: QdrantConnection,
  tenant: string,
  filter: IndexFilter | undefined,
  now: number,
): Promise<StatsResult> {
  const translated = toQdrantFilter(filter, { tenant, now });
  if (!translated.exact) return statsByScan(connection, translated.filter, filter);
  const qdrantFilter = translated.filter as Schemas['Filter'];
  const { count } = await connection.call('count', () =>
    connection.client.count(connection.collection, { filter: qdrantFilter, exact: true }),
  );
  const empty = emptyStats();
  if (count === 0) return empty;
  const facet = async (key: string): Promise<Record<string, number>> => {
    const { hits } = await connection.call('facet', () =>
      connection.client.facet(connection.collection, {
        key,
        filter: qdrantFilter,
        limit: FACET_LIMIT,
        exact: true,
      }),
    );
    return Object.fromEntries(hits.map((hit) => [String(hit.value), hit.count]));
  };
  const edge = async (direction: 'asc' | 'desc'): Promise<number | undefined> => {
    const { points } = await connection.call('scroll', () =>
      connection.client.scroll(connection.collection, {
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

async function statsByScan(
  connection: QdrantConnection,
  filter: QdrantFilter,
  ours: IndexFilter | undefined,
): Promise<StatsResult> {
  const matches = compileFilter(ours);
  const stats = emptyStats();
  const bump = (counts: Record<string, number>, key: string | undefined): void => {
    if (key !== undefined) counts[key] = (counts[key] ?? 0) + 1;
  };
  let offset: Schemas['ExtendedPointId'] | undefined;
  do {
    const page = await connection.call('scroll', () =>
      connection.client.scroll(connection.collection, {
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
