import { defineMetrics } from '@membus/telemetry';
import type { Registry } from 'prom-client';

/** Every metric the embedder declares besides the message metrics. */
const embedderMetrics = defineMetrics({
  batchSize: {
    type: 'histogram',
    name: 'membus_embed_batch_size',
    help: 'Texts per provider call',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
  },
  embedSeconds: {
    type: 'histogram',
    name: 'membus_embed_seconds',
    help: 'Provider call duration',
    labels: ['provider'],
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
  },
  texts: {
    type: 'counter',
    name: 'membus_embed_texts_total',
    help: 'Texts embedded by the provider, by purpose',
    labels: ['provider', 'purpose'],
  },
  cache: {
    type: 'counter',
    name: 'membus_embed_cache_total',
    help: 'Embedding cache lookups by result (hit, miss)',
    labels: ['result'],
  },
  redactions: {
    type: 'counter',
    name: 'membus_redactions_total',
    help: 'Secrets masked before embedding, by kind',
    labels: ['kind'],
  },
  tokens: {
    type: 'counter',
    name: 'membus_embed_tokens_total',
    help: 'Tokens the embedding provider reported using',
    labels: ['provider', 'model'],
  },
  costUsd: {
    type: 'counter',
    name: 'membus_embed_cost_usd_total',
    help: 'Estimated embedding cost in USD (tokens × EMBEDDING_PRICE_PER_MILLION_TOKENS / 1M)',
    labels: ['provider', 'model'],
  },
  policyDecisions: {
    type: 'counter',
    name: 'membus_policy_decisions_total',
    help: 'Ingest policy decisions by action (drop, annotate, keep) and rule (the first 200 rule names; then _other)',
    labels: ['action', 'rule'],
  },
  providerRetries: {
    type: 'counter',
    name: 'membus_embed_provider_retries_total',
    help: 'Provider requests retried, by reason (rate limited, answered 5xx, timed out, unreachable)',
    labels: ['provider', 'reason'],
  },
});

/** Every metric the embedder exports (names are the contract with the dashboards). */
export const EmbedderMetricNames = embedderMetrics.names;

export function createEmbedderMetrics(registry: Registry) {
  return embedderMetrics.register(registry);
}

export type EmbedderMetrics = ReturnType<typeof createEmbedderMetrics>;
