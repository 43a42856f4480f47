import { counter, defineMetrics, histogram } from '@membus/telemetry';
import type { Registry } from 'prom-client';

/** Every metric the embedder declares besides the message metrics. */
// biome-ignore format: a metric a line
const embedderMetrics = defineMetrics({
  batchSize: histogram('membus_embed_batch_size', 'Texts per provider call', [1, 2, 4, 8, 16, 32, 64, 128, 256]),
  embedSeconds: histogram('membus_embed_seconds', 'Provider call duration', [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], ['provider']),
  texts: counter('membus_embed_texts_total', 'Texts embedded by the provider, by purpose', ['provider', 'purpose']),
  cache: counter('membus_embed_cache_total', 'Embedding cache lookups by result (hit, miss)', ['result']),
  redactions: counter('membus_redactions_total', 'Secrets masked before embedding, by kind', ['kind']),
  tokens: counter('membus_embed_tokens_total', 'Tokens the embedding provider reported using', ['provider', 'model']),
  costUsd: counter('membus_embed_cost_usd_total', 'Estimated embedding cost in USD (tokens × EMBEDDING_PRICE_PER_MILLION_TOKENS / 1M)', ['provider', 'model']),
  policyDecisions: counter('membus_policy_decisions_total', 'Ingest policy decisions by action (drop, annotate, keep) and rule (the first 200 rule names; then _other)', ['action', 'rule']),
  providerRetries: counter('membus_embed_provider_retries_total', 'Provider requests retried, by reason (rate limited, answered 5xx, timed out, unreachable)', ['provider', 'reason']),
});

/** Every metric the embedder exports (names are the contract with the dashboards). */
export const EmbedderMetricNames = embedderMetrics.names;

export function createEmbedderMetrics(registry: Registry) {
  return embedderMetrics.register(registry);
}

export type EmbedderMetrics = ReturnType<typeof createEmbedderMetrics>;
