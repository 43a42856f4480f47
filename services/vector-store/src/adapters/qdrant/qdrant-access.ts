import type { Schemas } from '@qdrant/js-client-rest';
import type { QdrantConnection } from './qdrant-connection.ts';
import { PayloadKeys } from './qdrant-filter.ts';
import { qdrantPointId } from './qdrant-points.ts';

const ACCESS_COUNT = `${PayloadKeys.record}.accessCount`;

/**
 * Adds accesses (count, last time) to the stored records, `batchSize` points per request.
 *
 * Reads only each record's `accessCount`, then sets only `accessCount` and `lastAccessedAt`
 * inside `record` (`set_payload` with `key`), so a change another replica writes meanwhile
 * (a new text, a merge) is kept. Each point is selected by a filter (its id and tenant), not
 * by id: a point deleted meanwhile matches nothing, where naming it would fail the whole batch
 * with 404. Two replicas flushing the same memory at once may still lose one's increment:
 * Qdrant has no atomic add, and access counts are a ranking hint, not an audit log.
 */
export async function recordAccess(
  connection: QdrantConnection,
  batchSize: number,
  tenant: string,
  accesses: ReadonlyMap<string, { count: number; at: number }>,
): Promise<void> {
  if (accesses.size === 0) return;
  const byPoint = new Map([...accesses.keys()].map((id) => [qdrantPointId(tenant, id), id]));
  const points = await connection.retrieve([...byPoint.keys()], [PayloadKeys.tenant, ACCESS_COUNT]);
  const operations: Schemas['UpdateOperation'][] = [];
  for (const point of points) {
    const payload = (point.payload ?? {}) as {
      tenant?: unknown;
      record?: { accessCount?: unknown };
    };
    const pointId = String(point.id);
    const access = accesses.get(byPoint.get(pointId) ?? '');
    if (payload.tenant !== tenant || access === undefined) continue;
    const counted = payload.record?.accessCount;
    operations.push({
      set_payload: {
        key: PayloadKeys.record,
        payload: {
          accessCount: (typeof counted === 'number' ? counted : 0) + access.count,
          lastAccessedAt: new Date(access.at).toISOString(),
        },
        filter: {
          must: [{ has_id: [pointId] }, { key: PayloadKeys.tenant, match: { value: tenant } }],
        },
      },
    });
  }
  for (let start = 0; start < operations.length; start += batchSize) {
    const chunk = operations.slice(start, start + batchSize);
    await connection.call('record access', () =>
      connection.client.batchUpdate(connection.collection, { wait: true, operations: chunk }),
    );
  }
}
