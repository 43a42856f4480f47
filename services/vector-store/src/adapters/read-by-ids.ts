// What the document-store adapters share: reading by a list of ids in chunks (a query's `IN`
// list is bounded) and grouping what they read by memory.

/** Everything `read` returns for `ids`, asked for `size` ids at a time, in order. */
export async function readByIds<Row>(
  ids: readonly string[],
  size: number,
  read: (chunk: string[]) => Row[] | Promise<Row[]>,
): Promise<Row[]> {
  const rows: Row[] = [];
  for (let start = 0; start < ids.length; start += size)
    for (const row of await read(ids.slice(start, start + size))) rows.push(row);
  return rows;
}

/** `items` as `toValue` makes them, grouped by `keyOf`; each group in the order they came. */
export function groupBy<Item, Value>(
  items: Iterable<Item>,
  keyOf: (item: Item) => string,
  toValue: (item: Item) => Value,
): Map<string, Value[]> {
  const groups = new Map<string, Value[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key) ?? [];
    group.push(toValue(item));
    groups.set(key, group);
  }
  return groups;
}
