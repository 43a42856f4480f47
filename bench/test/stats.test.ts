import { describe, expect, it } from 'vitest';
import { eventLoopDelay, gcBetween, gcTotals, slowest, summarize } from '../src/stats.ts';

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

  it('reads the garbage collections of a process by kind from its metrics, and what a run added', () => {
    const metrics = (major: number, seconds: number) =>
      [
        '# HELP membus_nodejs_gc_duration_seconds Garbage collection duration by kind, one of major, minor, incremental or weakcb.',
        '# TYPE membus_nodejs_gc_duration_seconds histogram',
        `membus_nodejs_gc_duration_seconds_bucket{le="0.001",service="vector-store",kind="major"} 0`,
        `membus_nodejs_gc_duration_seconds_sum{service="vector-store",kind="major"} ${seconds}`,
        `membus_nodejs_gc_duration_seconds_count{service="vector-store",kind="major"} ${major}`,
        'membus_nodejs_gc_duration_seconds_sum{service="vector-store",kind="minor"} 0.002',
        'membus_nodejs_gc_duration_seconds_count{service="vector-store",kind="minor"} 3',
        'membus_process_cpu_seconds_total{service="vector-store"} 12.5',
      ].join('\n');
    const before = gcTotals(metrics(4, 0.05));
    expect(before).toEqual({ major: { count: 4, ms: 50 }, minor: { count: 3, ms: 2 } });
    expect(gcBetween(before, gcTotals(metrics(10, 0.125)))).toEqual({
      major: { count: 6, ms: 75 },
      minor: { count: 0, ms: 0 },
    });
  });

  it("reads a process's longest and 99th-percentile event-loop delay from its metrics, ms", () => {
    const metrics = [
      '# TYPE membus_nodejs_eventloop_lag_max_seconds gauge',
      'membus_nodejs_eventloop_lag_max_seconds{service="vector-store"} 0.703',
      'membus_nodejs_eventloop_lag_p90_seconds{service="vector-store"} 0.0021',
      'membus_nodejs_eventloop_lag_p99_seconds{service="vector-store"} 0.0125',
    ].join('\n');
    expect(eventLoopDelay(metrics)).toEqual({ max: 703, p99: 12.5 });
    expect(eventLoopDelay('membus_process_cpu_seconds_total 1')).toBeUndefined();
  });
});
