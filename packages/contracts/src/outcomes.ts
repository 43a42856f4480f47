import { z } from 'zod';
import { FORBIDDEN_KEYS, LabelSchema, MetadataSchema, TimestampSchema } from './memory.ts';
import { CountSchema, openMessage, strictMessage } from './schema-parts.ts';

/** The task types of USE-CASES §2; the pattern-extractor's default (configurable) set. */
export const defaultTaskTypes = [
  'code_generation',
  'data_analysis',
  'testing',
  'deployment',
  'debugging',
  'system_design',
  'documentation',
  'optimization',
  'general',
] as const;

/** Limits of outcome messages, checked at the edge. */
export const OutcomeLimits = {
  /** Steps per outcome. */
  steps: 64,
  /** Characters per step. */
  stepLength: 200,
  /** Keys in an outcome's config. */
  configKeys: 32,
  /** Characters of a config string value. */
  configValueLength: 200,
  /** Characters of the error text and of the request text. */
  errorLength: 4_000,
  requestLength: 4_000,
  /** Patterns or failure signatures per reply. */
  patterns: 100,
} as const;

/** A task type: a label such as `deployment` (the configured set, or any label the caller uses). */
export const TaskTypeSchema = LabelSchema;
export type TaskType = z.infer<typeof TaskTypeSchema>;

/** A config value: a scalar, so config signatures stay comparable. */
export const ConfigValueSchema = z.union([
  z.string().max(OutcomeLimits.configValueLength),
  z.number().refine(Number.isFinite, 'config numbers must be finite'),
  z.boolean(),
]);
export type ConfigValue = z.infer<typeof ConfigValueSchema>;

/** A flat record of scalars, e.g. `{ platform: 'vercel', environment: 'production' }`. */
export const OutcomeConfigSchema = z
  // Checked on the raw object: z.record would apply a `__proto__` key instead of rejecting it.
  .custom<Record<string, unknown>>(
    (value) =>
      typeof value === 'object' &&
      value !== null &&
      !Array.isArray(value) &&
      Object.keys(value).every((key) => !FORBIDDEN_KEYS.has(key)),
    'config must be a flat JSON object without reserved keys',
  )
  .meta({
    type: 'object',
    additionalProperties: { type: ['string', 'number', 'boolean'] },
    description: `A flat record of scalars (at most ${OutcomeLimits.configKeys} keys).`,
  })
  .pipe(z.record(LabelSchema, ConfigValueSchema))
  .refine(
    (config) => Object.keys(config).length <= OutcomeLimits.configKeys,
    `at most ${OutcomeLimits.configKeys} config keys`,
  );
export type OutcomeConfig = z.infer<typeof OutcomeConfigSchema>;

/** How the best variant is chosen. */
export const objectiveValues = ['success_rate', 'duration', 'cost'] as const;
export const ObjectiveSchema = z.enum(objectiveValues);
export type Objective = z.infer<typeof ObjectiveSchema>;

/** What a workflow variant groups outcomes by. */
export const variantKindValues = ['steps', 'config'] as const;
export const VariantKindSchema = z.enum(variantKindValues);
export type VariantKind = z.infer<typeof VariantKindSchema>;

// ---------------------------------------------------------------- memory.outcome.<tenant>

/** The result of one task execution. Published to JetStream; `id` makes replays idempotent. */
export const OutcomeSchema = strictMessage({
  /** Client-generated UUID: the same outcome published twice is counted once. */
  id: z.uuid(),
  /** e.g. `deployment`; inferred from `request`, steps and config when absent. */
  taskType: TaskTypeSchema.optional(),
  /** The request the task served, in words (used to infer the task type and in the memory text). */
  request: z.string().min(1).max(OutcomeLimits.requestLength).optional(),
  /** The agent's domain, e.g. `deployment`; stats are kept per namespace. */
  namespace: LabelSchema.optional(),
  /** Agent that ran the task. */
  agentId: LabelSchema.optional(),
  /** User the task was run for. */
  userId: LabelSchema.optional(),
  /** Orchestrated session the task belonged to. */
  sessionId: LabelSchema.optional(),
  /** Whether the task succeeded. */
  success: z.boolean(),
  /** Wall time of the task in milliseconds. */
  durationMs: z.number().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  /** Cost of the task in the caller's unit (e.g. USD). */
  cost: z.number().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  /** The workflow steps run, in order (their normalised sequence is the workflow variant). */
  steps: z
    .array(z.string().trim().min(1).max(OutcomeLimits.stepLength))
    .max(OutcomeLimits.steps)
    .default([]),
  /** The configuration used (its normalised key=value set is the config variant). */
  config: OutcomeConfigSchema.default({}),
  /** Error text of a failure (grouped into failure signatures). */
  error: z.string().min(1).max(OutcomeLimits.errorLength).optional(),
  /** Free JSON kept with the outcome memory (e.g. the deployed URL). */
  metadata: MetadataSchema.default({}),
  /** When the task finished (ISO-8601). */
  occurredAt: TimestampSchema,
});
export type OutcomeInput = z.input<typeof OutcomeSchema>;
export type Outcome = z.output<typeof OutcomeSchema>;

