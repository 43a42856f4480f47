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

/**
 * The longest and the 99th-percentile event-loop delay, ms, since the process's previous
 * /metrics reading (prom-client resets its delay histogram at every collect), from its /metrics
 * text; undefined where the metric is missing.
 */
export function eventLoopDelay(metrics: string): { max: number; p99: number } | undefined {
  const value = (name: string): number | undefined => {
    const match = new RegExp(
      `^membus_nodejs_eventloop_lag_${name}_seconds(?:\\{[^}]*\\})? (\\S+)$`,
      'm',
    ).exec(metrics);
    return match === null ? undefined : Number(match[1]) * 1000;
  };
  const max = value('max');
  const p99 = value('p99');
  return max === undefined || p99 === undefined ? undefined : { max, p99 };
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

/** Where a process's resident memory is, MB: from /proc/PID/smaps (one pass over its mappings). */
export interface ResidentSplit {
  rss: number;
  /** Anonymous memory: the V8 heaps, malloc, the native index's arrays. */
  anonymous: number;
  /** Of it, in transparent huge pages. */
  hugePages: number;
  /** glibc's main heap (`[heap]`, grown with brk). */
  brkHeap: number;
  /** glibc's other malloc arenas (one per thread that mallocs, 64 MiB reservations each). */
  mallocArenas: { count: number; mb: number };
  /** The rest of the anonymous memory: V8's heaps and large (mmapped) allocations. */
  otherAnonymous: number;
  /** File-backed, by file (the largest), the rest summed as `other files`. */
  files: Record<string, number>;
  /** Threads (the main one, libuv's pool, V8's helpers, every worker). */
  threads: number;
}

const ARENA_BYTES = 64 * 2 ** 20;

/** The resident split of a process (undefined when it is gone or unreadable). */
export function residentSplit(pid: number | undefined): ResidentSplit | undefined {
  if (pid === undefined) return undefined;
  let text: string;
  let status: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  interface Mapping {
    start: number;
    end: number;
    name: string;
    rss: number;
    anonymous: number;
    huge: number;
  }
  const mappings: Mapping[] = [];
  let current: Mapping | undefined;
  for (const line of text.split('\n')) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (header) {
      current = {
        start: Number.parseInt(header[1] as string, 16),
        end: Number.parseInt(header[2] as string, 16),
        name: (header[3] as string).trim(),
        rss: 0,
        anonymous: 0,
        huge: 0,
      };
      mappings.push(current);
      continue;
    }
    const field = /^(Rss|Anonymous|AnonHugePages):\s+(\d+) kB/.exec(line);
    if (!field || current === undefined) continue;
    const kb = Number(field[2]);
    if (field[1] === 'Rss') current.rss += kb;
    else if (field[1] === 'Anonymous') current.anonymous += kb;
    else current.huge += kb;
  }
  const mb = (kb: number) => Math.round(kb / 1024);
  const files = new Map<string, number>();
  let rss = 0;
  let anonymous = 0;
  let huge = 0;
  let brkHeap = 0;
  let arenaKb = 0;
  let arenas = 0;
  for (const mapping of mappings) {
    rss += mapping.rss;
    anonymous += mapping.anonymous;
    huge += mapping.huge;
    if (mapping.name === '[heap]') brkHeap += mapping.anonymous;
    else if (mapping.name === '' && mapping.start % ARENA_BYTES === 0 && mapping.anonymous > 0) {
      // A non-main glibc arena starts 64 MiB-aligned: its used part, then its reserved rest.
      const rest = mappings.find((other) => other.start === mapping.end);
      if (rest !== undefined && rest.end - mapping.start === ARENA_BYTES && rest.rss === 0) {
        arenaKb += mapping.anonymous;
        arenas++;
      }
    }
    if (mapping.name.startsWith('/') && mapping.rss > mapping.anonymous)
      files.set(mapping.name, (files.get(mapping.name) ?? 0) + mapping.rss - mapping.anonymous);
  }
  const largest = [...files].sort((a, b) => b[1] - a[1]);
  const named: Record<string, number> = {};
  for (const [name, kb] of largest.slice(0, 4)) named[name.split('/').slice(-2).join('/')] = mb(kb);
  const rest = largest.slice(4).reduce((sum, [, kb]) => sum + kb, 0);
  if (rest > 0) named['other files'] = mb(rest);
  return {
    rss: mb(rss),
    anonymous: mb(anonymous),
    hugePages: mb(huge),
    brkHeap: mb(brkHeap),
    mallocArenas: { count: arenas, mb: mb(arenaKb) },
    otherAnonymous: mb(anonymous - brkHeap - arenaKb),
    files: named,
    threads: Number(/Threads:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN),
  };
}

/** The main thread's V8 heap and its external memory, MB, from a membus process's /metrics text. */
export function v8Heap(metrics: string): { used: number; total: number; external: number } {
  const value = (name: string) =>
    Math.round(
      Number(
        new RegExp(`^membus_nodejs_${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(metrics)?.[1] ??
          Number.NaN,
      ) /
        2 ** 20,
    );
  return {
    used: value('heap_size_used_bytes'),
    total: value('heap_size_total_bytes'),
    external: value('external_memory_bytes'),
  };
}

/** A histogram's cumulative bucket counts by upper bound (`+Inf` as Infinity), from /metrics text. */
export function histogramBuckets(metrics: string, name: string): Map<number, number> {
  const buckets = new Map<number, number>();
  const line = new RegExp(`^${name}_bucket\\{(?:[^}]*,)?le="([^"]+)"[^}]*\\} (\\S+)$`, 'gm');
  for (const [, le, value] of metrics.matchAll(line)) {
    const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + Number(value));
  }
  return buckets;
}

/**
 * Between two {@link histogramBuckets} readings: the observations made, and the share of them
 * above each of `bounds` (each must be a bucket bound).
 */
export function sharesAbove(
  before: Map<number, number>,
  after: Map<number, number>,
  bounds: readonly number[],
): { count: number; above: Record<string, number> } {
  const delta = (bound: number) => (after.get(bound) ?? 0) - (before.get(bound) ?? 0);
  const count = delta(Number.POSITIVE_INFINITY);
  return {
    count,
    above: Object.fromEntries(
      bounds.map((bound) => [String(bound), count > 0 ? 1 - delta(bound) / count : 0]),
    ),
  };
}

/** A histogram's mean observation between two /metrics readings (NaN when none). */
export function meanBetween(before: string, after: string, name: string): number {
  const total = (metrics: string, field: 'sum' | 'count') =>
    [...metrics.matchAll(new RegExp(`^${name}_${field}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce(
      (sum, [, value]) => sum + Number(value),
      0,
    );
  return (
    (total(after, 'sum') - total(before, 'sum')) / (total(after, 'count') - total(before, 'count'))
  );
}
