// Export: a tenant's memories as export lines, a page at a time, bounded by bytes.
import {
  type ExportedHistoryEntry,
  type ExportedMemory,
  type ExportedRecord,
  type ExportReply,
  type ExportRequest,
  Limits,
  type MemoryRecord,
  packVector,
} from '@membus/contracts';
import { encodeCursor } from '../cursor.ts';
import { countThatFits, jsonBytes } from '../reply-budget.ts';
import { type MemoryContext, ms, ownerIdsOf } from './context.ts';
import { scrollPage } from './read.ts';

/** Bytes of history one line carries at most, so that the line can be imported again. */
const LINE_HISTORY_BYTES = 64 * 1024;

/**
 * One page of export lines, newest first (the order and cursor of `list`): `limit` lines or as
 * many as fit one reply (`Limits.replyBytes`). Reads do not count as accesses.
 */
export async function exportPage(
  context: MemoryContext,
  tenant: string,
  request: ExportRequest,
): Promise<ExportReply> {
  const page = await scrollPage(context, tenant, request);
  const ids = page.records.map((record) => record.id);
  const vectors =
    request.withVectors && context.index.vectors
      ? await context.index.vectors(tenant, ids)
      : undefined;
  const lines: ExportedMemory[] = [];
  for (const record of page.records) {
    const vector = vectors?.get(record.id);
    const history = request.withHistory
      ? exportedHistory(await context.documents.history(tenant, record.id))
      : undefined;
    lines.push({
      v: 1,
      memory: exportedRecord(record),
      ...(history !== undefined ? { history } : {}),
      ...(vector !== undefined
        ? {
            vector: {
              model: record.embeddingModel,
              dimension: vector.length,
              data: packVector(vector),
            },
          }
        : {}),
    });
  }
  const fits = countThatFits(lines);
  if (fits < lines.length) {
    const last = page.records[fits - 1] as MemoryRecord;
    return {
      v: 1,
      lines: lines.slice(0, fits),
      nextCursor: encodeCursor({ createdAt: ms(last.createdAt), id: last.id }),
    };
  }
  return { v: 1, lines, ...(page.next ? { nextCursor: encodeCursor(page.next) } : {}) };
}

/** A record as a line carries it: every field but the tenant, always in this order. */
export function exportedRecord(record: MemoryRecord): ExportedRecord {
  return {
    id: record.id,
    scope: record.scope,
    ...ownerIdsOf(record),
    kind: record.kind,
    text: record.text,
    metadata: record.metadata,
    categories: record.categories,
    tags: record.tags,
    importance: record.importance,
    tier: record.tier,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    ...(record.expiresAt !== undefined ? { expiresAt: record.expiresAt } : {}),
    accessCount: record.accessCount,
    ...(record.lastAccessedAt !== undefined ? { lastAccessedAt: record.lastAccessedAt } : {}),
    contentHash: record.contentHash,
    embeddingModel: record.embeddingModel,
    occurrences: record.occurrences,
  };
}

/**
 * A memory's history as a line carries it, oldest first: at most `Limits.pageSize` entries and
 * `LINE_HISTORY_BYTES` of them (the oldest kept), so that a line stays importable.
 */
function exportedHistory(
  entries: readonly { memoryId: string; storeId?: string }[],
): ExportedHistoryEntry[] {
  const kept: ExportedHistoryEntry[] = [];
  let bytes = 0;
  for (const { memoryId: _memoryId, storeId: _storeId, ...entry } of entries) {
    bytes += jsonBytes(entry);
    if (kept.length >= Limits.pageSize || bytes > LINE_HISTORY_BYTES) break;
    kept.push(entry as ExportedHistoryEntry);
  }
  return kept;
}
