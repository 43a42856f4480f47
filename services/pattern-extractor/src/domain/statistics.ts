import type { OutcomeStats } from '@membus/contracts';

/** z for a two-sided 95 % interval. */
const Z95 = 1.959964;

/**
 * Wilson score interval lower bound of a success rate: how high the rate is at least, with
 * 95 % confidence. 1/1 gives 0.21, 95/100 gives 0.89, so more evidence ranks higher.
 */
export function wilsonLowerBound(successes: number, total: number, z = Z95): number {
  if (total <= 0) return 0;
  const rate = successes / total;
  const z2 = z * z;
  const centre = rate + z2 / (2 * total);
  const margin = z * Math.sqrt((rate * (1 - rate) + z2 / (4 * total)) / total);
  return Math.max(0, (centre - margin) / (1 + z2 / total));
}

/** Nearest-rank percentile of sorted values: the smallest value with at least p % at or below it. */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

/** What statistics need of one execution. */
export interface StatsSample {
  success: boolean;
  durationMs?: number | undefined;
  cost?: number | undefined;
  /** ms since epoch. */
  occurredAtMs: number;
}

const mean = (values: readonly number[]): number | undefined =>
  values.length === 0 ? undefined : values.reduce((sum, value) => sum + value, 0) / values.length;

/** Executions, successes, rate, duration mean/p50/p95, cost mean/total, first/last seen. */
export function computeStats(samples: readonly StatsSample[]): OutcomeStats {
  const successes = samples.filter((sample) => sample.success).length;
  const durations = samples
    .map((sample) => sample.durationMs)
    .filter((value): value is number => value !== undefined)
    .sort((a, b) => a - b);
  const costs = samples
    .map((sample) => sample.cost)
    .filter((value): value is number => value !== undefined);
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const sample of samples) {
    if (sample.occurredAtMs < first) first = sample.occurredAtMs;
    if (sample.occurredAtMs > last) last = sample.occurredAtMs;
  }
  const durationAvgMs = mean(durations);
  const durationP50Ms = percentile(durations, 50);
  const durationP95Ms = percentile(durations, 95);
  const costAvg = mean(costs);
  return {
    executions: samples.length,
    successes,
    failures: samples.length - successes,
    successRate: samples.length === 0 ? 0 : successes / samples.length,
    ...(durationAvgMs !== undefined ? { durationAvgMs } : {}),
    ...(durationP50Ms !== undefined ? { durationP50Ms } : {}),
    ...(durationP95Ms !== undefined ? { durationP95Ms } : {}),
    ...(costAvg !== undefined ? { costAvg } : {}),
    costTotal: costs.reduce((sum, value) => sum + value, 0),
    ...(samples.length > 0
      ? {
          firstSeen: new Date(first).toISOString(),
          lastSeen: new Date(last).toISOString(),
        }
      : {}),
  };
}

/** Mean of the durations of successful samples. */
export function successDurationAvg(samples: readonly StatsSample[]): number | undefined {
  return mean(
    samples
      .filter((sample) => sample.success)
      .map((sample) => sample.durationMs)
      .filter((value): value is number => value !== undefined),
  );
}

/** All reported cost divided by successes: what one success costs, failures included. */
export function costPerSuccess(samples: readonly StatsSample[]): number | undefined {
  const successes = samples.filter((sample) => sample.success).length;
  const costs = samples.filter((sample) => sample.cost !== undefined);
  if (successes === 0 || costs.length === 0) return undefined;
  return costs.reduce((sum, sample) => sum + (sample.cost as number), 0) / successes;
}
