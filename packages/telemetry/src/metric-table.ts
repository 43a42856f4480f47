import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { createMessageMetrics, type HandledMessage, MessageMetricNames } from './metrics.ts';

/** One metric of a service's table: what Prometheus shows and how it is split. */
interface MetricSpecBase<L extends string> {
  /** The exported name (`membus_…`): the contract with the dashboards and docs/metrics.md. */
  readonly name: string;
  /** The HELP line. */
  readonly help: string;
  /** Label names, in order; none: one series. */
  readonly labels?: readonly L[];
}

/** A counter, a gauge, or a histogram with its bucket bounds (seconds, sizes, ratios). */
export type MetricSpec<L extends string = string> =
  | (MetricSpecBase<L> & { readonly type: 'counter' })
  | (MetricSpecBase<L> & { readonly type: 'gauge' })
  | (MetricSpecBase<L> & { readonly type: 'histogram'; readonly buckets: readonly number[] });

/** A row as `counter`, `gauge` and `histogram` build it: `labels` only where given. */
type MetricRow<T extends MetricSpec['type'], N extends string, L extends string> = {
  readonly type: T;
  readonly name: N;
  readonly help: string;
} & ([L] extends [never] ? unknown : { readonly labels: readonly L[] });

/** The row constructor of a counter or a gauge: its name, HELP line and label names. */
function rowOf<T extends 'counter' | 'gauge'>(type: T) {
  return <const N extends string, const L extends string = never>(
    name: N,
    help: string,
    labels?: readonly L[],
  ): MetricRow<T, N, L> => ({ type, name, help, ...(labels && { labels }) }) as MetricRow<T, N, L>;
}

/** A counter row of a table, in one line: `counter(name, help, labels?)`. */
export const counter = rowOf('counter');

/** A gauge row of a table, in one line: `gauge(name, help, labels?)`. */
export const gauge = rowOf('gauge');

/** A histogram row of a table, in one line: its name, HELP line, bucket bounds and labels. */
export function histogram<const N extends string, const L extends string = never>(
  name: N,
  help: string,
  buckets: readonly number[],
  labels?: readonly L[],
): MetricRow<'histogram', N, L> & { readonly buckets: readonly number[] } {
  const row = { type: 'histogram', name, help, ...(labels && { labels }), buckets };
  return row as MetricRow<'histogram', N, L> & { readonly buckets: readonly number[] };
}

/** A service's metrics by the name its code uses. */
export type MetricTable = Readonly<Record<string, MetricSpec>>;

type LabelsOf<S> = S extends { labels: readonly (infer L extends string)[] } ? L : string;

/** The prom-client metric a spec registers as. */
export type MetricOf<S extends MetricSpec> = S extends { type: 'counter' }
  ? Counter<LabelsOf<S>>
  : S extends { type: 'gauge' }
    ? Gauge<LabelsOf<S>>
    : Histogram<LabelsOf<S>>;

/** The registered metrics of a table, by the same keys. */
export type RegisteredMetrics<T extends MetricTable> = { readonly [K in keyof T]: MetricOf<T[K]> };

/** Reads a metric's value at scrape time (gauges of a state, counters kept elsewhere). */
export type MetricCollector<S extends MetricSpec> = (metric: MetricOf<S>) => void | Promise<void>;

/** A service's metric table, its exported names and how it registers. */
export interface ServiceMetrics<T extends MetricTable> {
  readonly table: T;
  /** Every metric name the service exports, the message metrics included, by key. */
  readonly names: typeof MessageMetricNames & { readonly [K in keyof T]: T[K]['name'] };
  /**
   * Registers the table (collectors read their metric at scrape time), then the message
   * metrics; returns the metrics by key and the observer to hand to the bus.
   */
  register(
    registry: Registry,
    collectors?: MetricCollectors<T>,
  ): RegisteredMetrics<T> & { readonly observer: (event: HandledMessage) => void };
}

/** Scrape-time readers, by the keys of the metrics they fill. */
export type MetricCollectors<T extends MetricTable> = {
  readonly [K in keyof T]?: MetricCollector<T[K]>;
};

/** A service's metrics as one table: each metric's name, help, labels and buckets. */
export function defineMetrics<const T extends MetricTable>(table: T): ServiceMetrics<T> {
  const names = Object.fromEntries(Object.entries(table).map(([key, spec]) => [key, spec.name]));
  return {
    table,
    names: { ...MessageMetricNames, ...names } as ServiceMetrics<T>['names'],
    register(registry, collectors) {
      const metrics = registerMetrics(registry, table, collectors);
      return { ...metrics, observer: createMessageMetrics(registry) };
    },
  };
}

/**
 * Registers every metric of the table in the registry; a metric with a collector is read at
 * scrape time. Returns the metrics by the table's keys.
 */
export function registerMetrics<const T extends MetricTable>(
  registry: Registry,
  table: T,
  collectors: MetricCollectors<T> = {},
): RegisteredMetrics<T> {
  const metrics: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(table)) {
    const collect = collectors[key] as ((metric: unknown) => void | Promise<void>) | undefined;
    const configuration = {
      name: spec.name,
      help: spec.help,
      labelNames: spec.labels ?? [],
      registers: [registry],
      ...(collect
        ? {
            collect: function (this: unknown) {
              return collect(this);
            },
          }
        : {}),
    };
    metrics[key] =
      spec.type === 'counter'
        ? new Counter(configuration)
        : spec.type === 'gauge'
          ? new Gauge(configuration)
          : new Histogram({ ...configuration, buckets: [...spec.buckets] });
  }
  return metrics as RegisteredMetrics<T>;
}
