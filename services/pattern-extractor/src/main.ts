import { join } from 'node:path';
import {
  busConnectionFromEnv,
  connectBus,
  consumeStream,
  ensureConsumer,
  ensureStreams,
  jetStreamStatusReader,
  jetstream,
  jetstreamManager,
} from '@membus/bus';
import { Consumers, OutcomeSchema, Streams } from '@membus/contracts';
import {
  createLogger,
  createMetricsRegistry,
  registerJetStreamMetrics,
  runService,
  startTracing,
} from '@membus/telemetry';
import { openMongoOutcomeStore } from './adapters/mongodb/mongodb-outcome-store.ts';
import { openSqliteOutcomeStore } from './adapters/sqlite/sqlite-outcome-store.ts';
import { loadPatternExtractorConfig } from './config.ts';
import { PatternService } from './domain/pattern-service.ts';
import { TaskTypeClassifier } from './domain/task-types.ts';
import { createOutcomeHandler, natsEmbedTexts, natsMemoryPort, serveRequests } from './handlers.ts';
import { createPatternExtractorMetrics } from './metrics.ts';

const SERVICE = 'pattern-extractor';
const config = loadPatternExtractorConfig(process.env);
const log = createLogger(SERVICE, { level: config.logLevel });
const tracing = startTracing({
  service: SERVICE,
  ...(config.otlpEndpoint ? { endpoint: config.otlpEndpoint } : {}),
});
const registry = createMetricsRegistry(SERVICE);

const store = config.mongodbUri
  ? await openMongoOutcomeStore({
      uri: config.mongodbUri,
      database: config.mongodbDatabase,
      writeConcern: config.mongodbWriteConcern,
    })
  : openSqliteOutcomeStore({ path: join(config.dataDir, SERVICE, 'outcomes.sqlite') });
log.info('storage', { outcomes: store.capabilities.name });

const nc = await connectBus(busConnectionFromEnv(config, SERVICE));
const js = jetstream(nc);
const jsm = await jetstreamManager(nc);
await ensureStreams(jsm, { replicas: config.streamReplicas });
await ensureConsumer(jsm, {
  stream: Streams.outcomes.name,
  durable: Consumers.patternExtractor,
  maxDeliver: config.maxDeliver,
});
registerJetStreamMetrics(
  registry,
  jetStreamStatusReader(jsm, [
    { stream: Streams.outcomes.name, consumer: Consumers.patternExtractor },
  ]),
  { tenantLabel: config.metricsTenantLabel },
);

const classifier = new TaskTypeClassifier({
  taskTypes: config.taskTypes,
  method: config.inference,
  embed: natsEmbedTexts(nc, config.requestTimeoutMs),
});

let service: PatternService | undefined;
const metrics = createPatternExtractorMetrics(registry, config.taskTypes, {
  taskTypeTotals: () => store.taskTypeTotals(),
  pendingPatternKeys: () => service?.pendingPatternKeys ?? 0,
});
service = new PatternService({
  store,
  memories: natsMemoryPort(nc, js, config.requestTimeoutMs),
  classifier,
  thresholds: {
    minSupport: config.minSupport,
    minConfidence: config.minConfidence,
    failureMinCount: config.failureMinCount,
  },
  recentWindowDays: config.recentWindowDays,
  hooks: metrics.hooks,
  onBackgroundError: (error) => log.warn('pattern memory write failed; will retry', { error }),
});
service.startBackgroundSync(config.syncIntervalMs);

const services = serveRequests(nc, service, {
  maxConcurrent: config.requestConcurrency,
  metrics,
  onError: (error) => log.error('request failed', { error }),
});

const consumer = await consumeStream({
  js,
  stream: Streams.outcomes.name,
  consumer: Consumers.patternExtractor,
  schema: OutcomeSchema,
  handler: createOutcomeHandler(service),
  maxBatch: config.maxBatch,
  maxWaitMs: config.maxWaitMs,
  maxDeliver: config.maxDeliver,
  observer: metrics.observer,
  onDeadLetter: (letter) =>
    log.warn('dead-lettered', {
      subject: letter.subject,
      code: letter.error.code,
      reason: letter.error.message,
    }),
});

let consuming = true;
consumer.done.then(
  () => {
    consuming = false;
  },
  (error: unknown) => {
    consuming = false;
    log.error('outcome consumer stopped', { error });
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
  details: { nats: config.natsUrl, store: store.capabilities.name, inference: config.inference },
  drain: async () => {
    await consumer.stop();
    await Promise.all(services.map((served) => served.drain()));
    await service.close();
    await nc.drain();
    await store.close();
  },
});
