import { Limits } from '@membus/contracts';

/** Bytes `value` takes in a reply (JSON, UTF-8). */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/**
 * How many of `items`, from the first, fit in `budget` bytes of JSON (with the commas between
 * them). At least one when there is one, so a page always makes progress: a single item within
 * the input limits fits the message limit by itself (see `Limits.replyBytes`).
 */
export function countThatFits(
  items: readonly unknown[],
  budget: number = Limits.replyBytes,
): number {
  let used = 0;
  for (let index = 0; index < items.length; index++) {
    used += jsonBytes(items[index]) + (index > 0 ? 1 : 0);
    if (used > budget) return Math.max(1, index);
  }
  return items.length;
}

/**
 * The `limit` largest counts of an open-ended count map (ties by key), and how many keys were
 * left out.
 */
export function largestCounts(
  counts: Readonly<Record<string, number>>,
  limit: number = Limits.statsKeys,
): { counts: Record<string, number>; omitted: number } {
  const entries = Object.entries(counts);
  if (entries.length <= limit) return { counts: { ...counts }, omitted: 0 };
  entries.sort(([keyA, a], [keyB, b]) => b - a || (keyA < keyB ? -1 : keyA > keyB ? 1 : 0));
  return { counts: Object.fromEntries(entries.slice(0, limit)), omitted: entries.length - limit };
}
