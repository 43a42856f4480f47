import type { BusObserver } from '@membus/bus';
import { createMessageMetrics, MessageMetricNames } from '@membus/telemetry';
import { Counter, Histogram, type Registry } from 'prom-client';

/** Every metric the embedder exports (names are the contract with the dashboards). */
export const EmbedderMetricNames = {
  ...MessageMetricNames,
  batchSize: 'membus_embed_batch_size',
  embedSeconds: 'membus_embed_seconds',
  texts: 'membus_embed_texts_total',
  cache: 'membus_embed_cache_total',
  redactions: 'membus_redactions_total',
  tokens: 'membus_embed_tokens_total',
  costUsd: 'membus_embed_cost_usd_total',
  providerRetries: 'membus_embed_provider_retries_total',
} as const;

export function createEmbedderMetrics(registry: Registry) {
  const batchSize = new Histogram({
    name: EmbedderMetricNames.batchSize,
    help: 'Texts per provider call',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [registry],
  });
  const embedSeconds = new Histogram({
    name: EmbedderMetricNames.embedSeconds,
    help: 'Provider call duration',
    labelNames: ['provider'],
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [registry],
  });
  const texts = new Counter({
    name: EmbedderMetricNames.texts,
    help: 'Texts embedded by the provider, by purpose',
    labelNames: ['provider', 'purpose'],
    registers: [registry],
  });
  const cache = new Counter({
    name: EmbedderMetricNames.cache,
    help: 'Embedding cache lookups by result (hit, miss)',
    labelNames: ['result'],
    registers: [registry],
  });
  const redactions = new Counter({
    name: EmbedderMetricNames.redactions,
    help: 'Secrets masked before embedding, by kind',
    labelNames: ['kind'],
    registers: [registry],
  });
  const tokens = new Counter({
    name: EmbedderMetricNames.tokens,
    help: 'Tokens the embedding provider reported using',
    labelNames: ['provider', 'model'],
    registers: [registry],
  });
  const costUsd = new Counter({
    name: EmbedderMetricNames.costUsd,
    help: 'Estimated embedding cost in USD (tokens × EMBEDDING_PRICE_PER_MILLION_TOKENS / 1M)',
    labelNames: ['provider', 'model'],
    registers: [registry],
  });
  const providerRetries = new Counter({
    name: EmbedderMetricNames.providerRetries,
    help: 'Provider requests retried, by reason (rate limited, answered 5xx, timed out, unreachable)',
    labelNames: ['provider', 'reason'],
    registers: [registry],
  });
  const observer: BusObserver = createMessageMetrics(registry);
  return {
    batchSize,
    embedSeconds,
    texts,
    cache,
    redactions,
    tokens,
    costUsd,
    providerRetries,
    observer,
  };
}

export type EmbedderMetrics = ReturnType<typeof createEmbedderMetrics>;
