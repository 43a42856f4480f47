import { busEnvSpec, env, parseEnv, serviceEnvSpec } from '@membus/bus';

export const vectorStoreEnvSpec = {
  ...busEnvSpec,
  dataDir: {
    env: 'MEMBUS_DATA_DIR',
    schema: env.string('./data'),
    description: 'where embedded storage lives',
  },
  dimension: {
    env: 'EMBEDDING_DIMENSION',
    schema: env.int(384, 8, 4096),
    description: 'vector dimension of the index (must match the embedder)',
  },
  maxBatch: {
    env: 'STORE_MAX_BATCH',
    schema: env.int(256, 1, 1024),
    description: 'embedded messages per write batch',
  },
  maxWaitMs: {
    env: 'STORE_MAX_WAIT_MS',
    schema: env.int(5, 0, 1_000),
    description: 'longest wait to fill a write batch',
  },
  maxDeliver: {
    env: 'STORE_MAX_DELIVER',
    schema: env.int(8, 1, 100),
    description: 'deliveries before dead-lettering',
  },
  queryConcurrency: {
    env: 'QUERY_CONCURRENCY',
    schema: env.int(64, 1, 1024),
    description: 'requests handled at once',
  },
  embedTimeoutMs: {
    env: 'EMBED_TIMEOUT_MS',
    schema: env.int(5_000, 100),
    description: 'timeout of a query-embedding request',
  },
  accessFlushMs: {
    env: 'ACCESS_FLUSH_MS',
    schema: env.int(1_000, 10),
    description: 'how often access counts are written',
  },
  ...serviceEnvSpec(9465),
} as const;

export type VectorStoreConfig = ReturnType<typeof loadVectorStoreConfig>;

export function loadVectorStoreConfig(environment: NodeJS.ProcessEnv) {
  return parseEnv(vectorStoreEnvSpec, environment);
}
