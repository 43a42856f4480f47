import { type ConfigOf, env } from '@membus/bus';
import { defaultTaskTypes } from '@membus/contracts';
import { mongodbEnvSpec } from '@membus/mongodb';
import { configLoader, serviceEnv } from '@membus/service-runtime';
import { z } from 'zod';

const taskTypeList = z
  .string()
  .default(defaultTaskTypes.join(','))
  .transform((value) => [
    ...new Set(
      value
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean),
    ),
  ])
  .pipe(
    z
      .array(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'task types are lower-case labels'))
      .min(1, 'at least one task type'),
  );

export const patternExtractorEnvSpec = serviceEnv(9466, {
  dataDir: {
    env: 'MEMBUS_DATA_DIR',
    schema: env.string('./data'),
    description: 'where embedded storage lives (pattern-extractor/outcomes.sqlite)',
  },
  ...mongodbEnvSpec({
    uri: 'MongoDB connection string; the embedded SQLite store when unset',
    // Not 0: an unacknowledged write could be lost after the outcome was acked.
    allowUnacknowledged: false,
  }),
  taskTypes: {
    env: 'TASK_TYPES',
    schema: taskTypeList,
    description: 'comma-separated task types inference chooses from (the nine of USE-CASES §2)',
  },
  inference: {
    env: 'TASK_INFERENCE',
    schema: env.oneOf(['hybrid', 'rules', 'centroid'] as const, 'hybrid'),
    description: 'task-type inference: keyword rules, nearest centroid of embeddings, or both',
  },
  minSupport: {
    env: 'PATTERN_MIN_SUPPORT',
    schema: env.int(3, 1),
    description: 'executions a variant needs before it becomes a pattern memory',
  },
  minConfidence: {
    env: 'PATTERN_MIN_CONFIDENCE',
    schema: env.number(0.3, 0, 1),
    description:
      'Wilson lower bound of the success rate a variant needs to become a pattern memory',
  },
  failureMinCount: {
    env: 'FAILURE_MIN_COUNT',
    schema: env.int(2, 1),
    description: 'occurrences a failure signature needs before it becomes a pattern memory',
  },
  recentWindowDays: {
    env: 'PATTERN_RECENT_DAYS',
    schema: env.number(30, 0.001, 3_650),
    description: 'length of the recent statistics window',
  },
  maxBatch: {
    env: 'OUTCOME_MAX_BATCH',
    schema: env.int(64, 1, 1024),
    description: 'outcomes per micro-batch',
  },
  maxWaitMs: {
    env: 'OUTCOME_MAX_WAIT_MS',
    schema: env.int(5, 0, 1_000),
    description: 'longest wait to fill a micro-batch',
  },
  maxDeliver: {
    env: 'OUTCOME_MAX_DELIVER',
    schema: env.int(8, 1, 100),
    description: 'deliveries before dead-lettering',
  },
  requestConcurrency: {
    env: 'PATTERN_REQUEST_CONCURRENCY',
    schema: env.int(32, 1, 1024),
    description: 'patterns/metrics requests handled at once',
  },
  requestTimeoutMs: {
    env: 'PATTERN_BUS_TIMEOUT_MS',
    schema: env.int(5_000, 100),
    description: 'timeout of embed and update requests the extractor sends',
  },
  syncIntervalMs: {
    env: 'PATTERN_SYNC_MS',
    schema: env.int(1_000, 10),
    description: 'how often pattern memories whose write must be retried are retried',
  },
});

export type PatternExtractorConfig = ConfigOf<typeof patternExtractorEnvSpec>;
export const loadPatternExtractorConfig = configLoader(patternExtractorEnvSpec);
