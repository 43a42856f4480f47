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
  notifyDeadLetter,
} from '@membus/bus';
import { Consumers, EmbeddedMemorySchema, Streams } from '@membus/contracts';
import {
  classifyStorageError,
  type GraphEvent,
  openEmbeddedVectorIndex,
  StorageHealth,
  storageErrorMessage,
  storageFailureReasons,
} from '@membus/embedded-index';
import { redactUri } from '@membus/mongodb';
import {
  createLogger,
  createMetricsRegistry,
  registerJetStreamMetrics,
  runService,
  setActiveSpanAttributes,
  startTracing,
} from '@membus/telemetry';
import { openMongoDocumentStore } from './adapters/mongodb/index.ts';
import { openQdrantVectorIndex, qdrantCollectionName } from './adapters/qdrant/index.ts';
import { QueryEmbedding } from './adapters/query-embedding.ts';
import { openSqliteDocumentStore } from './adapters/sqlite/sqlite-document-store.ts';
import { loadVectorStoreConfig } from './config.ts';
import { MemoryService } from './domain/memory-service.ts';
import {
  createIngestHandler,
  jetStreamEventPort,
  natsEmbedPort,
  serveRequests,
} from './handlers.ts';
import { createVectorStoreMetrics } from './metrics.ts';

const SERVICE = 'vector-store';
const config = loadVectorStoreConfig(process.env);
const log = createLogger(SERVICE, { level: config.logLevel });
const tracing = startTracing({
  service: SERVICE,
  ...(config.otlpEndpoint ? { endpoint: config.otlpEndpoint } : {}),
});
const registry = createMetricsRegistry(SERVICE);

const directory = join(config.dataDir, 'vector-store');
/**
 * Opens a configured backend or stops the process with one clear line (fail fast): the error's
 * message says what is wrong and what to do (e.g. a damaged database file); no stack trace.
 */
async function openBackend<T>(what: string, open: () => Promise<T> | T): Promise<T> {
  try {
    return await open();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    log.error(`cannot open the ${what}; stopping: ${reason}`, { error });
    process.exit(1);
  }
}

/**
 * Storage write failures (a full disk above all): one log line when they start, one a minute
 * while they last (with how many there were), one when writes succeed again; counted in
 * `membus_storage_errors_total{reason}` and `membus_storage_disk_full`.
 */
const storageHealth = new StorageHealth({
  directory,
  onFailure: ({ reason, operation, cause, failures, first, action }) =>
    log.error(
      first
        ? `storage ${reason.replace('_', ' ')}: ${operation} failed (${cause}); ${action}`
        : `storage ${reason.replace('_', ' ')}: still failing, ${failures} failed operations since the last report (${cause}); ${action}`,
      { reason, operation, failures },
    ),
  onRecovered: ({ reason, failures, seconds }) =>
    log.info(`storage writable again after ${failures} failed operations (${reason})`, {
      reason,
      failures,
      seconds,
    }),
});

/** The graph rebuilt from SQLite at start: what was found, then how long the rebuild took. */
function logGraphEvent(event: GraphEvent): void {
  if (event.type === 'rebuild-started')
    log.warn(
      `rebuilding the HNSW graph from SQLite (${event.memories} memories; searches scan exactly meanwhile): ${event.problem}`,
      { reason: event.reason, memories: event.memories },
    );
  else
    log.warn(
      `the HNSW graph was rebuilt from SQLite in ${event.seconds.toFixed(1)} s (${event.memories} memories): ${event.problem}`,
      { reason: event.reason, memories: event.memories, seconds: event.seconds },
    );
}
const qdrantUrl = config.qdrantUrl;
const qdrantCollection =
  config.qdrantCollection ?? qdrantCollectionName(config.embeddingModel, config.dimension);
const embeddedIndex =
  qdrantUrl === undefined
    ? await openBackend('embedded vector index', () =>
        openEmbeddedVectorIndex({
          directory: join(directory, 'index'),
          dimension: config.dimension,
          onGraphEvent: logGraphEvent,
        }),
      )
    : undefined;
const index =
  embeddedIndex ??
  (await openBackend('Qdrant vector index', () =>
    openQdrantVectorIndex({
      url: qdrantUrl as string,
      ...(config.qdrantApiKey !== undefined ? { apiKey: config.qdrantApiKey } : {}),
      dimension: config.dimension,
      collection: qdrantCollection,
      onRetry: ({ operation, attempt, delayMs, error }) =>
        log.warn('qdrant call failed; retrying', { operation, attempt, delayMs, error }),
      onWarning: (message, details) => log.warn(message, details),
    }),
  ));
