import { describe, expect, it } from 'vitest';
import { CodeMemory, codeMemory } from '../src/int8-dot.ts';
import { VectorArena } from '../src/vector-arena.ts';

function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31 - 0.5;
  };
}

/** A random vector at every `step`-th slot below `end`, the same one set in each of `arenas`. */
function setEvery(
  step: number,
  end: number,
  random: () => number,
  ...arenas: VectorArena[]
): Map<number, Float32Array> {
  const vectors = new Map<number, Float32Array>();
  const dimension = arenas[0]!.dimension;
  for (let slot = 0; slot < end; slot += step) {
    const vector = Float32Array.from({ length: dimension }, random);
    vectors.set(slot, vector);
    for (const arena of arenas) arena.set(slot, vector);
  }
  return vectors;
}

describe('VectorArena', () => {
  for (const dimension of [384, 6]) {
    it(`dotMany equals dot bit for bit (dimension ${dimension}, scattered slots over pages)`, () => {
      const random = seeded(dimension);
      const arena = new VectorArena(dimension);
      const slotCount = 9_000; // three pages
      for (let slot = 0; slot < slotCount; slot++)
        arena.set(slot, Float32Array.from({ length: dimension }, random));
      const query = Float32Array.from({ length: dimension }, random);
      const slots = Int32Array.from({ length: 23 }, (_, index) => (index * 4_099) % slotCount);
      const out = new Float64Array(slots.length);
      arena.dotMany(slots, slots.length, query, out);
      expect(Array.from(out)).toEqual(Array.from(slots, (slot) => arena.dot(slot, query)));
    });
  }

  it('estimateMany is within half a quantisation step per component of the exact dot', () => {
    const dimension = 384;
    const random = seeded(7);
    const arena = new VectorArena(dimension);
    const vectors = Array.from({ length: 500 }, () =>
      Float32Array.from({ length: dimension }, random),
    );
    for (const [slot, vector] of vectors.entries()) arena.set(slot, vector);
    const query = Float32Array.from({ length: dimension }, random);
    const slots = Int32Array.from(vectors.keys());
    const estimates = new Float64Array(slots.length);
    arena.estimateMany(slots, slots.length, query, estimates);
    const queryMass = query.reduce((sum, value) => sum + Math.abs(value), 0);
    for (const [slot, vector] of vectors.entries()) {
      const step = vector.reduce((most, value) => Math.max(most, Math.abs(value)), 0) / 127;
      expect(Math.abs(estimates[slot]! - arena.dot(slot, query))).toBeLessThanOrEqual(
        (queryMass * step) / 2 + 1e-12,
      );
    }
  });

  it('with a stored-vector reader, scores and views are the stored vectors, bit for bit', () => {
    const dimension = 384;
    const random = seeded(11);
    const stored = new Map<number, Uint8Array>();
    const inMemory = new VectorArena(dimension);
    const reading = new VectorArena(dimension, (slot) => stored.get(slot));
    for (let slot = 0; slot < 5_000; slot += 97) {
      const vector = Float32Array.from({ length: dimension }, random);
      stored.set(slot, new Uint8Array(vector.buffer));
      inMemory.set(slot, vector);
      reading.setBytes(slot, new Uint8Array(vector.buffer));
    }
    const query = Float32Array.from({ length: dimension }, random);
    const slots = Int32Array.from(stored.keys());
    const exact = new Float64Array(slots.length);
    const read = new Float64Array(slots.length);
    inMemory.dotMany(slots, slots.length, query, exact);
    reading.dotMany(slots, slots.length, query, read);
    expect(Array.from(read)).toEqual(Array.from(exact));
    expect(Array.from(reading.view(97))).toEqual(Array.from(inMemory.view(97)));
    // The same codes either way.
    const estimated = new Float64Array(slots.length);
    inMemory.estimateMany(slots, slots.length, query, exact);
    reading.estimateMany(slots, slots.length, query, estimated);
    expect(Array.from(estimated)).toEqual(Array.from(exact));
    expect(() => reading.view(1)).toThrow(/slot 1 holds no stored vector/);
  });

  it('dotMany writes only the first `count` results', () => {
    const arena = new VectorArena(4);
    arena.set(0, Float32Array.of(1, 0, 0, 0));
    arena.set(1, Float32Array.of(0, 1, 0, 0));
    const out = Float64Array.of(-1, -1, -1);
    arena.dotMany(Int32Array.of(1, 0, 1), 2, Float32Array.of(0.5, 2, 0, 0), out);
    expect(Array.from(out)).toEqual([2, 0.5, -1]);
  });

  it('estimates with WebAssembly SIMD where the dimension is a multiple of 16, as JavaScript does', () => {
    expect(codeMemory()).toBeDefined();
    const random = seeded(5);
    const simd = new VectorArena(32);
    const plain = new VectorArena(24); // not a multiple of 16: the JavaScript loop
    const vectors = Array.from({ length: 300 }, () => Float32Array.from({ length: 32 }, random));
    for (const [slot, vector] of vectors.entries()) {
      simd.set(slot * 31, vector);
      // The same vector padded with zeros estimates the same dot product.
      const padded = new Float32Array(24);
      padded.set(vector.subarray(0, 24));
      plain.set(slot * 31, padded);
    }
    const query = Float32Array.from({ length: 32 }, random);
    const padded = new Float32Array(24);
    padded.set(query.subarray(0, 24));
    const slots = Int32Array.from(vectors.keys(), (slot) => slot * 31);
    const estimated = new Float64Array(slots.length);
    simd.estimateMany(slots, slots.length, query, estimated);
    for (const [at, slot] of slots.entries()) {
      const vector = vectors[at]!;
      const step = vector.reduce((most, value) => Math.max(most, Math.abs(value)), 0) / 127;
      const queryStep = query.reduce((most, value) => Math.max(most, Math.abs(value)), 0) / 32_767;
      const mass = (values: Float32Array) =>
        values.reduce((sum, value) => sum + Math.abs(value), 0);
      expect(Math.abs(estimated[at]! - simd.dot(slot, query))).toBeLessThanOrEqual(
        (mass(query) * step) / 2 + ((mass(vector) + 32 * step) * queryStep) / 2 + 1e-12,
      );
    }
    expect(plain.capacity).toBeGreaterThan(slots.at(-1)!);
  });

  it('keeps its codes while other arenas grow the shared memory, and gives them back on close', () => {
    const random = seeded(13);
    const first = new VectorArena(16);
    const second = new VectorArena(16);
    // Interleaved growth: each new page of one arena grows the memory under the other's views.
    const vectors = setEvery(1_021, 5 * 4_096, random, first, second);
    for (const slot of vectors.keys())
      expect(Array.from(first.codesView(slot))).toEqual(Array.from(second.codesView(slot)));
    const query = Float32Array.from({ length: 16 }, random);
    const slots = Int32Array.from(vectors.keys());
    const fromFirst = new Float64Array(slots.length);
    const fromSecond = new Float64Array(slots.length);
    first.estimateMany(slots, slots.length, query, fromFirst);
    second.close();
    // A new arena reuses the closed one's pages, zeroed, without touching the first's.
    const third = new VectorArena(16);
    third.ensure(5 * 4_096);
    expect(third.codesView(0).every((code) => code === 0)).toBe(true);
    first.estimateMany(slots, slots.length, query, fromSecond);
    expect(Array.from(fromSecond)).toEqual(Array.from(fromFirst));
    expect(fromFirst.some((estimate) => estimate !== 0)).toBe(true);
  });

  it('grows its WebAssembly memory by halves, not a page of codes at a time', () => {
    // Each growth is a new buffer, which V8 answers with a full GC: one per page of codes made a
    // bulk load GC-bound. 200 pages of 64 KiB, allocated one at a time: ~12 growths by halves.
    const memory = new CodeMemory(1_024);
    const buffers = new Set<ArrayBuffer>([memory.buffer]);
    const offsets: number[] = [];
    for (let page = 0; page < 200; page += 1) {
      offsets.push(memory.allocate(65_536));
      buffers.add(memory.buffer);
    }
    expect(buffers.size - 1).toBeLessThanOrEqual(14);
    expect(new Set(offsets).size).toBe(200);
    expect(memory.buffer.byteLength).toBeGreaterThanOrEqual(201 * 65_536);
    // Near its maximum it grows only by what is needed, then no further.
    const small = new CodeMemory(8);
    for (let page = 0; page < 7; page += 1) small.allocate(65_536);
    expect(small.buffer.byteLength).toBe(8 * 65_536);
    small.allocate(65_536);
    expect(() => small.allocate(65_536)).toThrow(RangeError);
  });

  it('moves its codes to ArrayBuffers when the WebAssembly memory cannot grow', () => {
    const random = seeded(17);
    // 1 MiB: 16 pages of 4,096 slots × 16 dimensions, less the first 64 KiB.
    const arena = new VectorArena(16, undefined, undefined, new CodeMemory(16));
    const reference = new VectorArena(16);
    const vectors = setEvery(997, 40 * 4_096, random, arena, reference);
    const query = Float32Array.from({ length: 16 }, random);
    const slots = Int32Array.from(vectors.keys());
    const estimated = new Float64Array(slots.length);
    arena.estimateMany(slots, slots.length, query, estimated);
    for (const [at, slot] of slots.entries()) {
      expect(Array.from(arena.codesView(slot))).toEqual(Array.from(reference.codesView(slot)));
      expect(Math.abs(estimated[at]! - reference.dot(slot, query))).toBeLessThan(0.05);
    }
  });
});
