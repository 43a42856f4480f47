import { type ConfigOf, env } from '@membus/bus';
import { configLoader, serviceEnv } from '@membus/service-runtime';

export const webhooksEnvSpec = serviceEnv(9470, {
  dataDir: {
    env: 'MEMBUS_DATA_DIR',
    schema: env.string('./data'),
    description: 'where the endpoints are kept (webhooks/endpoints.sqlite)',
  },
  attempts: {
    env: 'WEBHOOK_ATTEMPTS',
    schema: env.int(6, 1, 20),
    description: 'attempts per delivery (the first included) before the dead letter',
  },
  backoffBaseMs: {
    env: 'WEBHOOK_BACKOFF_MS',
    schema: env.int(1_000, 1),
    description: 'first retry delay, doubled per attempt, with full jitter',
  },
  backoffMaxMs: {
    env: 'WEBHOOK_BACKOFF_MAX_MS',
    schema: env.int(60_000, 1),
    description: 'longest retry delay (also the cap of a Retry-After)',
  },
  timeoutMs: {
    env: 'WEBHOOK_TIMEOUT_MS',
    schema: env.int(10_000, 100),
    description: 'timeout of one POST',
  },
  allowPrivate: {
    env: 'WEBHOOK_ALLOW_PRIVATE',
    schema: env.boolean(false),
    description:
      'allow endpoints on loopback, private, link-local and reserved addresses (off: SSRF care)',
  },
  maxEndpoints: {
    env: 'WEBHOOK_MAX_ENDPOINTS',
    schema: env.int(20, 1, 1_000),
    description: 'endpoints per tenant',
  },
  concurrency: {
    env: 'WEBHOOK_CONCURRENCY',
    schema: env.int(16, 1, 256),
    description: 'events delivered at once (each to all its endpoints)',
  },
  maxDeliver: {
    env: 'WEBHOOK_MAX_DELIVER',
    schema: env.int(8, 1, 100),
    description: 'deliveries of an event to this service before it is dead-lettered',
  },
});

export type WebhooksConfig = ConfigOf<typeof webhooksEnvSpec>;
export const loadWebhooksConfig = configLoader(webhooksEnvSpec);
