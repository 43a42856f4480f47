import {
  busConnectionFromEnv,
  connectBus,
  consumeStream,
  ensureConsumer,
  ensureStreams,
  jetStreamStatusReader,
  jetstream,
  jetstreamManager,
  notifyDeadLetter,
  openKv,
  serve,
} from '@membus/bus';
import {
  Consumers,
  EmbedRequestSchema,
  QueueGroups,
  StoreMemorySchema,
  Streams,
  Subjects,
} from '@membus/contracts';
import {
  createLogger,
  createMetricsRegistry,
  registerJetStreamMetrics,
  runService,
  startTracing,
} from '@membus/telemetry';
import { loadEmbedderConfig } from './config.ts';
import { Embedder } from './domain/embedder.ts';
import {
  type EmbeddingCache,
  KvEmbeddingCache,
  MemoryEmbeddingCache,
} from './domain/embedding-cache.ts';
import { createRedactor } from './domain/redaction.ts';
import { createEmbedHandler, createStoreHandler } from './handlers.ts';
import { startOpenAiCompatibleServer } from './http/openai-compatible.ts';
import { createEmbedderMetrics } from './metrics.ts';
import { createLocalEmbeddingProvider } from './providers/local.ts';
import { createOpenAIEmbeddingProvider } from './providers/openai.ts';

const SERVICE = 'embedder';
const config = loadEmbedderConfig(process.env);
const log = createLogger(SERVICE, { level: config.logLevel });
const tracing = startTracing({
  service: SERVICE,
  ...(config.otlpEndpoint ? { endpoint: config.otlpEndpoint } : {}),
});
const registry = createMetricsRegistry(SERVICE);
const metrics = createEmbedderMetrics(registry);

const providerName =
  config.provider === 'auto' ? (config.openaiApiKey ? 'openai' : 'local') : config.provider;
const provider =
  providerName === 'local'
    ? createLocalEmbeddingProvider(
        config.dimension !== undefined ? { dimension: config.dimension } : {},
      )
    : createOpenAIEmbeddingProvider({
        ...(config.openaiApiKey !== undefined ? { apiKey: config.openaiApiKey } : {}),
        ...(config.openaiBaseUrl !== undefined ? { baseURL: config.openaiBaseUrl } : {}),
        model: config.model,
        ...(config.dimension !== undefined ? { dimension: config.dimension } : {}),
        ...(config.providerMaxBatch !== undefined ? { maxBatch: config.providerMaxBatch } : {}),
        timeoutMs: config.providerTimeoutMs,
        maxAttempts: config.providerMaxAttempts,
        ...(config.pricePerMillionTokens !== undefined
          ? { pricePerMillionTokens: config.pricePerMillionTokens }
          : {}),
        onUsage: ({ tokens, costUsd, model }) => {
          metrics.tokens.inc({ provider: 'openai', model }, tokens);
          metrics.costUsd.inc({ provider: 'openai', model }, costUsd);
        },
        onRetry: ({ attempt, delayMs, reason }) => {
          metrics.providerRetries.inc({ provider: 'openai', reason });
          log.warn('embedding provider call failed; retrying', { attempt, delayMs, reason });
        },
      });
log.info('embedding provider', {
  provider: provider.capabilities.name,
  model: provider.capabilities.model,
  dimension: provider.capabilities.dimension,
  maxBatch: provider.capabilities.maxBatch,
  ...(providerName === 'openai'
    ? { baseUrl: config.openaiBaseUrl ?? 'https://api.openai.com/v1' }
    : {}),
});
if (provider.capabilities.remote) {
  // Fail fast: a wrong URL, key, model or dimension stops the service at startup instead of
  // dead-lettering every store later.
  try {
    await provider.embed(['membus startup check'], { purpose: 'query' });
  } catch (error) {
    log.error('embedding provider unusable at startup; stopping', { error });
    process.exit(1);
  }
}

