import { join } from 'node:path';
import { operationConsumer } from '@membus/bus';
import { Operations } from '@membus/contracts';
import { defineService } from '@membus/service-runtime';
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

await defineService({
  name: 'compactor',
  config: loadCompactorConfig,
  consumers: (config) => [
    {
      ...operationConsumer(Operations.sessionEnd),
      ackWaitMs: config.sessionAckWaitMs,
      maxAckPending: 16,
    },
    operationConsumer(Operations.stored),
  ],
  async start({ config, log, registry, ...runtime }) {
    const metrics = createCompactorMetrics(registry);
    const settings = namespaceSettings(config);
    const mongoUri = config.mongoUri;
    const store =
      mongoUri === undefined
        ? openSqliteLifecycleStore({ path: join(config.dataDir, 'compactor', 'lifecycle.sqlite') })
        : await runtime.open('MongoDB lifecycle store', () =>
            openMongoLifecycleStore({
              uri: mongoUri,
              database: config.mongoDatabase,
              writeConcern: config.mongoWriteConcern,
              serverSelectionTimeoutMs: config.mongoServerSelectionTimeoutMs,
            }),
          );

    const { nc, js } = await runtime.connect();
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

    serveRequests(
      runtime.serveOperations({
        maxConcurrent: 4,
        observer: metrics.observer,
        onError: (error) => parts.onError('request failed', error),
      }),
      parts,
    );
    await runtime.consumeOperation(Operations.sessionEnd, {
      name: 'session-end',
      handler: createSessionEndHandler(parts),
      maxBatch: 1,
      maxWaitMs: 0,
      workingIntervalMs: Math.max(500, Math.floor(config.sessionAckWaitMs / 3)),
      observer: metrics.observer,
      deadLetters: 'log',
    });
    await runtime.consumeOperation(Operations.stored, {
      name: 'stored-event',
      handler: createStoredEventHandler(parts, { tiersOnStore: config.tiersOnStore }),
      maxBatch: 128,
      maxWaitMs: 20,
      observer: metrics.observer,
      deadLetters: 'log',
    });

    // A crash may have left a compaction half done: finish it before anything else.
    for (const report of await parts.compactor.resumePending().catch((error: unknown) => {
      log.error('resuming pending compactions failed', { error });
      return [];
    }))
      log.info('resumed compaction', {
        sessionId: report.sessionId,
        memoriesIn: report.memoriesIn,
      });

    const stopSchedules = startSchedules(parts, {
      sweepIntervalMs: config.sweepIntervalMs,
      sessionIdleMs: config.sessionIdleMs,
      idleCheckMs: config.idleCheckMs,
      tenants: config.tenants
        .split(',')
        .map((tenant) => tenant.trim())
        .filter(Boolean),
    });
    return {
      details: { store: store.capabilities.name },
      stopIntake: stopSchedules,
      close: () => store.close(),
    };
  },
}).run();
