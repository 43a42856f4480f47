import { collectDefaultMetrics, Registry } from 'prom-client';

export type { Registry };

/** Prefix of every metric a membus process exports. */
export const METRIC_PREFIX = 'membus_';

/**
 * A fresh registry holding the process and Node.js default metrics (prefixed `membus_`),
 * with `service` as a default label on every metric registered in it.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  return registry;
}
