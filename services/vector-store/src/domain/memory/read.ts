// Reads: get by ids, list pages, a memory's history, stats.
import {
  type GetReply,
  type HistoryReply,
  Limits,
  type ListReply,
  type ListRequest,
  MembusError,
  type MemoryFilter,
  type MemoryRecord,
  type StatsReply,
} from '@membus/contracts';
import type { StoredHistoryEntry } from '../../ports/document-store.ts';
import { decodeCursor, encodeCursor } from '../cursor.ts';
import { countThatFits, largestCounts } from '../reply-budget.ts';
import { isLive, iso, type MemoryContext, ms } from './context.ts';

/**
 * The live memories of `ids`, in the order asked, as many as fit one reply
 * (`Limits.replyBytes`); the live ones left out are `pending`.
 */
export async function get(
  context: MemoryContext,
  tenant: string,
  ids: readonly string[],
): Promise<GetReply> {
  const now = context.clock();
  const asked = [...new Set(ids)];
  const byId = new Map(
    (await context.index.get(tenant, asked))
      .filter((record) => isLive(record, now))
      .map((record) => [record.id, record]),
  );
  const live = asked.flatMap((id) => {
    const record = byId.get(id);
    return record ? [record] : [];
  });
  const memories = live.slice(0, countThatFits(live));
  const pending = live.slice(memories.length).map((record) => record.id);
  context.access.track(
    tenant,
    memories.map((record) => record.id),
    now,
  );
  return {
    v: 1,
    memories,
    missing: asked.filter((id) => !byId.has(id)),
    ...(pending.length > 0 ? { pending } : {}),
  };
}

/**
 * A page of the tenant's live memories from the index, newest first: the order and cursor of
 * `list` and `exportPage`.
 */
export function scrollPage(
  context: MemoryContext,
  tenant: string,
  request: { filter?: MemoryFilter | undefined; limit: number; cursor?: string | undefined },
) {
  return context.index.scroll({
    tenant,
    ...(request.filter ? { filter: request.filter } : {}),
    limit: request.limit,
    ...(request.cursor ? { after: decodeCursor(request.cursor) } : {}),
    now: context.clock(),
  });
}

/**
 * One page, newest first: `limit` memories or as many as fit one reply (`Limits.replyBytes`),
 * with a cursor to the rest.
 */
export async function list(
  context: MemoryContext,
  tenant: string,
  request: ListRequest,
): Promise<ListReply> {
  const page = await scrollPage(context, tenant, request);
  const fits = countThatFits(page.records);
  if (fits < page.records.length) {
    const last = page.records[fits - 1] as MemoryRecord;
    return {
      v: 1,
      memories: page.records.slice(0, fits),
      nextCursor: encodeCursor({ createdAt: ms(last.createdAt), id: last.id }),
    };
  }
  return {
    v: 1,
    memories: page.records,
    ...(page.next ? { nextCursor: encodeCursor(page.next) } : {}),
  };
}

/**
 * A memory's history, oldest first, in pages of at most `Limits.pageSize` entries and
 * `Limits.replyBytes`; the cursor is the number of entries already returned (history is
 * append-only, so it stays valid).
 */
export async function history(
  context: MemoryContext,
  tenant: string,
  id: string,
  cursor?: string,
): Promise<HistoryReply> {
  const entries = await context.documents.history(tenant, id);
  if (entries.length === 0)
    throw new MembusError('NOT_FOUND', `no history for ${id}`, { details: { id } });
  const start = cursor === undefined ? 0 : decodeHistoryCursor(cursor, entries.length);
  const window = entries
    .slice(start, start + Limits.pageSize)
    .map(({ storeId: _storeId, ...entry }: StoredHistoryEntry) => entry);
  const page = window.slice(0, countThatFits(window));
  const next = start + page.length;
  return {
    v: 1,
    entries: page,
    ...(next < entries.length ? { nextCursor: encodeHistoryCursor(next) } : {}),
  };
}

export async function stats(
  context: MemoryContext,
  tenant: string,
  filter: MemoryFilter | undefined,
): Promise<StatsReply> {
  const stats = await context.index.stats(tenant, filter, context.clock());
  // Namespaces and categories are open-ended: the largest counts, and how many were left out.
  const byNamespace = largestCounts(stats.byNamespace);
  const byCategory = largestCounts(stats.byCategory);
  return {
    v: 1,
    total: stats.total,
    byScope: stats.byScope as Record<string, number>,
    byKind: stats.byKind,
    byTier: stats.byTier,
    byNamespace: byNamespace.counts,
    byCategory: byCategory.counts,
    ...(byNamespace.omitted > 0 || byCategory.omitted > 0
      ? {
          omittedKeys: {
            ...(byNamespace.omitted > 0 ? { byNamespace: byNamespace.omitted } : {}),
            ...(byCategory.omitted > 0 ? { byCategory: byCategory.omitted } : {}),
          },
        }
      : {}),
    ...(stats.oldest !== undefined ? { oldest: iso(stats.oldest) } : {}),
    ...(stats.newest !== undefined ? { newest: iso(stats.newest) } : {}),
  };
}

/** A history cursor: how many entries were returned before. */
function encodeHistoryCursor(offset: number): string {
  return Buffer.from(JSON.stringify(['history', offset])).toString('base64url');
}

function decodeHistoryCursor(value: string, length: number): number {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
    if (
      Array.isArray(parsed) &&
      parsed[0] === 'history' &&
      Number.isInteger(parsed[1]) &&
      (parsed[1] as number) >= 0 &&
      (parsed[1] as number) <= length
    )
      return parsed[1] as number;
  } catch {
    // fall through
  }
  throw new MembusError('INVALID_MESSAGE', 'cursor is not one this service issued', {
    details: { field: 'cursor' },
  });
}
