import { describe, expect, it } from 'vitest';
import { boundedBatches } from '../src/batches.ts';

const batches = (costs: number[], limits: { maxBytes: number; maxCount?: number }) => [
  ...boundedBatches(costs, (cost) => cost, limits),
];

describe('boundedBatches', () => {
  it('fills a batch up to maxBytes, in order', () => {
    expect(batches([4, 4, 2, 5, 1], { maxBytes: 10 })).toEqual([
      [4, 4, 2],
      [5, 1],
    ]);
  });

  it('closes a batch at maxCount items', () => {
    expect(batches([1, 1, 1, 1, 1], { maxBytes: 100, maxCount: 2 })).toEqual([[1, 1], [1, 1], [1]]);
  });

  it('sends an item larger than maxBytes alone', () => {
    expect(batches([3, 20, 3], { maxBytes: 10 })).toEqual([[3], [20], [3]]);
  });

  it('makes no batch of nothing', () => {
    expect(batches([], { maxBytes: 10 })).toEqual([]);
  });
});
