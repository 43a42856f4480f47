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
import {
  Consumers,
  MemoryEventSchema,
  SessionEndSchema,
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
import { openMongoLifecycleStore } from './adapters/mongodb-lifecycle-store.ts';
import { natsEmbedPort, natsMemoryPort, natsOutcomePort } from './adapters/nats-ports.ts';
import { createOpenAISummarizer } from './adapters/openai-summarizer.ts';
import { openSqliteLifecycleStore } from './adapters/sqlite-lifecycle-store.ts';
import { loadCompactorConfig, namespaceSettings } from './config.ts';
import { Maintenance } from './domain/maintenance.ts';
import { SessionCompactor } from './domain/session-compactor.ts';
import {
  type CompactorParts,
  createSessionEndHandler,
  createStoredEventHandler,
  serveRequests,
  startSchedules,
} from './handlers.ts';
import { createCompactorMetrics } from './metrics.ts';

const SERVICE = 'compactor';
const config = loadCompactorConfig(process.env);
const log = createLogger(SERVICE, { level: config.logLevel });
const tracing = startTracing({
  service: SERVICE,
  ...(config.otlpEndpoint ? { endpoint: config.otlpEndpoint } : {}),
});
const registry = createMetricsRegistry(SERVICE);
const metrics = createCompactorMetrics(registry);
const settings = namespaceSettings(config);

const mongoUri = config.mongoUri;
const store =
  mongoUri === undefined
    ? openSqliteLifecycleStore({ path: join(config.dataDir, 'compactor', 'lifecycle.sqlite') })
    : await openMongoLifecycleStore({
        uri: mongoUri,
        database: config.mongoDatabase,
        writeConcern: config.mongoWriteConcern,
        serverSelectionTimeoutMs: config.mongoServerSelectionTimeoutMs,
      }).catch((error: unknown) => {
        log.error('cannot open the MongoDB lifecycle store; stopping', { error });
        process.exit(1);
      });

const nc = await connectBus(busConnectionFromEnv(config, SERVICE));
const js = jetstream(nc);
const jsm = await jetstreamManager(nc);
await ensureStreams(jsm, { replicas: config.streamReplicas });
await ensureConsumer(jsm, {
  stream: Streams.lifecycle.name,
  durable: Consumers.compactor,
  maxDeliver: config.maxDeliver,
  ackWaitMs: config.sessionAckWaitMs,
  maxAckPending: 16,
});
await ensureConsumer(jsm, {
  stream: Streams.events.name,
  durable: Consumers.compactor,
  filterSubject: `${Subjects.stored}.*`,
  maxDeliver: config.maxDeliver,
});
registerJetStreamMetrics(
  registry,
  jetStreamStatusReader(jsm, [
    { stream: Streams.lifecycle.name, consumer: Consumers.compactor },
    { stream: Streams.events.name, consumer: Consumers.compactor },
  ]),
  { tenantLabel: config.metricsTenantLabel },
);

const memories = natsMemoryPort(nc, js, {
  timeoutMs: config.requestTimeoutMs,
  storeTimeoutMs: config.storeTimeoutMs,
});
const embed = natsEmbedPort(nc, config.requestTimeoutMs);
const parts: CompactorParts = {
  nc,
  store,
  metrics,
  compactor: new SessionCompactor({
    memories,
    embed,
    store,
    originals: config.originals,
    duplicateThreshold: settings.duplicateThreshold,
    summarise: {
      maxChars: config.summaryMaxChars,
      keepRatio: config.summaryKeepRatio,
      lambda: 0.7,
    },
    ...(config.summaryProvider === 'openai'
      ? {
          summarizer: createOpenAISummarizer({
            model: config.summaryModel,
            ...(config.openaiBaseUrl !== undefined ? { baseURL: config.openaiBaseUrl } : {}),
            ...(config.openaiApiKey !== undefined ? { apiKey: config.openaiApiKey } : {}),
            maxOutputTokens: config.summaryMaxOutputTokens,
            timeoutMs: config.summaryTimeoutMs,
            maxRetries: config.summaryMaxRetries,
          }),
        }
      : {}),
    onSummary: ({ provider, result, error }) => {
      metrics.recordSummary(provider, result);
      if (result === 'fallback')
        log.warn('chat summary failed; used the extractive one', { error });
    },
    outcomes: natsOutcomePort(js),
  }),
  maintenance: new Maintenance({
    memories,
    embed,
    retention: config.retention,
    capacity: settings.capacity,
    overflow: settings.overflow,
    duplicateThreshold: settings.duplicateThreshold,
    importance: { below: config.importanceBelow, afterDays: config.importanceAfterDays },
    archive: (tenant, records) => store.archive(tenant, records),
    onChanges: (sweep, changes) => metrics.recordChanges(sweep, changes),
  }),
  onError: (message, error) => log.error(message, { error }),
};
log.info('storage', {
  store: store.capabilities.name,
  originals: config.originals,
  summaries: config.summaryProvider,
  tiersOnStore: config.tiersOnStore,
  tierOverflow: settings.overflow(undefined),
});

const services = serveRequests(parts, { maxConcurrent: 4 });

const onDeadLetter = (letter: { subject: string; error: { code: string; message: string } }) =>
  log.warn('dead-lettered', {
    subject: letter.subject,
    code: letter.error.code,
    reason: letter.error.message,
  });
const sessionEnds = await consumeStream({
  js,
  stream: Streams.lifecycle.name,
  consumer: Consumers.compactor,
  schema: SessionEndSchema,
  handler: createSessionEndHandler(parts),
  maxBatch: 1,
  maxWaitMs: 0,
  maxDeliver: config.maxDeliver,
  workingIntervalMs: Math.max(500, Math.floor(config.sessionAckWaitMs / 3)),
  observer: metrics.observer,
  onDeadLetter,
});
const storedEvents = await consumeStream({
  js,
  stream: Streams.events.name,
  consumer: Consumers.compactor,
  schema: MemoryEventSchema,
  handler: createStoredEventHandler(parts, { tiersOnStore: config.tiersOnStore }),
  maxBatch: 128,
  maxWaitMs: 20,
  maxDeliver: config.maxDeliver,
  observer: metrics.observer,
  onDeadLetter,
});

let consuming = true;
for (const consumer of [sessionEnds, storedEvents]) {
  consumer.done.then(
    () => {
      consuming = false;
    },
    (error: unknown) => {
      consuming = false;
      log.error('consumer stopped', { error });
    },
  );
}

// A crash may have left a compaction half done: finish it before anything else.
for (const report of await parts.compactor.resumePending().catch((error: unknown) => {
  log.error('resuming pending compactions failed', { error });
  return [];
}))
  log.info('resumed compaction', { sessionId: report.sessionId, memoriesIn: report.memoriesIn });

const stopSchedules = startSchedules(parts, {
  sweepIntervalMs: config.sweepIntervalMs,
  sessionIdleMs: config.sessionIdleMs,
  idleCheckMs: config.idleCheckMs,
  tenants: config.tenants
    .split(',')
    .map((tenant) => tenant.trim())
    .filter(Boolean),
});

await runService({
  service: SERVICE,
  port: config.metricsPort,
  host: config.metricsHost,
  registry,
  log,
  tracing,
  checks: () => ({ nats: !nc.isClosed(), consumer: consuming }),
  details: { nats: config.natsUrl, store: store.capabilities.name },
  drain: async () => {
    await stopSchedules();
    await Promise.all([sessionEnds.stop(), storedEvents.stop()]);
    await Promise.all(services.map((served) => served.drain()));
    await nc.drain();
    await store.close();
  },
});
