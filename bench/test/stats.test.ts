import { describe, expect, it } from 'vitest';
import { slowest, summarize } from '../src/stats.ts';

describe('bench statistics', () => {
  it('summarizes samples by percentile, whatever their order', () => {
    const samples = Array.from({ length: 100 }, (_, index) => (index * 37) % 100);
    expect(summarize(samples)).toMatchObject({ p50: 49, p99: 98, mean: 49.5, n: 100 });
  });

  it('lists the slowest queries end to end, slowest first, with when they ran', () => {
    const samples = [
      { atMs: 0, clientMs: 2, serverMs: 1 },
      { atMs: 1_000, clientMs: 14, serverMs: 3 },
      { atMs: 1_500, clientMs: 3, serverMs: 2 },
      { atMs: 2_000, clientMs: 15, serverMs: 9 },
    ];
    expect(slowest(samples, 2)).toEqual([
      { atMs: 2_000, clientMs: 15, serverMs: 9 },
      { atMs: 1_000, clientMs: 14, serverMs: 3 },
    ]);
    expect(slowest(samples, 0)).toEqual([]);
  });
});
