import { busEnvSpec, env, parseEnv, serviceEnvSpec } from '@membus/bus';
import { z } from 'zod';

export const embedderEnvSpec = {
  ...busEnvSpec,
  provider: {
    env: 'EMBEDDING_PROVIDER',
    schema: env.oneOf(['local'] as const, 'local'),
    description: 'embedding provider: local (offline, deterministic)',
  },
  dimension: {
    env: 'EMBEDDING_DIMENSION',
    schema: env.int(384, 8, 4096),
    description: 'vector dimension of the local provider',
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
    schema: env.int(5, 0, 1_000),
    description: 'longest wait to fill a micro-batch',
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
  ...serviceEnvSpec(9464),
} as const;

export type EmbedderConfig = ReturnType<typeof loadEmbedderConfig>;

export function loadEmbedderConfig(environment: NodeJS.ProcessEnv) {
  return parseEnv(embedderEnvSpec, environment);
}
