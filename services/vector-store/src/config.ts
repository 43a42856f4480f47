import { type ConfigOf, env } from '@membus/bus';
import { mongodbEnvSpec } from '@membus/mongodb';
import { configLoader, serviceEnv } from '@membus/service-runtime';
import { z } from 'zod';

export const vectorStoreEnvSpec = serviceEnv(9465, {
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
    // 0: a batch is what was delivered while the last one was written (it grows with the
    // load), never a wait for more: 5 added up to 5 ms to every store → queryable.
    schema: env.int(0, 0, 1_000),
    description:
      'longest wait for more messages to fill a write batch (0 = only those already delivered)',
  },
  concurrency: {
    env: 'STORE_CONCURRENCY',
    // Above 1 the next batch writes while this one's events are acked (the writes take turns),
    // but it starts with what was delivered so far: smaller batches. At 20k on the shared
    // 2-core host 1 did as well or better (bench, 2026-12-06), so 1 stays the default.
    schema: env.int(1, 1, 16),
    description: 'write batches in flight at once (their writes take turns)',
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
  queryEmbedding: {
    env: 'QUERY_EMBEDDING',
    schema: env.oneOf(['auto', 'embedder'] as const, 'auto'),
    description:
      'auto: compute query vectors in process while the embedder runs the local model, or an onnx model whose files are here; embedder: always ask it',
  },
  queryModelDir: {
    env: 'EMBEDDING_MODEL_DIR',
    schema: env.optionalString(),
    description:
      'as the embedder’s: the directory of its onnx model (EMBEDDING_ONNX_MODEL), read (never filled) for query vectors; ~/.cache/membus/models/<model> unless set',
  },
  queryOnnxModel: {
    env: 'EMBEDDING_ONNX_MODEL',
    schema: env.optionalString(),
    description: 'as the embedder’s: the onnx model EMBEDDING_MODEL_DIR holds',
  },
  nearDuplicateThreshold: {
    env: 'NEAR_DUPLICATE_THRESHOLD',
    // Off by default: the check is one filtered dense search per new memory, which cut ingest
    // from ~3,100/s to ~700/s at 100k in the bench. Turn it on where it pays (e.g. incidents).
    schema: env.number(0, 0, 1),
    description:
      'cosine similarity at which a new memory merges into an existing one (0 = off; 0.95 is a good value)',
  },
  nearDuplicateThresholds: {
    env: 'NEAR_DUPLICATE_THRESHOLDS',
    schema: z
      .string()
      .optional()
      .transform((value, context) => {
        if (value === undefined) return {};
        try {
          return z.record(z.string(), z.number().min(0).max(1)).parse(JSON.parse(value));
        } catch {
          context.addIssue({ code: 'custom', message: 'expected JSON like {"incidents":0.9}' });
          return z.NEVER;
        }
      }),
    description: 'per-namespace thresholds as JSON, e.g. {"incidents":0.9}',
  },
  indexEfSearch: {
    env: 'INDEX_EF_SEARCH',
    // 64 keeps recall@10 ≥ 0.97 to 1M memories of the bench's corpus; on a clustered corpus at
    // 10M it gave 0.60 and 256 gave 0.86, dense p99 9.2 ms (decision 002, "The 10M run, whole").
    schema: env.int(64, 1, 4_096),
    description:
      'HNSW efSearch of the embedded index: how wide each graph search looks (higher: better recall at millions of memories, slower); applies at restart, nothing rebuilt',
  },
  accessFlushMs: {
    env: 'ACCESS_FLUSH_MS',
    schema: env.int(1_000, 10),
    description: 'how often access counts are written',
  },
  watchLeaseMs: {
    env: 'WATCH_LEASE_MS',
    schema: env.int(30_000, 100),
    description: 'a change feed (memory.watch) with no renew for this long stops',
  },
  watchHeartbeatMs: {
    env: 'WATCH_HEARTBEAT_MS',
    schema: env.int(5_000, 50),
    description: 'a change feed sends a heartbeat after this long without a message',
  },
  watchPollMs: {
    env: 'WATCH_POLL_MS',
    schema: env.int(1_000, 10),
    description: "how often an idle change feed looks for other replicas' events",
  },
  watchWindow: {
    env: 'WATCH_WINDOW',
    schema: env.int(1_024, 1, 100_000),
    description: 'events a change feed sends beyond what its client said it consumed',
  },
  watchMaxPerTenant: {
    env: 'WATCH_MAX_PER_TENANT',
    schema: env.int(16, 1, 10_000),
    description: 'change feeds one tenant may run at once (on each replica)',
  },
  reembedBatch: {
    env: 'REEMBED_BATCH',
    schema: env.int(64, 1, 1_024),
    description:
      "memories per page of a re-embedding run (decision 011): read, embedded and written while the tenant's writes wait",
  },
  qdrantUrl: {
    env: 'QDRANT_URL',
    schema: env.optionalString(),
    description: 'Qdrant URL; set = vectors in Qdrant instead of the embedded index',
  },
  qdrantApiKey: {
    env: 'QDRANT_API_KEY',
    schema: env.optionalString(),
    description: 'Qdrant API key',
  },
  qdrantCollection: {
    env: 'QDRANT_COLLECTION',
    schema: env.optionalString(),
    description: 'Qdrant collection; default membus_<EMBEDDING_MODEL>_<EMBEDDING_DIMENSION>',
  },
  qdrantPayloads: {
    env: 'QDRANT_PAYLOADS',
    schema: env.oneOf(['inline', 'fetched'] as const, 'inline'),
    description:
      "inline: search replies carry every candidate's record; fetched: memory ids only, one retrieve reads the hits kept",
  },
  embeddingModel: {
    env: 'EMBEDDING_MODEL',
    schema: env.string('default'),
    description: 'embedding model id, names the Qdrant collection (one per model and dimension)',
  },
  ...mongodbEnvSpec({
    uri: 'MongoDB URI; set = history in MongoDB instead of SQLite',
    allowUnacknowledged: true,
  }),
});

export type VectorStoreConfig = ConfigOf<typeof vectorStoreEnvSpec>;
export const loadVectorStoreConfig = configLoader(vectorStoreEnvSpec);
