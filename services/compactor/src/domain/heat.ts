import type { MemoryRecord } from '@membus/contracts';

const DAY_MS = 86_400_000;

/**
 * How much a memory is still used, 0..1: importance (50 %), access count (30 %, saturating at
 * 50 accesses) and recency of the last access or change (20 %, half-life 30 days).
 */
export function heat(memory: MemoryRecord, now: number): number {
  const accesses = Math.min(1, Math.log1p(memory.accessCount) / Math.log1p(50));
  const last = Date.parse(memory.lastAccessedAt ?? memory.updatedAt);
  const recency = 0.5 ** (Math.max(0, now - last) / (30 * DAY_MS));
  return 0.5 * memory.importance + 0.3 * accesses + 0.2 * recency;
}

/** Coldest first; ties: oldest first, then by id (deterministic). */
export function byHeatAscending(now: number) {
  return (a: MemoryRecord, b: MemoryRecord) =>
    heat(a, now) - heat(b, now) ||
    a.createdAt.localeCompare(b.createdAt) ||
    a.id.localeCompare(b.id);
}

/** What identifies the owner group of a memory. */
export type TierGroupOwner = Pick<
  MemoryRecord,
  'scope' | 'userId' | 'agentId' | 'sessionId' | 'namespace'
>;

/** The group a tier capacity applies to: scope, owner id and namespace. */
export function tierGroupKey(memory: TierGroupOwner): string {
  const owner =
    memory.scope === 'user'
      ? memory.userId
      : memory.scope === 'agent'
        ? memory.agentId
        : memory.scope === 'session'
          ? memory.sessionId
          : '';
  return JSON.stringify([memory.scope, owner ?? '', memory.namespace ?? null]);
}
