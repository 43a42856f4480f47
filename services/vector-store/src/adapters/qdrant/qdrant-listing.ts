import type { MemoryRecord } from '@membus/contracts';
import {
  compileFilter,
  type ScrollCursor,
  type ScrollRequest,
  type ScrollResult,
  toFilterPayload,
} from '@membus/vector-index';
import type { Schemas } from '@qdrant/js-client-rest';
import { type QdrantConnection, READ_CHUNK } from './qdrant-connection.ts';
import { PayloadKeys, type QdrantFilter, toQdrantFilter } from './qdrant-filter.ts';
import { type Decoded, decode, newestFirst, READ_KEYS, withCondition } from './qdrant-points.ts';

/** A page of matching memories, newest first, after a cursor. */
export async function scroll(
  connection: QdrantConnection,
  request: ScrollRequest,
): Promise<ScrollResult> {
  const { filter, exact } = toQdrantFilter(request.filter, {
    tenant: request.tenant,
    now: request.now,
  });
  const matches = exact ? undefined : compileFilter(request.filter);
  const chunk = Math.min(Math.max(request.limit + 1, 16), 1_000);
  const records: MemoryRecord[] = [];
  for await (const item of ordered(connection, filter, request.after, chunk)) {
    if (matches !== undefined && !matches(toFilterPayload(item.record, item.dedupKey))) continue;
    records.push(item.record);
    if (records.length > request.limit) break;
  }
  if (records.length <= request.limit) return { records };
  const page = records.slice(0, request.limit);
  const last = page[page.length - 1] as MemoryRecord;
  return { records: page, next: { createdAt: Date.parse(last.createdAt), id: last.id } };
}

/**
 * Every matching point, newest first (createdAt desc, id desc), from `after` on. Qdrant
 * orders by one payload key and cannot break ties by a string, so each run of equal
 * createdAt values at a chunk boundary is read whole and sorted here.
 */
async function* ordered(
  connection: QdrantConnection,
  filter: QdrantFilter,
  after: ScrollCursor | undefined,
  chunk: number,
): AsyncGenerator<Decoded> {
  let below = after?.createdAt;
  if (after !== undefined) {
    for (const item of await tieGroup(connection, filter, after.createdAt))
      if (item.record.id < after.id) yield item;
  }
  for (;;) {
    const ranged =
      below === undefined
        ? filter
        : withCondition(filter, { key: PayloadKeys.createdAt, range: { lt: below } });
    const { points } = await connection.call('scroll', () =>
      connection.client.scroll(connection.collection, {
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
    for (const item of await tieGroup(connection, filter, boundary)) yield item;
    below = boundary;
  }
}

/** All matching points with exactly this createdAt, id desc. */
async function tieGroup(
  connection: QdrantConnection,
  filter: QdrantFilter,
  createdAt: number,
): Promise<Decoded[]> {
  const exact = withCondition(filter, {
    key: PayloadKeys.createdAt,
    range: { gte: createdAt, lte: createdAt },
  }) as Schemas['Filter'];
  const items: Decoded[] = [];
  let offset: Schemas['ExtendedPointId'] | undefined;
  do {
    const page = await connection.call('scroll', () =>
      connection.client.scroll(connection.collection, {
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

/**
 * The newest live memory (createdAt desc, id desc, as `scroll` orders) of each dedup key: one
 * scroll over all the keys (a `match any`), paged by point id until exhausted, so a batch's
 * duplicate checks cost one request where each key would cost one.
 */
export async function newestByDedupKey(
  connection: QdrantConnection,
  tenant: string,
  keys: readonly string[],
  now: number,
): Promise<Map<string, MemoryRecord>> {
  const newest = new Map<string, Decoded>();
  const unique = [...new Set(keys)];
  if (unique.length === 0) return new Map();
  const filter = withCondition(toQdrantFilter(undefined, { tenant, now }).filter, {
    key: PayloadKeys.dedupKey,
    match: { any: unique },
  }) as Schemas['Filter'];
  let offset: Schemas['ExtendedPointId'] | undefined;
  do {
    const page = await connection.call('scroll', () =>
      connection.client.scroll(connection.collection, {
        filter,
        limit: READ_CHUNK,
        with_payload: READ_KEYS,
        with_vector: false,
        ...(offset !== undefined ? { offset } : {}),
      }),
    );
    for (const item of page.points.map(decode)) {
      const held = newest.get(item.dedupKey);
      if (held === undefined || newestFirst(item, held) < 0) newest.set(item.dedupKey, item);
    }
    offset = (page.next_page_offset ?? undefined) as Schemas['ExtendedPointId'] | undefined;
  } while (offset !== undefined);
  return new Map([...newest].map(([key, item]) => [key, item.record]));
}
