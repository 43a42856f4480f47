import { readFileSync } from 'node:fs';

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

export function summarize(samples: number[]): {
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  n: number;
} {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, value) => sum + value, 0) / Math.max(1, sorted.length);
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    mean,
    n: sorted.length,
  };
}

/** One query of a set: when it started (ms after the set began), its time end to end and in the service. */
export interface QuerySample {
  atMs: number;
  clientMs: number;
  serverMs: number;
}

/**
 * The `count` slowest queries end to end, slowest first. When they ran tells a periodic tail (a
 * timer's work in some process: access flushes were one) from one spread over the run.
 */
export function slowest(samples: readonly QuerySample[], count: number): QuerySample[] {
  return [...samples].sort((a, b) => b.clientMs - a.clientMs).slice(0, Math.max(0, count));
}

export function rssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    return match ? Math.round(Number(match[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) a process has used so far, ms; undefined when it can't be read. */
export function cpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // Fields after the command name (which may contain spaces): utime and stime are 14 and 15.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
  } catch {
    return undefined;
  }
}

/** USER_HZ: 100 on every Linux this runs on (sysconf is not reachable from Node). */
const clockTicks = 100;

/** Garbage collections of a process by kind (`major`, `minor`, `incremental`, `weakcb`). */
export type GcTotals = Record<string, { count: number; ms: number }>;

/**
 * The garbage collections a membus process has run so far, from its /metrics text (the Node.js
 * default metric `membus_nodejs_gc_duration_seconds`). A full (major) collection stops the
 * event loop: a request waiting for it shows in the client's time, not in the service's `tookMs`.
 */
export function gcTotals(metrics: string): GcTotals {
  const totals: GcTotals = {};
  const line = /^membus_nodejs_gc_duration_seconds_(sum|count)\{([^}]*)\} (\S+)$/gm;
  for (const [, field, labels, value] of metrics.matchAll(line)) {
    const kind = /kind="([^"]+)"/.exec(labels as string)?.[1];
    if (kind === undefined) continue;
    const entry = totals[kind] ?? { count: 0, ms: 0 };
    totals[kind] = entry;
    if (field === 'count') entry.count = Number(value);
    else entry.ms = Number(value) * 1000;
  }
  return totals;
}

/** The collections run between two {@link gcTotals} readings, by kind. */
export function gcBetween(before: GcTotals, after: GcTotals): GcTotals {
  return Object.fromEntries(
    Object.entries(after).map(([kind, { count, ms }]) => [
      kind,
      {
        count: count - (before[kind]?.count ?? 0),
        ms: Math.round((ms - (before[kind]?.ms ?? 0)) * 10) / 10,
      },
    ]),
  );
}
