import type { MemoryRecord, Scope } from '@membus/contracts';
import {
  emptyStats,
  type IndexFilter,
  type ScrollRequest,
  type ScrollResult,
  type StatsResult,
} from '@membus/vector-index';
import { BoundedHeap } from './bounded-heap.ts';
import type { PayloadIndex } from './payload-index.ts';
import type { SlotTable } from './slot-table.ts';
import type { SqliteStore } from './sqlite-store.ts';

// The index's answers that walk a filter's candidates without vectors: a page of the newest
// memories (scroll) and counts by field (stats).

/** One page of matching memories, newest first, after the cursor `request.after`. */
export function scrollPage(
  slots: SlotTable,
  payloadIndex: PayloadIndex,
  store: SqliteStore,
  request: ScrollRequest,
): ScrollResult {
  const limit = Math.max(0, Math.floor(request.limit));
  const candidates = payloadIndex.candidates(request.tenant, request.filter);
  const matches = slots.predicate(request.tenant, request.filter, request.now, candidates.covers);
  const after = request.after;
  const createdAt = slots.createdAt;
  const ids = slots.ids;
  const newerFirst = (a: number, b: number): boolean =>
    createdAt[a]! > createdAt[b]! || (createdAt[a] === createdAt[b] && ids[a]! > ids[b]!);
  const heap = new BoundedHeap<number>(limit + 1, newerFirst);
  slots.forEachCandidate(candidates, (slot) => {
    if (!matches(slot)) return;
    if (
      after !== undefined &&
      !(
        createdAt[slot]! < after.createdAt ||
        (createdAt[slot] === after.createdAt && ids[slot]! < after.id)
      )
    )
      return;
    heap.push(slot);
  });
  const page = heap.sorted();
  const more = page.length > limit;
  const kept = more ? page.slice(0, limit) : page;
  const records: MemoryRecord[] = [];
  for (const slot of kept) {
    const record = store.getRecord(request.tenant, ids[slot]!);
    if (record !== undefined) records.push(record);
  }
  const last = kept.at(-1);
  return more && last !== undefined
    ? { records, next: { createdAt: createdAt[last]!, id: ids[last]! } }
    : { records };
}

/** Matching memories counted by scope, kind, tier, namespace and category. */
export function countStats(
  slots: SlotTable,
  payloadIndex: PayloadIndex,
  request: { tenant: string; filter: IndexFilter | undefined; now: number },
): StatsResult {
  const { tenant, filter, now } = request;
  const candidates = payloadIndex.candidates(tenant, filter);
  const matches = slots.predicate(tenant, filter, now, candidates.covers);
  const result = emptyStats();
  const increment = (counts: Record<string, number>, key: string): void => {
    counts[key] = (counts[key] ?? 0) + 1;
  };
  const payload = slots.view();
  slots.forEachCandidate(candidates, (slot) => {
    if (!matches(slot)) return;
    payload.slot = slot;
    result.total++;
    increment(result.byScope as Record<string, number>, payload.scope as Scope);
    increment(result.byKind, payload.kind);
    increment(result.byTier, payload.tier);
    const namespace = payload.namespace;
    if (namespace !== undefined) increment(result.byNamespace, namespace);
    for (const category of new Set(payload.categories)) increment(result.byCategory, category);
    const createdAt = payload.createdAt;
    if (result.oldest === undefined || createdAt < result.oldest) result.oldest = createdAt;
    if (result.newest === undefined || createdAt > result.newest) result.newest = createdAt;
  });
  return result;
}
