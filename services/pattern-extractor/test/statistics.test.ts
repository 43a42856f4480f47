import { describe, expect, it } from 'vitest';
import { computeStats, percentile, wilsonLowerBound } from '../src/domain/statistics.ts';

describe('wilsonLowerBound', () => {
  it('ranks 95/100 above 1/1', () => {
    expect(wilsonLowerBound(95, 100)).toBeGreaterThan(wilsonLowerBound(1, 1));
  });

  it('matches the textbook value for 8/10', () => {
    expect(wilsonLowerBound(8, 10)).toBeCloseTo(0.4902, 3);
  });

  it('is 0 without executions', () => {
    expect(wilsonLowerBound(0, 0)).toBe(0);
  });
});

describe('percentile (nearest rank)', () => {
  it('takes the value at rank ceil(p·n)', () => {
    const sorted = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
    expect([percentile(sorted, 50), percentile(sorted, 95)]).toEqual([50, 100]);
  });
});

describe('computeStats', () => {
  it('computes counts, rate, duration and cost figures and first/last seen', () => {
    const at = (minute: number) => Date.UTC(2026, 0, 1, 0, minute);
    expect(
      computeStats([
        { success: true, durationMs: 300, cost: 1, occurredAtMs: at(2) },
        { success: false, durationMs: 100, occurredAtMs: at(1) },
        { success: true, durationMs: 200, cost: 3, occurredAtMs: at(3) },
      ]),
    ).toEqual({
      executions: 3,
      successes: 2,
      failures: 1,
      successRate: 2 / 3,
      durationAvgMs: 200,
      durationP50Ms: 200,
      durationP95Ms: 300,
      costAvg: 2,
      costTotal: 4,
      firstSeen: new Date(at(1)).toISOString(),
      lastSeen: new Date(at(3)).toISOString(),
    });
  });
});
