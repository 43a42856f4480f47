import { operationConsumer } from '@membus/bus';
import { Operations } from '@membus/contracts';
import { defineService } from '@membus/service-runtime';
import { natsMemoryPort } from './adapters/nats-memory-port.ts';
import { createOpenAIChatModel } from './adapters/openai-chat-model.ts';
import { loadExtractorConfig } from './config.ts';
import { Extractor } from './domain/extraction.ts';
import { ProviderLimiter, TokenBudget } from './domain/limits.ts';
import { createIngestHandler } from './handlers.ts';
import { createExtractorMetrics } from './metrics.ts';

await defineService({
  name: 'extractor',
  config: loadExtractorConfig,
  consumers: (config) => [
    {
      ...operationConsumer(Operations.ingest),
      maxDeliver: config.maxDeliver,
      // A batch waits for the model (and its retries): redelivered only after this long.
      ackWaitMs: Math.max(60_000, config.timeoutMs * 2),
      maxAckPending: config.maxBatch * 8,
    },
  ],
  async start({ config, log, registry, ...runtime }) {
    const metrics = createExtractorMetrics(registry, {
      inputPerMillion: config.inputCostPerMillion,
      outputPerMillion: config.outputCostPerMillion,
    });
    const { nc, js } = await runtime.connect();
    const model =
      config.baseUrl === undefined
        ? undefined
        : createOpenAIChatModel({
            baseURL: config.baseUrl,
            apiKey: config.apiKey,
            model: config.model,
            responseFormat: config.responseFormat,
            timeoutMs: config.timeoutMs,
            maxRetries: config.maxRetries,
            retryBaseMs: config.retryBaseMs,
            retryMaxMs: config.retryMaxMs,
            onRetry: (delayMs, error) => {
              metrics.retried();
              log.warn('chat model call retried', { delayMs, error: String(error) });
            },
          });
    const extractor = new Extractor({
      model,
      memories: natsMemoryPort(nc, js, {
        timeoutMs: config.requestTimeoutMs,
        storeTimeoutMs: config.storeTimeoutMs,
      }),
      limiter: new ProviderLimiter({
        concurrency: config.concurrency,
        perMinute: config.requestsPerMinute,
      }),
      budget: new TokenBudget(config.dailyTokenBudget),
      observer: metrics.extraction,
      fallback: config.fallback,
      namespaces: config.namespaces,
      nearest: config.nearest,
      garbageRetries: config.maxRetries,
    });
    await runtime.consumeOperation(Operations.ingest, {
      name: 'ingest',
      handler: createIngestHandler(nc, extractor, { maxDeliver: config.maxDeliver }),
      maxBatch: config.maxBatch,
      maxWaitMs: config.windowMs,
      concurrency: config.concurrency,
      workingIntervalMs: 10_000,
      observer: metrics.observer,
      deadLetters: 'log',
    });
    return {
      details: {
        extraction: model === undefined ? 'off (ingests are stored raw)' : config.model,
        ...(config.baseUrl !== undefined ? { baseUrl: config.baseUrl } : {}),
      },
    };
  },
}).run();
