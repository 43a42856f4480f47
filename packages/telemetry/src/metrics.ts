import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

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

/** What the bus reports per handled message (structurally `HandledEvent` of @membus/bus). */
export interface HandledMessage {
  subject: string;
  kind: 'request' | 'stream';
  outcome: string;
  code?: string;
  seconds: number;
}

/** Names of the message metrics every service exports. */
export const MessageMetricNames = {
  handled: 'membus_messages_handled_total',
  handleSeconds: 'membus_message_handle_seconds',
} as const;

/**
 * Counters and a duration histogram of handled messages (by subject without tenant, kind,
 * outcome, error code); returns the observer to hand to the bus.
 */
export function createMessageMetrics(registry: Registry): (event: HandledMessage) => void {
  const handled = new Counter({
    name: MessageMetricNames.handled,
    help: 'Messages handled, by subject, kind (request, stream) and outcome (ok, error, retry, dead_letter)',
    labelNames: ['subject', 'kind', 'outcome', 'code'],
    registers: [registry],
  });
  const handleSeconds = new Histogram({
    name: MessageMetricNames.handleSeconds,
    help: 'Time to handle a message or request',
    labelNames: ['subject', 'kind'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  return (event) => {
    handled.inc({
      subject: event.subject,
      kind: event.kind,
      outcome: event.outcome,
      code: event.code ?? '',
    });
    handleSeconds.observe({ subject: event.subject, kind: event.kind }, event.seconds);
  };
}
