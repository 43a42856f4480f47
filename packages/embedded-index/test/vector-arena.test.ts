import { describe, expect, it } from 'vitest';
import { VectorArena } from '../src/vector-arena.ts';

function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31 - 0.5;
  };
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
});
