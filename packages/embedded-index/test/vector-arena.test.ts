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

  it('dotMany writes only the first `count` results', () => {
    const arena = new VectorArena(4);
    arena.set(0, Float32Array.of(1, 0, 0, 0));
    arena.set(1, Float32Array.of(0, 1, 0, 0));
    const out = Float64Array.of(-1, -1, -1);
    arena.dotMany(Int32Array.of(1, 0, 1), 2, Float32Array.of(0.5, 2, 0, 0), out);
    expect(Array.from(out)).toEqual([2, 0.5, -1]);
  });
});
