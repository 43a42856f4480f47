import { join } from 'node:path';
import { openKv } from '@membus/bus';
import { Operations } from '@membus/contracts';
import {
  classifyStorageError,
  openEmbeddedVectorIndex,
  storageErrorMessage,
  storageFailureReasons,
} from '@membus/embedded-index';
import { redactUri } from '@membus/mongodb';
import { defineService } from '@membus/service-runtime';
import { setActiveSpanAttributes } from '@membus/telemetry';
import { jetStreamEventLog, natsFeedPublisher } from './adapters/event-log.ts';
import { natsModelEmbedPort } from './adapters/model-embedding.ts';
import { openMongoDocumentStore } from './adapters/mongodb/index.ts';
import { openQdrantVectorIndex, qdrantCollectionName } from './adapters/qdrant/index.ts';
import { onnxQueryModels, QueryEmbedding } from './adapters/query-embedding.ts';
import { kvReembedStateStore, REEMBED_BUCKET } from './adapters/reembed-state-kv.ts';
import { kvReplicaPresence } from './adapters/replica-presence-kv.ts';
import { openSqliteDocumentStore } from './adapters/sqlite/sqlite-document-store.ts';
import { loadVectorStoreConfig } from './config.ts';
import { ChangeFeed } from './domain/change-feed.ts';
import { MemoryService } from './domain/memory-service.ts';
import { indexName, ModelRouter } from './domain/reembed/model-router.ts';
import { Reembedder } from './domain/reembed/reembedder.ts';
import type { ModelIndexKey } from './domain/reembed/state.ts';
import {
  createIngestHandler,
  jetStreamEventPort,
  natsEmbedPort,
  serveRequests,
} from './handlers.ts';
import { createVectorStoreMetrics } from './metrics.ts';
import type { EventPort } from './ports/memory-ports.ts';
import { graphEventLogger, loggedStorageHealth, withStorageHealth } from './storage-reports.ts';

