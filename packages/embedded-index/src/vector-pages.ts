/** Float32 and int8 vectors in fixed-size pages of slots, and the dot products over them. */

export const PAGE_SHIFT = 12;
export const PAGE_SLOTS = 1 << PAGE_SHIFT;
export const PAGE_MASK = PAGE_SLOTS - 1;

export type Page = Float32Array | Int8Array;

/** The dot product of `query` with the vector at `offset` of `data`, in four partial sums. */
export function dotAt(data: Page, start: number, query: Float32Array): number {
  const dimension = query.length;
  let offset = start;
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

/** `dotAt` for many slots of paged vectors, four at a time, bit for bit equal to it. */
export function dotManyPaged(
  pages: readonly Page[],
  dimension: number,
  slots: Int32Array,
  count: number,
  query: Float32Array,
  out: Float64Array,
): void {
  let at = 0;
  // The interleaved loop takes four components per step: other dimensions go one by one.
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
    // Per vector, the same four partial sums in the same order as `dotAt`.
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
  for (; at < count; at++) {
    const slot = slots[at]!;
    out[at] = dotAt(pages[slot >>> PAGE_SHIFT]!, (slot & PAGE_MASK) * dimension, query);
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
