import { counter, defineMetrics, histogram } from '@membus/telemetry';
import type { Registry } from 'prom-client';
import type { DeliveryHooks } from './domain/webhook-dispatcher.ts';

/** Every metric the webhooks service declares besides the message metrics. */
// biome-ignore format: a metric a line
const webhookMetrics = defineMetrics({
  delivered: counter('membus_webhook_deliveries_total', 'Webhook deliveries answered 2xx'),
  failed: counter('membus_webhook_failures_total', 'Failed webhook attempts, by reason (status: a non-2xx answer; network: no answer, timeout; refused: a private address)', ['reason']),
  retries: counter('membus_webhook_retries_total', 'Webhook attempts retried after a failure'),
  deadLettered: counter('membus_webhook_dead_letters_total', 'Webhook deliveries dead-lettered to memory.dlq.<tenant> after the last attempt'),
  seconds: histogram('membus_webhook_delivery_seconds', 'Latency of a successful webhook POST', [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
});

/** Every metric the webhooks service exports. */
export const WebhookMetricNames = webhookMetrics.names;

export function createWebhookMetrics(registry: Registry) {
  const { delivered, failed, retries, deadLettered, seconds, observer } =
    webhookMetrics.register(registry);
  const hooks: DeliveryHooks = {
    delivered(elapsed) {
      delivered.inc();
      seconds.observe(elapsed);
    },
    failed(reason) {
      failed.inc({ reason });
    },
    retried() {
      retries.inc();
    },
    deadLettered() {
      deadLettered.inc();
    },
  };
  return { hooks, observer };
}
