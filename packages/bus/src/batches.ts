/**
 * Splits items, in order, into the batches of messages of bounded size: at most `maxCount`
 * items (when given) whose costs add up to at most `maxBytes`. An item that costs more than
 * `maxBytes` on its own still goes, alone.
 */
export function* boundedBatches<T>(
  items: Iterable<T>,
  cost: (item: T) => number,
  limits: { maxBytes: number; maxCount?: number },
): Generator<T[]> {
  const maxCount = limits.maxCount ?? Number.POSITIVE_INFINITY;
  let batch: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = cost(item);
    if (batch.length > 0 && (batch.length >= maxCount || bytes + size > limits.maxBytes)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(item);
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}
