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

  /**
   * `out[i] = dot(slots[i], query)` for the first `count` slots, equal to `dot` bit for bit.
   * Four vectors at a time: their cache and TLB misses overlap instead of queueing one behind
   * the other (1,000 scattered slots at 100k: 1.45 → 0.89 ms).
   */
  dotMany(slots: Int32Array, count: number, query: Float32Array, out: Float64Array): void {
    const pages = this.pages;
    const dimension = this.dimension;
    let at = 0;
    // The interleaved loop takes four floats per step: other dimensions go one by one.
    const interleaved = dimension % 4 === 0;
    for (; interleaved && at + 3 < count; at += 4) {
      const slot0 = slots[at]!;
      const slot1 = slots[at + 1]!;
      const slot2 = slots[at + 2]!;
      const slot3 = slots[at + 3]!;
      const data0 = pages[slot0 >>> PAGE_SHIFT]!;
      const data1 = pages[slot1 >>> PAGE_SHIFT]!;
      const data2 = pages[slot2 >>> PAGE_SHIFT]!;
      const data3 = pages[slot3 >>> PAGE_SHIFT]!;
      let offset0 = (slot0 & PAGE_MASK) * dimension;
      let offset1 = (slot1 & PAGE_MASK) * dimension;
      let offset2 = (slot2 & PAGE_MASK) * dimension;
      let offset3 = (slot3 & PAGE_MASK) * dimension;
      // Per vector, the same four partial sums in the same order as `dot`.
      let a0 = 0;
      let b0 = 0;
      let c0 = 0;
      let d0 = 0;
      let a1 = 0;
      let b1 = 0;
      let c1 = 0;
      let d1 = 0;
      let a2 = 0;
      let b2 = 0;
      let c2 = 0;
      let d2 = 0;
      let a3 = 0;
      let b3 = 0;
      let c3 = 0;
      let d3 = 0;
      for (let index = 0; index < dimension; index += 4) {
        const q0 = query[index]!;
        const q1 = query[index + 1]!;
        const q2 = query[index + 2]!;
        const q3 = query[index + 3]!;
        a0 += data0[offset0]! * q0;
        b0 += data0[offset0 + 1]! * q1;
        c0 += data0[offset0 + 2]! * q2;
        d0 += data0[offset0 + 3]! * q3;
        a1 += data1[offset1]! * q0;
        b1 += data1[offset1 + 1]! * q1;
        c1 += data1[offset1 + 2]! * q2;
        d1 += data1[offset1 + 3]! * q3;
        a2 += data2[offset2]! * q0;
        b2 += data2[offset2 + 1]! * q1;
        c2 += data2[offset2 + 2]! * q2;
        d2 += data2[offset2 + 3]! * q3;
        a3 += data3[offset3]! * q0;
        b3 += data3[offset3 + 1]! * q1;
        c3 += data3[offset3 + 2]! * q2;
        d3 += data3[offset3 + 3]! * q3;
        offset0 += 4;
        offset1 += 4;
        offset2 += 4;
        offset3 += 4;
      }
      out[at] = a0 + b0 + c0 + d0;
      out[at + 1] = a1 + b1 + c1 + d1;
      out[at + 2] = a2 + b2 + c2 + d2;
      out[at + 3] = a3 + b3 + c3 + d3;
    }
    for (; at < count; at++) out[at] = this.dot(slots[at]!, query);
  }
}

/** A unit-length copy (a zero vector stays zero). */
export function normalized(vector: Float32Array): Float32Array {
  let norm = 0;
  for (let index = 0; index < vector.length; index++) norm += vector[index]! * vector[index]!;
  const copy = new Float32Array(vector);
  // A unit vector is kept bit for bit (rescaling one can move its last bits): a vector read
  // back from the index (an export) and written again (an import) stays the same.
  if (norm === 0 || Math.abs(norm - 1) <= 1e-5) return copy;
  const scale = 1 / Math.sqrt(norm);
  for (let index = 0; index < copy.length; index++) copy[index] = copy[index]! * scale;
  return copy;
}
