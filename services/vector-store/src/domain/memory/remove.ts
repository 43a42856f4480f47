// Delete by ids or filter, and expiry sweeps, with their history entries and events.
import {
  type DeleteReply,
  type DeleteRequest,
  type ExpireReply,
  Limits,
  type MemoryFilter,
  type MemoryRecord,
} from '@membus/contracts';
import type { ScrollCursor, ScrollRequest } from '@membus/vector-index';
import { isLive, iso, type MemoryContext } from './context.ts';

/**
 * Deletes by ids (the reply lists those that existed) or by filter, page by page, so neither
 * memory nor the reply grows with the tenant: `deleted` counts them all, `ids` lists the first
 * `Limits.replyIds`.
 */
export async function deleteMemories(
  context: MemoryContext,
  tenant: string,
  request: DeleteRequest,
): Promise<DeleteReply> {
  const now = context.clock();
  if (request.ids) {
    const ids = await removeRecords(
      context,
      tenant,
      await context.index.get(tenant, request.ids),
      'DELETE',
      now,
      request.reason,
    );
    return { v: 1, deleted: ids.length, ids };
  }
  const filter = request.filter as MemoryFilter;
  let deleted = 0;
  const ids: string[] = [];
  for await (const records of pages(context, { tenant, filter, now })) {
    const removed = await removeRecords(context, tenant, records, 'DELETE', now, request.reason);
    deleted += removed.length;
    ids.push(...removed.slice(0, Limits.replyIds - ids.length));
  }
  return { v: 1, deleted, ids, ...(deleted > ids.length ? { truncated: true } : {}) };
}

/**
 * Deletes every expired memory of the tenant, recording EXPIRE, page by page. Scans the tenant
 * with the clock at 0 (nothing counts as expired then), so it needs no expiry support in the
 * index port. `expired` counts them all; `ids` lists the first `Limits.replyIds`.
 */
export async function expire(
  context: MemoryContext,
  tenant: string,
  options: { dryRun?: boolean } = {},
): Promise<ExpireReply> {
  const now = context.clock();
  let expired = 0;
  const ids: string[] = [];
  for await (const records of pages(context, { tenant, now: 0 })) {
    const due = records.filter((record) => !isLive(record, now));
    const removed = options.dryRun
      ? due.map((record) => record.id)
      : await removeRecords(context, tenant, due, 'EXPIRE', now);
    expired += removed.length;
    ids.push(...removed.slice(0, Limits.replyIds - ids.length));
  }
  return { v: 1, expired, ids };
}

/**
 * A scroll of the tenant, `Limits.pageSize` records at a time. The next page is read only once
 * the caller is done with this one, so it may delete what it was given.
 */
async function* pages(
  context: MemoryContext,
  request: Omit<ScrollRequest, 'limit' | 'after'>,
): AsyncGenerator<MemoryRecord[]> {
  let after: ScrollCursor | undefined;
  for (;;) {
    const page = await context.index.scroll({
      ...request,
      limit: Limits.pageSize,
      ...(after ? { after } : {}),
    });
    yield page.records;
    if (!page.next) return;
    after = page.next;
  }
}

/** Deletes `records` from the index with their history entries and events; the ids deleted. */
async function removeRecords(
  context: MemoryContext,
  tenant: string,
  records: readonly MemoryRecord[],
  event: 'DELETE' | 'EXPIRE',
  now: number,
  /** Why (a DELETE's `details.reason`): the caller's reason, e.g. a tier overflow policy. */
  reason?: string,
): Promise<string[]> {
  const deletedIds = new Set<string>();
  for (let start = 0; start < records.length; start += Limits.ids) {
    const chunk = records.slice(start, start + Limits.ids).map((record) => record.id);
    for (const id of await context.index.delete(tenant, chunk)) deletedIds.add(id);
  }
  const deleted = records.filter((record) => deletedIds.has(record.id));
  if (deleted.length === 0) return [];
  await context.documents.appendHistory(
    tenant,
    deleted.map((record) => ({
      memoryId: record.id,
      event,
      at: iso(now),
      previousText: record.text,
      ...(event === 'EXPIRE'
        ? { details: { expiresAt: record.expiresAt ?? null } }
        : reason !== undefined
          ? { details: { reason } }
          : {}),
    })),
  );
  const change = event === 'EXPIRE' ? 'expired' : 'deleted';
  await context.events.publish(
    tenant,
    deleted.map((record) => ({
      event: { v: 1, change, id: record.id, at: iso(now) },
      dedupId: `${event === 'EXPIRE' ? 'expire' : 'delete'}:${record.id}`,
    })),
  );
  return deleted.map((record) => record.id);
}
