import { Counter, Gauge, type Registry } from 'prom-client';

/** One durable consumer's backlog (structurally `ConsumerStatus` of @membus/bus). */
export interface ConsumerSnapshot {
  stream: string;
  consumer: string;
  pending: number;
  ackPending: number;
  redelivered: number;
}

/** What a JetStream reader returns per scrape (structurally `JetStreamStatus` of @membus/bus). */
export interface JetStreamSnapshot {
  consumers: readonly ConsumerSnapshot[];
  /** Dead letters held, by tenant. */
  deadLetters: Readonly<Record<string, number>>;
}

/** Names of the JetStream metrics (polled from the server at scrape time). */
export const JetStreamMetricNames = {
  consumerPending: 'membus_jetstream_consumer_pending_messages',
  consumerAckPending: 'membus_jetstream_consumer_ack_pending_messages',
  consumerRedelivered: 'membus_jetstream_consumer_redelivered_messages',
  deadLetters: 'membus_dlq_messages',
  pollErrors: 'membus_jetstream_poll_errors_total',
} as const;

export interface JetStreamMetricsOptions {
  /** Label dead letters by tenant (default off: one series for the whole DLQ). */
  tenantLabel?: boolean;
  /** One server read serves every gauge of a scrape; reads closer together share it (ms). */
  maxAgeMs?: number;
}

/**
 * Gauges of consumer backlogs and dead letters, read from the server when Prometheus
 * scrapes. A failed read keeps the last values and counts `membus_jetstream_poll_errors_total`.
 */
export function registerJetStreamMetrics(
  registry: Registry,
  read: () => Promise<JetStreamSnapshot>,
  options: JetStreamMetricsOptions = {},
): void {
  const tenantLabel = options.tenantLabel ?? false;
  const maxAgeMs = options.maxAgeMs ?? 1_000;
  let last: { at: number; snapshot: Promise<JetStreamSnapshot | undefined> } | undefined;
  const pollErrors = new Counter({
    name: JetStreamMetricNames.pollErrors,
    help: 'Failed reads of JetStream consumer and stream state',
    registers: [registry],
    // Read first, so a failure of this scrape's read is already counted.
    async collect() {
      await snapshot();
    },
  });
  const snapshot = (): Promise<JetStreamSnapshot | undefined> => {
    const now = Date.now();
    if (!last || now - last.at > maxAgeMs) {
      last = {
        at: now,
        snapshot: read().catch(() => {
          pollErrors.inc();
          return undefined;
        }),
      };
    }
    return last.snapshot;
  };
  const consumerGauge = (
    name: string,
    help: string,
    pick: (consumer: ConsumerSnapshot) => number,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ['stream', 'consumer'],
      registers: [registry],
      async collect() {
        const current = await snapshot();
        for (const consumer of current?.consumers ?? []) {
          this.set({ stream: consumer.stream, consumer: consumer.consumer }, pick(consumer));
        }
      },
    });
  consumerGauge(
    JetStreamMetricNames.consumerPending,
    'Messages in the stream not yet delivered to the durable consumer (pipeline backlog)',
    (consumer) => consumer.pending,
  );
  consumerGauge(
    JetStreamMetricNames.consumerAckPending,
    'Messages delivered to the durable consumer and not yet acknowledged',
    (consumer) => consumer.ackPending,
  );
  consumerGauge(
    JetStreamMetricNames.consumerRedelivered,
    'Messages delivered more than once to the durable consumer and not yet acknowledged',
    (consumer) => consumer.redelivered,
  );
  new Gauge({
    name: JetStreamMetricNames.deadLetters,
    help: tenantLabel
      ? 'Dead letters held in the MEMORY_DLQ stream, by tenant'
      : 'Dead letters held in the MEMORY_DLQ stream',
    labelNames: tenantLabel ? ['tenant'] : [],
    registers: [registry],
    async collect() {
      const current = await snapshot();
      if (!current) return;
      if (!tenantLabel) {
        this.set(Object.values(current.deadLetters).reduce((sum, count) => sum + count, 0));
        return;
      }
      this.reset();
      for (const [tenant, count] of Object.entries(current.deadLetters)) {
        this.set({ tenant }, count);
      }
    },
  });
}
