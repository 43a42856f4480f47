// Batch update: many memories changed through the one update path, by ids or a filter page.
import {
  type BatchChanges,
  type BatchUpdateReply,
  type BatchUpdateRequest,
  MembusError,
  type MemoryRecord,
} from '@membus/contracts';
import { decodeCursor, encodeCursor } from '../cursor.ts';
import { isLive, type MemoryContext, ms } from './context.ts';
import { canonical } from './import.ts';
import { update } from './update.ts';

/** Updates in flight at once within one request (each may ask the embedder to redact). */
const UPDATE_CONCURRENCY = 8;

/**
 * Applies `changes` to the memories of `ids`, or to one page (`limit`) of the memories matching
 * `filter` after `cursor`, each through `update` (redaction, history, event). A memory that
 * already has every value is left alone (`unchanged`), so a repeated request writes nothing.
 * A filter update answers `nextCursor` while memories may follow: the keyset (createdAt, id) is
 * not moved by an update, so pages neither repeat nor skip a memory that still matches.
 */
export async function batchUpdate(
  context: MemoryContext,
  tenant: string,
  request: BatchUpdateRequest,
): Promise<BatchUpdateReply> {
  const now = context.clock();
  let records: MemoryRecord[];
  let missing: string[] = [];
  let nextCursor: string | undefined;
  if (request.ids !== undefined) {
    const asked = [...new Set(request.ids)];
    const found = new Map(
      (await context.index.get(tenant, asked))
        .filter((record) => isLive(record, now))
        .map((record) => [record.id, record]),
    );
    records = asked.flatMap((id) => found.get(id) ?? []);
    missing = asked.filter((id) => !found.has(id));
  } else {
    const page = await context.index.scroll({
      tenant,
      ...(request.filter !== undefined ? { filter: request.filter } : {}),
      limit: request.limit,
      ...(request.cursor !== undefined ? { after: decodeCursor(request.cursor) } : {}),
      now,
    });
    records = page.records;
    if (page.next) nextCursor = encodeCursor(page.next);
  }
  const toChange = records.filter((record) => !alreadyHas(record, request.changes));
  const ids: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < toChange.length) {
      const record = toChange[next++] as MemoryRecord;
      try {
        await update(context, tenant, {
          v: 1,
          id: record.id,
          ...request.changes,
          ...(request.reason !== undefined ? { reason: request.reason } : {}),
        });
        ids.push(record.id);
      } catch (error) {
        // Deleted or expired since it was read: as if it had not been there.
        if (!(MembusError.is(error) && error.code === 'NOT_FOUND')) throw error;
        if (request.ids !== undefined) missing.push(record.id);
      }
    }
  };
  await Promise.all(Array.from({ length: UPDATE_CONCURRENCY }, worker));
  return {
    v: 1,
    updated: ids.length,
    unchanged: records.length - toChange.length,
    ids,
    missing,
    ...(nextCursor !== undefined ? { nextCursor } : {}),
  };
}

/** Whether `record` already has every value of `changes` (then nothing is written). */
function alreadyHas(record: MemoryRecord, changes: BatchChanges): boolean {
  const same = (a: unknown, b: unknown) => canonical(a) === canonical(b);
  if (changes.metadata !== undefined && !same(record.metadata, changes.metadata)) return false;
  if (changes.categories !== undefined && !same(record.categories, changes.categories))
    return false;
  if (changes.tags !== undefined && !same(record.tags, changes.tags)) return false;
  if (changes.importance !== undefined && record.importance !== changes.importance) return false;
  if (changes.tier !== undefined && record.tier !== changes.tier) return false;
  if (changes.expiresAt === null && record.expiresAt !== undefined) return false;
  if (
    typeof changes.expiresAt === 'string' &&
    (record.expiresAt === undefined || ms(record.expiresAt) !== ms(changes.expiresAt))
  )
    return false;
  return true;
}
