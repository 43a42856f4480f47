import { Limits, type MemoryRecord } from '@membus/contracts';
import { iso, ms } from './context.ts';

// How two memories become one: an exact duplicate or a near duplicate folded into the existing one.

/**
 * Exact duplicate: one more occurrence. Importance is the higher, labels the union (bounded),
 * expiry the later (none beats any). Metadata: the existing memory's keys keep their values,
 * keys only the newer store has are added (unless that would pass `Limits.metadataBytes`);
 * what was not kept goes into the history entry (see `metadataNotKept`), never lost silently.
 */
export function mergeDuplicate(
  existing: MemoryRecord,
  incoming: MemoryRecord,
  now: number,
): MemoryRecord {
  const union = (a: string[], b: string[]) =>
    [...new Set([...a, ...b])].slice(0, Limits.labelCount);
  const expiresAt =
    existing.expiresAt === undefined || incoming.expiresAt === undefined
      ? undefined
      : ms(existing.expiresAt) >= ms(incoming.expiresAt)
        ? existing.expiresAt
        : incoming.expiresAt;
  const { expiresAt: _previous, ...rest } = existing;
  return {
    ...rest,
    metadata: mergedMetadata(existing.metadata, incoming.metadata),
    categories: union(existing.categories, incoming.categories),
    tags: union(existing.tags, incoming.tags),
    importance: Math.max(existing.importance, incoming.importance),
    updatedAt: iso(now),
    ...(expiresAt !== undefined ? { expiresAt } : {}),
    occurrences: existing.occurrences + 1,
  };
}

/**
 * Near duplicate (similar, not identical): one more occurrence of the existing memory, which
 * takes the newer wording (text, content hash, model, vector) — the latest report of a
 * recurring thing is the most current — with metadata merged newer-wins, labels united,
 * importance the higher and expiry the later.
 */
export function mergeSimilar(
  existing: MemoryRecord,
  incoming: MemoryRecord,
  now: number,
): MemoryRecord {
  return {
    ...mergeDuplicate(existing, incoming, now),
    text: incoming.text,
    contentHash: incoming.contentHash,
    embeddingModel: incoming.embeddingModel,
  };
}

/** `existing` plus the keys only `incoming` has, within `Limits.metadataBytes`. */
export function mergedMetadata(
  existing: Record<string, unknown>,
  incoming: Record<string, unknown>,
): Record<string, unknown> {
  const added = Object.entries(incoming).filter(([key]) => !Object.hasOwn(existing, key));
  if (added.length === 0) return existing;
  const merged = { ...existing, ...Object.fromEntries(added) };
  return Buffer.byteLength(JSON.stringify(merged)) <= Limits.metadataBytes ? merged : existing;
}
