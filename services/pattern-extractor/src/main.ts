import { join } from 'node:path';
import { Operations } from '@membus/contracts';
import { defineService } from '@membus/service-runtime';
import { openMongoOutcomeStore } from './adapters/mongodb/mongodb-outcome-store.ts';
import { openSqliteOutcomeStore } from './adapters/sqlite/sqlite-outcome-store.ts';
import { loadPatternExtractorConfig } from './config.ts';
import { PatternService } from './domain/pattern-service.ts';
import { TaskTypeClassifier } from './domain/task-types.ts';
import { createOutcomeHandler, natsEmbedTexts, natsMemoryPort, serveRequests } from './handlers.ts';
import { createPatternExtractorMetrics } from './metrics.ts';

await defineService({
  name: 'pattern-extractor',
  config: loadPatternExtractorConfig,
  consumes: [Operations.outcome],
  async start({ config, log, registry, ...runtime }) {
    const store = config.mongodbUri
      ? await openMongoOutcomeStore({
          uri: config.mongodbUri,
          database: config.mongodbDatabase,
          writeConcern: config.mongodbWriteConcern,
        })
      : openSqliteOutcomeStore({ path: join(config.dataDir, runtime.name, 'outcomes.sqlite') });
    log.info('storage', { outcomes: store.capabilities.name });

    const { nc, js } = await runtime.connect();
    const metrics = createPatternExtractorMetrics(registry, config.taskTypes, {
      taskTypeTotals: () => store.taskTypeTotals(),
      // Read per scrape, after the service below exists.
      pendingPatternKeys: () => service.pendingPatternKeys,
    });
    const service = new PatternService({
      store,
      memories: natsMemoryPort(nc, js, config.requestTimeoutMs),
      classifier: new TaskTypeClassifier({
        taskTypes: config.taskTypes,
        method: config.inference,
        embed: natsEmbedTexts(nc, config.requestTimeoutMs),
      }),
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

    serveRequests(
      runtime.serveOperations({
        maxConcurrent: config.requestConcurrency,
        observer: metrics.observer,
        onError: (error) => log.error('request failed', { error }),
      }),
      service,
    );
    await runtime.consumeOperation(Operations.outcome, {
      name: 'outcome',
      handler: createOutcomeHandler(service),
      maxBatch: config.maxBatch,
      maxWaitMs: config.maxWaitMs,
      observer: metrics.observer,
      deadLetters: 'log',
    });
    return {
      details: { store: store.capabilities.name, inference: config.inference },
      flush: () => service.close(),
      close: () => store.close(),
    };
  },
}).run();
