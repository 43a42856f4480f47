import type { BusObserver } from '@membus/bus';
import { Counter, Histogram, type Registry } from 'prom-client';

/** Every metric the embedder exports (names are the contract with the dashboards). */
export const EmbedderMetricNames = {
  messages: 'membus_messages_handled_total',
  handleSeconds: 'membus_message_handle_seconds',
  batchSize: 'membus_embed_batch_size',
  embedSeconds: 'membus_embed_seconds',
  texts: 'membus_embed_texts_total',
  cache: 'membus_embed_cache_total',
  redactions: 'membus_redactions_total',
} as const;

export function createEmbedderMetrics(registry: Registry) {
  const messages = new Counter({
    name: EmbedderMetricNames.messages,
    help: 'Messages handled, by subject, kind and outcome',
    labelNames: ['subject', 'kind', 'outcome', 'code'],
    registers: [registry],
  });
  const handleSeconds = new Histogram({
    name: EmbedderMetricNames.handleSeconds,
    help: 'Time to handle a message or request',
    labelNames: ['subject', 'kind'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
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
  const observer: BusObserver = (event) => {
    messages.inc({
      subject: event.subject,
      kind: event.kind,
      outcome: event.outcome,
      code: event.code ?? '',
    });
    handleSeconds.observe({ subject: event.subject, kind: event.kind }, event.seconds);
  };
  return { messages, handleSeconds, batchSize, embedSeconds, texts, cache, redactions, observer };
}

export type EmbedderMetrics = ReturnType<typeof createEmbedderMetrics>;