// ---------------------------------------------------------------- stats

/** Outcome statistics of a set of executions. */
export const OutcomeStatsSchema = z.object({
  /** Executions counted (each outcome id once). */
  executions: CountSchema,
  /** Executions that succeeded. */
  successes: CountSchema,
  /** Executions that failed. */
  failures: CountSchema,
  /** successes / executions (0 with no executions). */
  successRate: z.number().min(0).max(1),
  /** Mean duration of the executions that report one (ms). */
  durationAvgMs: z.number().optional(),
  /** Median duration, nearest-rank (ms). */
  durationP50Ms: z.number().optional(),
  /** 95th percentile duration, nearest-rank (ms). */
  durationP95Ms: z.number().optional(),
  /** Mean cost of the executions that report one. */
  costAvg: z.number().optional(),
  /** Sum of all reported costs. */
  costTotal: z.number(),
  /** Earliest occurredAt. */
  firstSeen: TimestampSchema.optional(),
  /** Latest occurredAt. */
  lastSeen: TimestampSchema.optional(),
});
export type OutcomeStats = z.infer<typeof OutcomeStatsSchema>;

// ---------------------------------------------------------------- memory.patterns.<tenant>

/** Ask for ranked workflow patterns (and failure signatures) of a task type. */
export const PatternsRequestSchema = strictMessage({
  /** Task type; inferred from `request` when absent; all task types when both are absent. */
  taskType: TaskTypeSchema.optional(),
  /** Request text to infer the task type from. */
  request: z.string().min(1).max(OutcomeLimits.requestLength).optional(),
  /** Only this namespace (default: all namespaces together). */
  namespace: LabelSchema.optional(),
  /** Only variants whose success rate is at least this. */
  minSuccessRate: z.number().min(0).max(1).default(0),
  /** Only variants seen at least this many times. */
  minSupport: z.number().int().min(1).max(1_000_000).default(1),
  /**
   * Ranking: `success_rate` by the Wilson lower bound (so 1/1 does not beat 95/100);
   * `duration` by the mean duration of successful runs; `cost` by cost per success.
   */
  objective: ObjectiveSchema.default('success_rate'),
  /** Which variants: normalised step sequences, config signatures, or both (default). */
  variantKinds: z.array(VariantKindSchema).min(1).default(['steps', 'config']),
  /** Most patterns (and most failure signatures) returned. */
  limit: z.number().int().min(1).max(OutcomeLimits.patterns).default(10),
  /** Include failure signatures (anti-patterns). */
  includeFailures: z.boolean().default(true),
});
export type PatternsRequestInput = z.input<typeof PatternsRequestSchema>;
export type PatternsRequest = z.output<typeof PatternsRequestSchema>;

/** A workflow variant and how it did. */
export const WorkflowPatternSchema = z.object({
  /** Stable id (UUIDv5 of tenant, namespace, task type and variant): also its memory id. */
  id: z.uuid(),
  /** Task type the variant ran for. */
  taskType: TaskTypeSchema,
  /** Namespace, when the request was limited to one. */
  namespace: LabelSchema.optional(),
  /** `steps`: a normalised step sequence; `config`: a config signature. */
  kind: VariantKindSchema,
  /** The normalised signature, e.g. `install → build → deploy` or `environment=production, platform=vercel`. */
  signature: z.string(),
  /** The normalised steps (kind `steps`), or the most common steps of the config variant. */
  steps: z.array(z.string()),
  /** The config (kind `config`), or the most common config of the steps variant. */
  config: OutcomeConfigSchema,
  /** Executions of this variant. */
  support: z.number().int().min(1),
  /** Successful executions. */
  successes: CountSchema,
  /** successes / support. */
  successRate: z.number().min(0).max(1),
  /** Wilson score lower bound (95 %) of the success rate: the confidence-aware rank. */
  wilsonLowerBound: z.number().min(0).max(1),
  /** Statistics of all its executions. */
  stats: OutcomeStatsSchema,
  /** Mean duration of its successful executions (ms): the `duration` objective. */
  successDurationAvgMs: z.number().optional(),
  /** Total cost / successes: the `cost` objective (absent without successes or costs). */
  costPerSuccess: z.number().optional(),
});
export type WorkflowPattern = z.infer<typeof WorkflowPatternSchema>;