const metrics = createVectorStoreMetrics(registry, embeddedIndex, {
  tenantLabel: config.metricsTenantLabel,
  storage: { source: storageHealth, reasons: storageFailureReasons },
});
const mongodbUri = config.mongodbUri;
const documents =
  mongodbUri === undefined
    ? await openBackend('SQLite document store', () => {
        const path = join(directory, 'documents.sqlite');
        try {
          return openSqliteDocumentStore({ path });
        } catch (error) {
          if (classifyStorageError(error) !== 'corrupt') throw error;
          throw new Error(
            `the history database ${path} is damaged (${storageErrorMessage(error)}): restore it from a backup, or move it aside to start with an empty history (the memories are in ${join(directory, 'index', 'memories.sqlite')})`,
          );
        }
      })
    : await openBackend('MongoDB document store', () =>
        openMongoDocumentStore({
          uri: mongodbUri,
          database: config.mongodbDatabase,
          writeConcern: config.mongodbWriteConcern,
        }),
      );
log.info('storage', {
  index: index.capabilities.name,
  ...(qdrantUrl !== undefined
    ? { qdrant: qdrantUrl, collection: qdrantCollection }
    : { indexDirectory: join(directory, 'index') }),
  documents: documents.capabilities.name,
  ...(mongodbUri !== undefined
    ? {
        mongodb: redactUri(mongodbUri),
        database: config.mongodbDatabase,
        writeConcern: config.mongodbWriteConcern,
      }
    : { documentsFile: join(directory, 'documents.sqlite') }),
});

const nc = await connectBus(busConnectionFromEnv(config, SERVICE));
const js = jetstream(nc);
const jsm = await jetstreamManager(nc);
await ensureStreams(jsm, { replicas: config.streamReplicas });
await ensureConsumer(jsm, {
  stream: Streams.embedded.name,
  durable: Consumers.vectorStore,
  maxDeliver: config.maxDeliver,
});
registerJetStreamMetrics(
  registry,
  jetStreamStatusReader(jsm, [{ stream: Streams.embedded.name, consumer: Consumers.vectorStore }]),
  { tenantLabel: config.metricsTenantLabel },
);

const queryEmbedding = new QueryEmbedding(
  natsEmbedPort(nc, config.embedTimeoutMs, (model, dimension) =>
    queryEmbedding.observe(model, dimension),
  ),
  {
    mode: config.queryEmbedding,
    dimension: config.dimension,
    onQuery: (source) => {
      metrics.queryEmbeddings.inc({ source });
      setActiveSpanAttributes({ 'membus.query.vector_source': source });
    },
    onSwitch: (source, model) =>
      source === 'local'
        ? log.info('query vectors computed in process: the embedder runs the local model', {
            model,
          })
        : log.info('query vectors from the embedder', { model }),
  },
);

// After a restart, the model the stored memories were embedded with until the embedder names
// its own: reads go on through an embedder outage that spans the restart.
const storedModel = await index.newestEmbeddingModel?.();
if (storedModel !== undefined) queryEmbedding.observe(storedModel, index.dimension);

const service = new MemoryService({
  index,
  documents,
  embed: queryEmbedding.port(),
  events: jetStreamEventPort(js),
  accessFlushMs: config.accessFlushMs,
  nearDuplicates: {
    default: config.nearDuplicateThreshold,
    byNamespace: config.nearDuplicateThresholds,
  },
  onBackgroundError: (error) => {
    if (storageHealth.failed(error, 'writing access counts') === undefined)
      log.warn('access tracking failed', { error });
  },
});

const services = serveRequests(nc, service, {
  maxConcurrent: config.queryConcurrency,
  metrics,
  onError: (error) => {
    storageHealth.failed(error, 'a request');
    log.error('request failed', { error });
  },
});

const ingest = await consumeStream({
  js,
  stream: Streams.embedded.name,
  consumer: Consumers.vectorStore,
  schema: EmbeddedMemorySchema,
  handler: withStorageHealth(
    createIngestHandler(nc, service, metrics, (model, dimension) =>
      queryEmbedding.observe(model, dimension),
    ),
  ),
  maxBatch: config.maxBatch,
  maxWaitMs: config.maxWaitMs,
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

/** A storage failure of a write batch is reported (it is retried from JetStream either way). */
function withStorageHealth<A extends unknown[], R>(
  handler: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      const result = await handler(...args);
      storageHealth.succeeded();
      return result;
    } catch (error) {
      storageHealth.failed(error, 'writing stored memories');
      throw error;
    }
  };
}

let consuming = true;
ingest.done.then(
  () => {
    consuming = false;
  },
  (error: unknown) => {
    consuming = false;
    log.error('ingest consumer stopped', { error });
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
  details: { nats: config.natsUrl, index: index.capabilities.name },
  drain: async () => {
    await ingest.stop();
    await Promise.all(services.map((served) => served.drain()));
    await service.close();
    await nc.drain();
    await index.close();
    await documents.close();
  },
});