const nc = await connectBus(busConnectionFromEnv(config, SERVICE));
const js = jetstream(nc);
const jsm = await jetstreamManager(nc);
await ensureStreams(jsm, { replicas: config.streamReplicas });
await ensureConsumer(jsm, {
  stream: Streams.store.name,
  durable: Consumers.embedder,
  maxDeliver: config.maxDeliver,
});
registerJetStreamMetrics(
  registry,
  jetStreamStatusReader(jsm, [{ stream: Streams.store.name, consumer: Consumers.embedder }]),
  { tenantLabel: config.metricsTenantLabel },
);

const cacheMode =
  config.cache === 'auto' ? (provider.capabilities.remote ? 'kv' : 'memory') : config.cache;
const local = new MemoryEmbeddingCache(config.cacheEntries);
const cache: EmbeddingCache | undefined =
  cacheMode === 'off'
    ? undefined
    : cacheMode === 'memory'
      ? local
      : new KvEmbeddingCache(
          await openKv(js, 'membus-embeddings', {
            ttlMs: config.cacheTtlSeconds * 1000,
            replicas: config.streamReplicas,
          }),
          local,
          (error) => log.warn('embedding cache unavailable', { error }),
        );
log.info('embedding cache', { mode: cacheMode });

const embedder = new Embedder({
  provider,
  ...(cache ? { cache } : {}),
  ...(config.redaction ? { redactor: createRedactor() } : {}),
  hooks: {
    onProviderCall: (texts, seconds, purpose) => {
      metrics.batchSize.observe(texts);
      metrics.embedSeconds.observe({ provider: provider.capabilities.name }, seconds);
      metrics.texts.inc({ provider: provider.capabilities.name, purpose }, texts);
    },
    onCache: (hits, misses) => {
      if (hits) metrics.cache.inc({ result: 'hit' }, hits);
      if (misses) metrics.cache.inc({ result: 'miss' }, misses);
    },
    onRedaction: (kind, count) => metrics.redactions.inc({ kind }, count),
  },
});

const http =
  config.httpPort === undefined
    ? undefined
    : await startOpenAiCompatibleServer({ embedder, port: config.httpPort, host: config.httpHost });
if (http)
  log.info('OpenAI-compatible embeddings endpoint', {
    url: `http://${config.httpHost}:${http.port}/v1/embeddings`,
  });

const embedService = serve(nc, {
  subject: Subjects.embed,
  queue: QueueGroups.embedder,
  schema: EmbedRequestSchema,
  tenantScoped: false,
  handler: createEmbedHandler(embedder),
  observer: metrics.observer,
  onError: (error) => log.error('embed request failed', { error }),
});

const storeConsumer = await consumeStream({
  js,
  stream: Streams.store.name,
  consumer: Consumers.embedder,
  schema: StoreMemorySchema,
  handler: createStoreHandler(js, embedder),
  maxBatch: config.maxBatch,
  maxWaitMs: config.maxWaitMs,
  concurrency: config.concurrency,
  maxDeliver: config.maxDeliver,
  observer: metrics.observer,
  onDeadLetter: (letter, headers, data) => {
    log.warn('dead-lettered', {
      subject: letter.subject,
      code: letter.error.code,
      reason: letter.error.message,
    });
    notifyDeadLetter(nc, letter, headers, data);
  },
});

let consuming = true;
storeConsumer.done.then(
  () => {
    consuming = false;
  },
  (error: unknown) => {
    consuming = false;
    log.error('store consumer stopped', { error });
  },
);

await runService({
  service: SERVICE,
  port: config.metricsPort,
  host: config.metricsHost,
  registry,
  log,
  tracing,
  checks: () => ({ nats: !nc.isClosed(), consumer: consuming }),
  details: { nats: config.natsUrl, provider: provider.capabilities.name },
  drain: async () => {
    await http?.close();
    await storeConsumer.stop();
    await embedService.drain();
    await nc.drain();
  },
});
