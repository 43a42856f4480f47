import { type ConfigOf, env } from '@membus/bus';
import {
  DefaultRetentionPolicies,
  DefaultTierCapacity,
  DefaultTierOverflow,
  RetentionPolicySchema,
  TierCapacitySchema,
  TierOverflowPolicySchema,
} from '@membus/contracts';
import { writeConcernSchema } from '@membus/mongodb';
import { configLoader, serviceEnv } from '@membus/service-runtime';
import { z } from 'zod';

/** A JSON-valued env variable checked against a schema. */
function json<S extends z.ZodType>(schema: S, fallback: z.output<S>) {
  return z
    .string()
    .optional()
    .transform((raw, context): z.output<S> => {
      if (raw === undefined) return fallback;
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        context.addIssue({ code: 'custom', message: 'not valid JSON' });
        return z.NEVER;
      }
      const parsed = schema.safeParse(value);
      if (parsed.success) return parsed.data;
      const issue = parsed.error.issues[0];
      context.addIssue({ code: 'custom', message: `${issue?.path.join('.')}: ${issue?.message}` });
      return z.NEVER;
    });
}

const HOUR = 3_600_000;

export const compactorEnvSpec = serviceEnv(9467, {
  dataDir: {
    env: 'MEMBUS_DATA_DIR',
    schema: env.string('./data'),
    description: 'where the embedded lifecycle store lives',
  },
  mongoUri: {
    env: 'MONGODB_URI',
    schema: env.optionalString(),
    description: 'MongoDB for plans, reports, archive and sessions (SQLite when unset)',
  },
  mongoDatabase: {
    env: 'MONGODB_DATABASE',
    schema: env.string('membus'),
    description: 'MongoDB database name',
  },
  mongoWriteConcern: {
    env: 'MONGODB_WRITE_CONCERN',
    // Not 0: an unacknowledged plan write could be lost, and with it crash-safe compaction.
    schema: writeConcernSchema({ allowUnacknowledged: false }),
    description: 'MongoDB write concern: majority (default) or a node count',
  },
  mongoServerSelectionTimeoutMs: {
    env: 'MONGODB_SERVER_SELECTION_TIMEOUT_MS',
    schema: env.int(10_000, 100),
    description: 'how long MongoDB operations wait for a reachable server (startup fails after it)',
  },
  originals: {
    env: 'COMPACT_ORIGINALS',
    schema: env.oneOf(['archive', 'delete', 'keep'] as const, 'archive'),
    description:
      'what happens to compacted memories: archive (out of the index, kept by the compactor), delete, keep',
  },
  retention: {
    env: 'RETENTION_POLICIES',
    schema: json(z.array(RetentionPolicySchema).max(200), [...DefaultRetentionPolicies]),
    description: 'JSON list of {namespace?,kind?,scope?,category?,tag?,days|null}',
  },
  tierCapacities: {
    env: 'TIER_CAPACITIES',
    schema: json(z.record(z.string(), TierCapacitySchema.partial()), {}),
    description: 'JSON {"default"|<namespace>: {short?,mid?,long?}} (defaults 10/300/50)',
  },
  tierOverflow: {
    env: 'TIER_OVERFLOW',
    schema: json(z.record(z.string(), TierOverflowPolicySchema.partial()), {}),
    description:
      'JSON {"default"|<namespace>: {short?,mid?,long?}}: what a full tier does with its overflow - demote (to the next tier; default of short and mid), keep (default of long), archive, delete',
  },
  duplicateThresholds: {
    env: 'DUPLICATE_THRESHOLDS',
    schema: json(z.record(z.string(), z.number().min(0).max(1)), {}),
    description:
      'JSON {"default"|<namespace>: similarity} for near-duplicate merging (default 0.95)',
  },
  importanceBelow: {
    env: 'IMPORTANCE_DROP_BELOW',
    schema: env.number(0, 0, 1),
    description: 'drop memories below this importance after IMPORTANCE_DROP_AFTER_DAYS (0 = off)',
  },
  importanceAfterDays: {
    env: 'IMPORTANCE_DROP_AFTER_DAYS',
    schema: env.number(30, 0),
    description: 'age in days before the importance rule applies',
  },
  sweepIntervalMs: {
    env: 'SWEEP_INTERVAL_MS',
    schema: env.int(HOUR, 0),
    description: 'how often every sweep runs for every known tenant (0 = only on demand)',
  },
  tenants: {
    env: 'MEMBUS_TENANTS',
    schema: env.string('default'),
    description: 'comma-separated tenants always swept (others are learnt from events)',
  },
  sessionIdleMs: {
    env: 'SESSION_IDLE_MS',
    schema: env.int(HOUR, 0),
    description: 'compact a session this long after its last store (0 = only on session end)',
  },
  idleCheckMs: {
    env: 'SESSION_IDLE_CHECK_MS',
    schema: env.int(60_000, 10),
    description: 'how often idle sessions are looked for',
  },
  tiersOnStore: {
    env: 'TIERS_ON_STORE',
    schema: env.boolean(true),
    description:
      'apply tier capacities (demotion; removal only where TIER_OVERFLOW says so) as memories are stored (else only in the tiers sweep)',
  },
  sessionAckWaitMs: {
    env: 'SESSION_ACK_WAIT_MS',
    schema: env.int(60_000, 1_000),
    description: 'redelivery of a session end whose compaction did not finish',
  },
  maxDeliver: {
    env: 'COMPACT_MAX_DELIVER',
    schema: env.int(5, 1, 100),
    description: 'deliveries before a session end or event is dead-lettered',
  },
  requestTimeoutMs: {
    env: 'COMPACT_REQUEST_TIMEOUT_MS',
    schema: env.int(10_000, 100),
    description: 'timeout of requests to the vector-store and embedder',
  },
  storeTimeoutMs: {
    env: 'COMPACT_STORE_TIMEOUT_MS',
    schema: env.int(30_000, 100),
    description: 'how long a summary may take to become queryable',
  },
  summaryMaxChars: {
    env: 'SUMMARY_MAX_CHARS',
    schema: env.int(4_000, 200, 32_000),
    description: 'longest session summary',
  },
  summaryKeepRatio: {
    env: 'SUMMARY_KEEP_RATIO',
    schema: env.number(0.35, 0.05, 1),
    description: 'share of a session text the extractive summary aims to keep',
  },
  summaryProvider: {
    env: 'SUMMARY_PROVIDER',
    schema: env.oneOf(['extractive', 'openai'] as const, 'extractive'),
    description:
      'who writes session summaries: extractive (default) or openai (any OpenAI-compatible chat model, falling back to extractive)',
  },
  summaryModel: {
    env: 'SUMMARY_MODEL',
    schema: env.string('gpt-4o-mini'),
    description: 'chat model of SUMMARY_PROVIDER=openai',
  },
  openaiBaseUrl: {
    env: 'OPENAI_BASE_URL',
    schema: z.url({ protocol: /^https?$/ }).optional(),
    description:
      'OpenAI-compatible API base URL, e.g. http://127.0.0.1:11434/v1 (OpenAI when unset)',
  },
  openaiApiKey: {
    env: 'OPENAI_API_KEY',
    schema: env.optionalString(),
    description: 'API key of the chat model (self-hosted servers often need none)',
  },
  summaryMaxOutputTokens: {
    env: 'SUMMARY_MAX_OUTPUT_TOKENS',
    schema: env.int(512, 16, 16_384),
    description: 'most tokens the chat model may write per summary',
  },
  summaryTimeoutMs: {
    env: 'SUMMARY_TIMEOUT_MS',
    schema: env.int(30_000, 100, 600_000),
    description: 'timeout of one chat summary request',
  },
  summaryMaxRetries: {
    env: 'SUMMARY_MAX_RETRIES',
    schema: env.int(2, 0, 10),
    description:
      'retries of a chat summary on 429, 5xx, timeouts and connection errors before falling back',
  },
});

export type CompactorConfig = ConfigOf<typeof compactorEnvSpec>;
export const loadCompactorConfig = configLoader(compactorEnvSpec);

/** Per-namespace lookups over the parsed config. */
export function namespaceSettings(config: CompactorConfig) {
  return {
    capacity: (namespace: string | undefined) => ({
      ...DefaultTierCapacity,
      ...config.tierCapacities.default,
      ...(namespace !== undefined ? config.tierCapacities[namespace] : {}),
    }),
    overflow: (namespace: string | undefined) => ({
      ...DefaultTierOverflow,
      ...config.tierOverflow.default,
      ...(namespace !== undefined ? config.tierOverflow[namespace] : {}),
    }),
    duplicateThreshold: (namespace: string | undefined) =>
      (namespace !== undefined ? config.duplicateThresholds[namespace] : undefined) ??
      config.duplicateThresholds.default ??
      0.95,
  };
}
