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
import { jsonBytes } from '../reply-budget.ts';
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
  // A line with its vector takes ~4/3 bytes a float: ask for no more than a reply carries.
  const vectorBytes = Math.ceil((context.index.dimension * 4) / 3) * 4;
  const limit = request.withVectors
    ? Math.max(1, Math.min(request.limit, Math.floor(Limits.replyBytes / (vectorBytes + 512))))
    : request.limit;
  const page = await scrollPage(context, tenant, { ...request, limit });
  const vectors =
    request.withVectors && context.index.vectors
      ? await context.index.vectors(
          tenant,
          page.records.map((record) => record.id),
        )
      : undefined;
  const histories = request.withHistory
    ? await context.documents.histories(
        tenant,
        page.records.map((record) => record.id),
      )
    : undefined;
  // Lines are made until the reply is full (at least one), so none is made for nothing.
  const lines: ExportedMemory[] = [];
  let bytes = 0;
  for (const record of page.records) {
    const vector = vectors?.get(record.id);
    const history = histories ? exportedHistory(histories.get(record.id) ?? []) : undefined;
    const line: ExportedMemory = {
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
    };
    bytes += jsonBytes(line) + (lines.length > 0 ? 1 : 0);
    if (lines.length > 0 && bytes > Limits.replyBytes) break;
    lines.push(line);
  }
  if (lines.length < page.records.length) {
    const last = page.records[lines.length - 1] as MemoryRecord;
    return {
      v: 1,
      lines,
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
