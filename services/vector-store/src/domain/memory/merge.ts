// Merge: sources folded into a target memory.
import {
  Limits,
  MembusError,
  type MemoryRecord,
  type MergeReply,
  type MergeRequest,
} from '@membus/contracts';
import type { EmbeddedDocument } from '../../ports/memory-ports.ts';
import { isLive, iso, type MemoryContext, writeRecord } from './context.ts';

/**
 * Folds sources into the target: occurrences and access counts summed, labels united,
 * importance the highest, metadata merged (the target's values win). MERGE in the history
 * of the target and of each source; sources deleted. Sources already gone are skipped, so a
 * rerun after a crash completes the merge without counting anything twice.
 */
export async function merge(
  context: MemoryContext,
  tenant: string,
  request: MergeRequest,
): Promise<MergeReply> {
  const now = context.clock();
  const records = (
    await context.index.get(tenant, [request.targetId, ...request.sourceIds])
  ).filter((record) => isLive(record, now));
  const target = records.find((record) => record.id === request.targetId);
  if (!target)
    throw new MembusError('NOT_FOUND', `no memory ${request.targetId}`, {
      details: { id: request.targetId },
    });
  const sources = records.filter((record) => record.id !== request.targetId);
  if (sources.length === 0 && request.text === undefined)
    return { v: 1, memory: target, merged: [] };
  const union = (lists: string[][]) => [...new Set(lists.flat())].slice(0, Limits.labelCount);
  const all = [target, ...sources];
  const lastAccess = all
    .map((record) => record.lastAccessedAt)
    .filter((value): value is string => value !== undefined)
    .sort()
    .at(-1);
  const merging: MemoryRecord = {
    ...target,
    metadata: Object.assign({}, ...sources.map((record) => record.metadata), target.metadata),
    categories: union(all.map((record) => record.categories)),
    tags: union(all.map((record) => record.tags)),
    importance: Math.max(...all.map((record) => record.importance)),
    occurrences: all.reduce((sum, record) => sum + record.occurrences, 0),
    accessCount: all.reduce((sum, record) => sum + record.accessCount, 0),
    ...(lastAccess !== undefined ? { lastAccessedAt: lastAccess } : {}),
    updatedAt: iso(now),
  };
  let document: EmbeddedDocument | undefined;
  if (request.text !== undefined && request.text !== target.text) {
    [document] = await context.embed.documents([request.text]);
    if (!document) throw new MembusError('EMBEDDING_FAILED', 'embedder returned no vector');
  }
  // Target first, then sources: a crash in between leaves the sources in place for a rerun
  // to fold in (their occurrences may then count twice), but no memory is ever lost.
  const next = await writeRecord(context, merging, document);
  const deletedIds = new Set(
    await context.index.delete(
      tenant,
      sources.map((record) => record.id),
    ),
  );
  const merged = sources.filter((record) => deletedIds.has(record.id));
  await context.documents.appendHistory(tenant, [
    {
      memoryId: next.id,
      event: 'MERGE',
      at: iso(now),
      ...(document ? { previousText: target.text, text: next.text } : {}),
      details: { sourceIds: merged.map((record) => record.id), occurrences: next.occurrences },
    },
    ...merged.map((record) => ({
      memoryId: record.id,
      event: 'MERGE' as const,
      at: iso(now),
      previousText: record.text,
      details: { mergedInto: next.id },
    })),
  ]);
  await context.events.publish(tenant, [
    {
      event: { v: 1, change: 'merged', id: next.id, memory: next, at: iso(now) },
      dedupId: `merge:${next.id}:${now}`,
    },
    ...merged.map((record) => ({
      event: { v: 1 as const, change: 'deleted' as const, id: record.id, at: iso(now) },
      dedupId: `delete:${record.id}`,
    })),
  ]);
  return { v: 1, memory: next, merged: merged.map((record) => record.id) };
}