/** The successful variant that never hit a failure signature. */
export const AvoidingVariantSchema = z.object({
  /** Variant id (as in WorkflowPattern). */
  id: z.uuid(),
  /** Variant kind. */
  kind: VariantKindSchema,
  /** Variant signature. */
  signature: z.string(),
  /** Its executions. */
  support: z.number().int().min(1),
  /** Its success rate. */
  successRate: z.number().min(0).max(1),
});
export type AvoidingVariant = z.infer<typeof AvoidingVariantSchema>;

/** Failed outcomes grouped by normalised error signature (an anti-pattern). */
export const FailurePatternSchema = z.object({
  /** Stable id (UUIDv5 of tenant, namespace, task type and signature): also its memory id. */
  id: z.uuid(),
  /** Task type of the failures. */
  taskType: TaskTypeSchema,
  /** Namespace, when the request was limited to one. */
  namespace: LabelSchema.optional(),
  /** The error with ids, numbers, paths, hashes and quoted values replaced by placeholders. */
  signature: z.string(),
  /** Failures with this signature (or a near-identical one). */
  count: z.number().int().min(1),
  /** First and last time it was seen. */
  firstSeen: TimestampSchema,
  lastSeen: TimestampSchema,
  /** One raw error text of the group (the latest). */
  example: z.string(),
  /** The outcome the example came from. */
  exampleOutcomeId: z.uuid(),
  /** Step-sequence signatures of the failing runs, most common first. */
  failingWorkflows: z.array(z.string()),
  /** The best successful variant that never hit this signature, if any. */
  avoidedBy: AvoidingVariantSchema.optional(),
});
export type FailurePattern = z.infer<typeof FailurePatternSchema>;

export const PatternsReplySchema = openMessage({
  /** The task type the answer is for (given or inferred); absent for all task types. */
  taskType: TaskTypeSchema.optional(),
  /** Whether `taskType` was inferred from the request text. */
  inferred: z.boolean(),
  /** Ranked by the objective, best first. */
  patterns: z.array(WorkflowPatternSchema),
  /** Most frequent first. */
  failures: z.array(FailurePatternSchema),
});
export type PatternsReply = z.infer<typeof PatternsReplySchema>;

// ---------------------------------------------------------------- memory.metrics.<tenant>

/** Ask for learning metrics: per task type, or overall. */
export const MetricsRequestSchema = strictMessage({
  /** Only this task type (default: every task type seen). */
  taskType: TaskTypeSchema.optional(),
  /** Only this namespace (default: all namespaces together). */
  namespace: LabelSchema.optional(),
});
export type MetricsRequestInput = z.input<typeof MetricsRequestSchema>;
export type MetricsRequest = z.output<typeof MetricsRequestSchema>;

/** One task type's statistics, all-time and in the recent window. */
export const TaskMetricsSchema = z.object({
  /** The task type. */
  taskType: TaskTypeSchema,
  /** Every execution kept. */
  allTime: OutcomeStatsSchema,
  /** Executions in the recent window (see `recentWindowDays`). */
  recent: OutcomeStatsSchema,
  /** Distinct step sequences seen. */
  workflows: CountSchema,
});
export type TaskMetrics = z.infer<typeof TaskMetricsSchema>;

export const MetricsReplySchema = openMessage({
  /** Per task type, most executions first. */
  taskTypes: z.array(TaskMetricsSchema),
  /** Across the task types in `taskTypes`. */
  overall: z.object({
    /** Every execution kept. */
    allTime: OutcomeStatsSchema,
    /** Executions in the recent window. */
    recent: OutcomeStatsSchema,
    /** Task types with at least one execution. */
    taskTypeCount: CountSchema,
  }),
  /** Length of the recent window in days. */
  recentWindowDays: z.number().positive(),
});
export type MetricsReply = z.infer<typeof MetricsReplySchema>;
