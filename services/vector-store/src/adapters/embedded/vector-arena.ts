const PAGE_SHIFT = 12;
const PAGE_SLOTS = 1 << PAGE_SHIFT;
const PAGE_MASK = PAGE_SLOTS - 1;

/**
 * Vectors by slot, in fixed-size pages of 4,096 slots (each page one Float32Array), so growing
 * never copies what is already stored (a doubling copy of ~150 MB stalls the loop for ~50 ms).
 */
export class VectorArena {
  private readonly pages: Float32Array[] = [];

  constructor(readonly dimension: number) {}

  /** Slots that fit without allocating. */
  get capacity(): number {
    return this.pages.length * PAGE_SLOTS;
  }

  /** Allocates pages so that `slot` fits. */
  ensure(slot: number): void {
    while (slot >= this.pages.length * PAGE_SLOTS)
      this.pages.push(new Float32Array(PAGE_SLOTS * this.dimension));
  }

  set(slot: number, vector: Float32Array): void {
    this.ensure(slot);
    this.pages[slot >>> PAGE_SHIFT]!.set(vector, (slot & PAGE_MASK) * this.dimension);
  }

  /** Copies a little-endian float32 blob into a slot. */
  setBytes(slot: number, bytes: Uint8Array): void {
    this.ensure(slot);
    const page = this.pages[slot >>> PAGE_SHIFT]!;
    new Uint8Array(page.buffer, page.byteOffset, page.byteLength).set(
      bytes,
      (slot & PAGE_MASK) * this.dimension * 4,
    );
  }

  view(slot: number): Float32Array {
    const start = (slot & PAGE_MASK) * this.dimension;
    return this.pages[slot >>> PAGE_SHIFT]!.subarray(start, start + this.dimension);
  }

  dot(slot: number, query: Float32Array): number {
    const data = this.pages[slot >>> PAGE_SHIFT]!;
    const dimension = this.dimension;
    let offset = (slot & PAGE_MASK) * dimension;
    let sum0 = 0;
    let sum1 = 0;
    let sum2 = 0;
    let sum3 = 0;
    let index = 0;
    for (; index + 3 < dimension; index += 4, offset += 4) {
      sum0 += data[offset]! * query[index]!;
      sum1 += data[offset + 1]! * query[index + 1]!;
      sum2 += data[offset + 2]! * query[index + 2]!;
      sum3 += data[offset + 3]! * query[index + 3]!;
    }
    for (; index < dimension; index++, offset++) sum0 += data[offset]! * query[index]!;
    return sum0 + sum1 + sum2 + sum3;
  }
}

/** A unit-length copy (a zero vector stays zero). */
export function normalized(vector: Float32Array): Float32Array {
  let norm = 0;
  for (let index = 0; index < vector.length; index++) norm += vector[index]! * vector[index]!;
  const copy = new Float32Array(vector);
  if (norm === 0) return copy;
  const scale = 1 / Math.sqrt(norm);
  for (let index = 0; index < copy.length; index++) copy[index] = copy[index]! * scale;
  return copy;
}
