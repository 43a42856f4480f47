/**
 * Values by a small integer, counted by use: a column of ids stands for many references to the
 * same few values (a Uint32 per memory instead of a pointer and, often, a string of its own). An
 * id whose last user released it is forgotten and reused, so values that come and go (session
 * ids) do not pile up. Id 0 is no value.
 */
export class Dictionary<T> {
  private readonly idsByKey = new Map<string, number>();
  private readonly values: (T | undefined)[] = [undefined];
  private readonly keys: (string | undefined)[] = [undefined];
  private readonly uses: number[] = [0];
  private readonly freeIds: number[] = [];

  /** The id of `key` (whose value is `value`), counted as one more use. */
  use(key: string, value: T): number {
    let id = this.idsByKey.get(key);
    if (id === undefined) {
      id = this.freeIds.pop() ?? this.values.length;
      this.idsByKey.set(key, id);
      this.values[id] = value;
      this.keys[id] = key;
      this.uses[id] = 0;
    }
    this.uses[id]!++;
    return id;
  }

  /** One use of `id` less; at none, the value is forgotten. */
  release(id: number): void {
    if (id === 0) return;
    const left = this.uses[id]! - 1;
    this.uses[id] = left;
    if (left > 0) return;
    this.idsByKey.delete(this.keys[id]!);
    this.values[id] = undefined;
    this.keys[id] = undefined;
    this.freeIds.push(id);
  }

  value(id: number): T | undefined {
    return this.values[id];
  }

  /** The id of `key` while some slot uses it. */
  idOf(key: string): number | undefined {
    return this.idsByKey.get(key);
  }
}
