import { join } from 'node:path';
import { createHeaders, publishDurable } from '@membus/bus';
import {
  Consumers,
  Headers,
  MemoryEventSchema,
  Operations,
  Streams,
  subjectOf,
} from '@membus/contracts';
import { defineService } from '@membus/service-runtime';
import { openSqliteEndpointStore } from './adapters/sqlite-endpoint-store.ts';
import { loadWebhooksConfig } from './config.ts';
import { addressGuard } from './domain/address-guard.ts';
import { nodeHttpPost } from './domain/http-post.ts';
import { WebhookDispatcher } from './domain/webhook-dispatcher.ts';
import { createWebhookMetrics } from './metrics.ts';

await defineService({
  name: 'webhooks',
  config: loadWebhooksConfig,
  consumers: (config) => [
    {
      stream: Streams.events.name,
      durable: Consumers.webhooks,
      maxDeliver: config.maxDeliver,
      maxAckPending: config.concurrency * 64,
    },
  ],
  async start({ config, log, registry, ...runtime }) {
    const metrics = createWebhookMetrics(registry);
    const store = await runtime.open('webhook endpoint store', () =>
      openSqliteEndpointStore(join(config.dataDir, runtime.name, 'endpoints.sqlite')),
    );
    const { js, jsm } = await runtime.connect();
    if (config.allowPrivate)
      log.warn('WEBHOOK_ALLOW_PRIVATE: endpoints on private and loopback addresses are allowed');
    const dispatcher = new WebhookDispatcher({
      store,
      resolveTarget: addressGuard({ allowPrivate: config.allowPrivate }),
      post: nodeHttpPost,
      attempts: config.attempts,
      backoffBaseMs: config.backoffBaseMs,
      backoffMaxMs: config.backoffMaxMs,
      timeoutMs: config.timeoutMs,
      maxEndpoints: config.maxEndpoints,
      hooks: metrics.hooks,
      eventsLastSequence: async () => (await jsm.streams.info(Streams.events.name)).state.last_seq,
      async deadLetter(tenant, letter) {
        log.warn('webhook dead-lettered', { tenant, reason: letter.error.message });
        const headers = createHeaders();
        headers.set(Headers.errorCode, letter.error.code);
        headers.set(Headers.errorMessage, letter.error.message.slice(0, 1_000));
        headers.set(Headers.originalSubject, letter.subject);
        await publishDurable(js, subjectOf(Operations.dlq, tenant), letter, { headers });
      },
    });
    const serve = runtime.serveOperations({
      maxConcurrent: 16,
      observer: metrics.observer,
      onError: (error) => log.error('request failed', { error }),
    });
    serve(Operations.webhooks, async (request, { tenant }) => ({
      v: 1 as const,
      ...(await dispatcher.handle(tenant, request)),
    }));
    await runtime.consume(Streams.events.name, {
      name: 'events',
      schema: MemoryEventSchema,
      // Each event to all its endpoints, retries included; acked once every one is delivered or
      // dead-lettered (a crash meanwhile sends it again: receivers de-duplicate on webhook-id).
      handler: async (items) => {
        await Promise.all(
          items.map((item) =>
            dispatcher.dispatch({
              tenant: item.tenant,
              seq: item.sequence,
              subject: item.subject,
              event: item.value,
            }),
          ),
        );
        return items.map(() => ({ ok: true as const }));
      },
      maxBatch: config.concurrency,
      maxWaitMs: 5,
      observer: metrics.observer,
      deadLetters: 'log',
    });
    return {
      details: { allowPrivate: config.allowPrivate },
      close: async () => store.close(),
    };
  },
}).run();
