import type { MemoryRecord } from '@membus/contracts';
import type { Schemas } from '@qdrant/js-client-rest';
import type { QdrantConnection } from './qdrant-connection.ts';
import { PayloadKeys } from './qdrant-filter.ts';
import { qdrantPointId } from './qdrant-points.ts';

/** Adds accesses (count, last time) to the stored records, `batchSize` points per request. */
export async function recordAccess(
  connection: QdrantConnection,
  batchSize: number,
  tenant: string,
  accesses: ReadonlyMap<string, { count: number; at: number }>,
): Promise<void> {
  if (accesses.size === 0) return;
  const byPoint = new Map([...accesses.keys()].map((id) => [qdrantPointId(tenant, id), id]));
  const points = await connection.retrieve([...byPoint.keys()], [PayloadKeys.record]);
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
  for (let start = 0; start < operations.length; start += batchSize) {
    const chunk = operations.slice(start, start + batchSize);
    await connection.call('record access', () =>
      connection.client.batchUpdate(connection.collection, { wait: true, operations: chunk }),
    );
  }
}