await defineService({
  name: 'vector-store',
  config: loadVectorStoreConfig,
  consumes: [Operations.embedded],
  async start({ config, log, registry, ...runtime }) {
    const directory = join(config.dataDir, 'vector-store');
    const storageHealth = loggedStorageHealth(directory, log);
    const { qdrantUrl, mongodbUri } = config;
    const qdrantCollection =
      config.qdrantCollection ?? qdrantCollectionName(config.embeddingModel, config.dimension);
    const openEmbedded = (indexDirectory: string, dimension: number) =>
      openEmbeddedVectorIndex({
        directory: indexDirectory,
        dimension,
        hnsw: { efSearch: config.indexEfSearch },
        onGraphEvent: graphEventLogger(log),
      });
    const openQdrant = (url: string, collection: string, dimension: number) =>
      openQdrantVectorIndex({
        url,
        ...(config.qdrantApiKey !== undefined ? { apiKey: config.qdrantApiKey } : {}),
        dimension,
        collection,
        payloads: config.qdrantPayloads,
        onRetry: ({ operation, attempt, delayMs, error }) =>
          log.warn('qdrant call failed; retrying', { operation, attempt, delayMs, error }),
        onWarning: (message, details) => log.warn(message, details),
      });
    const embeddedIndex =
      qdrantUrl === undefined
        ? await runtime.open('embedded vector index', () =>
            openEmbedded(join(directory, 'index'), config.dimension),
          )
        : undefined;
    if (embeddedIndex !== undefined) {
      const { count, opened } = embeddedIndex.status();
      const seconds = (opened.ms / 1000).toFixed(1);
      log.info(
        opened.from === 'snapshot'
          ? `embedded index restored from the last clean close in ${seconds} s (${count} memories)`
          : `embedded index built from every row in ${seconds} s (${count} memories): ${opened.reason ?? ''}`,
        { from: opened.from, reason: opened.reason, seconds: opened.ms / 1000, memories: count },
      );
    }
    const index =
      embeddedIndex ??
      (await runtime.open('Qdrant vector index', () =>
        openQdrant(qdrantUrl as string, qdrantCollection, config.dimension),
      ));
    // Each other model a tenant re-embeds with has an index of its own (decision 011).
    const openModelIndex = (key: ModelIndexKey) =>
      qdrantUrl === undefined
        ? openEmbedded(
            join(directory, 'models', indexName(key).replace(/[^A-Za-z0-9._-]/g, '_')),
            key.dimension,
          )
        : openQdrant(qdrantUrl, qdrantCollectionName(key.model, key.dimension), key.dimension);
    const metrics = createVectorStoreMetrics(registry, embeddedIndex, {
      tenantLabel: config.metricsTenantLabel,
      storage: { source: storageHealth, reasons: storageFailureReasons },
    });
    const documentsFile = join(directory, 'documents.sqlite');
    const documents =
      mongodbUri === undefined
        ? await runtime.open('SQLite document store', () => {
            try {
              // Checkpoints off the event loop, once a second (as the embedded index does).
              return openSqliteDocumentStore({ path: documentsFile, checkpointIntervalMs: 1_000 });
            } catch (error) {
              if (classifyStorageError(error) !== 'corrupt') throw error;
              throw new Error(
                `the history database ${documentsFile} is damaged (${storageErrorMessage(error)}): restore it from a backup, or move it aside to start with an empty history (the memories are in ${join(directory, 'index', 'memories.sqlite')})`,
              );
            }
          })
        : await runtime.open('MongoDB document store', () =>
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
        : {
            indexDirectory: join(directory, 'index'),
            efSearch: embeddedIndex?.status().hnsw.efSearch,
          }),
      documents: documents.capabilities.name,
      ...(mongodbUri !== undefined
        ? {
            mongodb: redactUri(mongodbUri),
            database: config.mongodbDatabase,
            writeConcern: config.mongodbWriteConcern,
          }
        : { documentsFile }),
    });

    const { nc, js, jsm } = await runtime.connect();
    const observeModel = (model: string, dimension: number) =>
      queryEmbedding.observe(model, dimension);
    const queryEmbedding = new QueryEmbedding(
      natsEmbedPort(nc, config.embedTimeoutMs, observeModel),
      {
        mode: config.queryEmbedding,
        dimension: config.dimension,
        // An onnx model is loaded in the background from the embedder's files (decision 005).
        loadModel: onnxQueryModels({
          ...(config.queryModelDir !== undefined ? { directory: config.queryModelDir } : {}),
          ...(config.queryOnnxModel !== undefined ? { primaryModel: config.queryOnnxModel } : {}),
        }),
        onQuery: (source) => {
          metrics.queryEmbeddings.inc({ source });
          setActiveSpanAttributes({ 'membus.query.vector_source': source });
        },
        onSwitch: (source, model) =>
          source === 'local'
            ? log.info('query vectors computed in process with the embedder’s model', { model })
            : log.info('query vectors from the embedder', { model }),
        onLoadFailed: (model, error) =>
          log.warn('cannot load the embedder’s model here; queries ask the embedder', {
            model,
            error,
          }),
      },
    );
    // After a restart, the model the stored memories were embedded with until the embedder names
    // its own: reads go on through an embedder outage that spans the restart.
    const storedModel = await index.newestEmbeddingModel?.();
    if (storedModel !== undefined) queryEmbedding.observe(storedModel, index.dimension);

    // The change feed (decision 008): relays read the event stream and wake when this replica
    // publishes a tenant's events.
    const changeFeed = new ChangeFeed({
      log: jetStreamEventLog(jsm),
      publish: natsFeedPublisher(nc),
      leaseMs: config.watchLeaseMs,
      heartbeatMs: config.watchHeartbeatMs,
      pollMs: config.watchPollMs,
      window: config.watchWindow,
      maxPerTenant: config.watchMaxPerTenant,
      maxTotal: 10 * config.watchMaxPerTenant,
      hooks: {
        onRelays: (count) => metrics.watchFeeds.set(count),
        onSent: (type) => metrics.watchMessages.inc({ type }),
        onReadError: (error) => log.warn('change feed cannot read the event stream', { error }),
      },
    });
    const feedWaking = (port: EventPort): EventPort => ({
      async publish(tenant, events) {
        await port.publish(tenant, events);
        changeFeed.wake(tenant);
      },
    });
    const modelEmbed = natsModelEmbedPort(nc, config.embedTimeoutMs);
    const reembedKv = await runtime.open('re-embedding bucket', () =>
      openKv(js, REEMBED_BUCKET, { ttlMs: 0, replicas: config.streamReplicas }),
    );
    // Replicas say they are alive, so a re-embedding run is refused while more than one serves.
    const presence = await runtime.open('replica presence', () =>
      kvReplicaPresence(reembedKv, {
        intervalMs: 5_000,
        onError: (error) => log.warn('cannot record this replica as alive', { error }),
      }),
    );
    const router = new ModelRouter({ primary: index, embed: modelEmbed, open: openModelIndex });
    const reembedder = new Reembedder({
      router,
      store: kvReembedStateStore(reembedKv),
      peers: () => presence.others(),
      embed: modelEmbed,
      batchSize: config.reembedBatch,
      hooks: {
        onEmbedded: (count) => metrics.reembedded.inc(count),
        onChange: (tenant, change) => {
          metrics.reembedChanges.inc({ change });
          log.info('re-embedding', { tenant, change });
        },
        onError: (tenant, error) =>
          log.warn('re-embedding page failed; retrying', { tenant, error }),
      },
    });
    await runtime.open('re-embedding state', () => reembedder.resume());
    const service = new MemoryService({
      index: router,
      documents,
      embed: queryEmbedding.port(),
      events: feedWaking(jetStreamEventPort(js)),
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

    const serve = runtime.serveOperations({
      maxConcurrent: config.queryConcurrency,
      observer: metrics.observer,
      onError: (error) => {
        storageHealth.failed(error, 'a request');
        log.error('request failed', { error });
      },
    });
    serveRequests(serve, service, metrics);
    serve(Operations.reembed, async (request, { tenant }) =>
      request.action === 'start'
        ? reembedder.start(tenant, request.model as string, request.dryRun ?? false)
        : request.action === 'cancel'
          ? reembedder.cancel(tenant)
          : reembedder.status(tenant),
    );
    serve(Operations.watch, async (request, { tenant }) => ({
      v: 1 as const,
      ...(await changeFeed.handle(tenant, request)),
    }));
    await runtime.consumeOperation(Operations.embedded, {
      name: 'ingest',
      handler: withStorageHealth(
        storageHealth,
        createIngestHandler(nc, service, metrics, observeModel),
      ),
      maxBatch: config.maxBatch,
      maxWaitMs: config.maxWaitMs,
      concurrency: config.concurrency,
      observer: metrics.observer,
      deadLetters: 'notify',
    });
    return {
      details: { index: index.capabilities.name },
      flush: async () => {
        changeFeed.close();
        await presence.close();
        await reembedder.close();
        await service.close();
      },
      close: async () => {
        await router.close();
        await documents.close();
      },
    };
  },
}).run();
