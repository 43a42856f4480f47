/**
 * Keeps the `capacity` best items seen so far. `isBetter(a, b)` is true when `a` ranks before
 * `b`. The root is the worst kept item, so a candidate is rejected in O(1) when the heap is full
 * and it does not beat the root.
 */
export class BoundedHeap<T> {
  private readonly kept: T[] = [];

  constructor(
    private readonly maximum: number,
    private readonly isBetter: (a: T, b: T) => boolean,
  ) {}

  get size(): number {
    return this.kept.length;
  }

  /** How many items it keeps at most. */
  get capacity(): number {
    return this.maximum;
  }

  /** Kept items, in no particular order. */
  items(): readonly T[] {
    return this.kept;
  }

  /** The worst kept item, when full: a candidate must beat it to enter. */
  get worst(): T | undefined {
    return this.kept.length < this.maximum ? undefined : this.kept[0];
  }

  push(item: T): void {
    if (this.maximum <= 0) return;
    const items = this.kept;
    if (items.length < this.maximum) {
      items.push(item);
      this.siftUp(items.length - 1);
      return;
    }
    if (!this.isBetter(item, items[0]!)) return;
    items[0] = item;
    this.siftDown(0);
  }

  /** Kept items, best first. */
  sorted(): T[] {
    return [...this.kept].sort((a, b) => (this.isBetter(a, b) ? -1 : this.isBetter(b, a) ? 1 : 0));
  }

  // The heap is ordered so that a parent is worse than (or equal to) its children.
  private siftUp(index: number): void {
    const items = this.kept;
    let child = index;
    while (child > 0) {
      const parent = (child - 1) >> 1;
      if (!this.isBetter(items[parent]!, items[child]!)) break;
      [items[parent], items[child]] = [items[child]!, items[parent]!];
      child = parent;
    }
  }

  private siftDown(index: number): void {
    const items = this.kept;
    const length = items.length;
    let parent = index;
    for (;;) {
      const left = parent * 2 + 1;
      const right = left + 1;
      let worst = parent;
      if (left < length && this.isBetter(items[worst]!, items[left]!)) worst = left;
      if (right < length && this.isBetter(items[worst]!, items[right]!)) worst = right;
      if (worst === parent) return;
      [items[parent], items[worst]] = [items[worst]!, items[parent]!];
      parent = worst;
    }
  }
}
