import { z } from 'zod';
import { Limits } from './limits.ts';
import {
  KindSchema,
  LabelSchema,
  MemoryRecordSchema,
  MemoryTextSchema,
  ScopeSchema,
  TierSchema,
  TimestampSchema,
} from './memory.ts';
import { CountSchema, CountsSchema, openMessage, strictMessage } from './schema-parts.ts';

// ---------------------------------------------------------------- policies

/**
 * A retention rule: memories matching every given selector expire `days` after they were
 * created; `days: null` means never (permanent). The most specific matching rule wins
 * (most selectors; ties go to the earlier rule). An explicit `expiresAt` is never changed.
 */
export const RetentionPolicySchema = z.strictObject({
  /** Only memories in this namespace. */
  namespace: LabelSchema.optional(),
  /** Only memories of this kind. */
  kind: KindSchema.optional(),
  /** Only memories of this scope. */
  scope: ScopeSchema.optional(),
  /** Only memories carrying this category. */
  category: LabelSchema.optional(),
  /** Only memories carrying this tag. */
  tag: LabelSchema.optional(),
  /** Days from `createdAt` to expiry; `null` keeps the memory forever. */
  days: z.number().positive().max(36_500).nullable(),
});
export type RetentionPolicy = z.infer<typeof RetentionPolicySchema>;

/**
 * How many memories each tier holds per owner (scope + owner id) and namespace. What happens
 * to the memories past a capacity is the tier's {@link TierOverflowPolicy}.
 */
export const TierCapacitySchema = z.strictObject({
  /** Recent memories; overflow (oldest first) moves to mid by default. */
  short: z.number().int().min(1).max(1_000_000),
  /** Historical memories; overflow (coldest first) moves to long by default. */
  mid: z.number().int().min(1).max(1_000_000),
  /** The last tier; overflow is kept and reported by default. */
  long: z.number().int().min(1).max(1_000_000),
});
export type TierCapacity = z.infer<typeof TierCapacitySchema>;

export const tierOverflowValues = ['demote', 'keep', 'archive', 'delete'] as const;
/**
 * What a full tier does with its overflow: `demote` moves it to the next tier (short -> mid ->
 * long; UPDATE with a reason in its history); `keep` leaves it in place (counted and reported);
 * `archive` removes it from the index and keeps a copy in the compactor's archive; `delete`
 * removes it (DELETE with a reason in its history). Lasting knowledge (patterns, preferences,
 * tagged `permanent`) is never archived or deleted by a capacity: it moves to long and stays.
 */
export const TierOverflowSchema = z.enum(tierOverflowValues);
export type TierOverflow = z.infer<typeof TierOverflowSchema>;
/** Overflow policy per tier; the last tier (long) cannot demote. */
export const TierOverflowPolicySchema = z.strictObject({
  short: TierOverflowSchema,
  mid: TierOverflowSchema,
  long: TierOverflowSchema.exclude(['demote']),
});
export type TierOverflowPolicy = z.infer<typeof TierOverflowPolicySchema>;

// ---------------------------------------------------------------- memory.session.end.<tenant>

/** An agent finished a session (JetStream, MEMORY_LIFECYCLE): the compactor compacts it. */
export const SessionEndSchema = strictMessage({
  /** The session that ended. */
  sessionId: LabelSchema,
  /** When it ended (defaults to when the compactor reads it). */
  endedAt: TimestampSchema.optional(),
});
export type SessionEnd = z.infer<typeof SessionEndSchema>;

// ---------------------------------------------------------------- memory.compact.<tenant>

export const sweepValues = ['expire', 'duplicates', 'tiers', 'importance', 'retention'] as const;
/** Maintenance passes over a tenant's memories. */
export const SweepSchema = z.enum(sweepValues);
export type Sweep = z.infer<typeof SweepSchema>;

/** Compact one session and/or run maintenance sweeps now. */
export const CompactRequestSchema = strictMessage({
  /** Compact this session into one summary memory. */
  sessionId: LabelSchema.optional(),
  /** Sweeps to run over the whole tenant. */
  sweeps: z.array(SweepSchema).max(sweepValues.length).optional(),
  /** Report what would change without changing anything. */
  dryRun: z.boolean().default(false),
}).refine(
  (request) => request.sessionId !== undefined || (request.sweeps?.length ?? 0) > 0,
  'give a sessionId or at least one sweep',
);
export type CompactRequestInput = z.input<typeof CompactRequestSchema>;
export type CompactRequest = z.output<typeof CompactRequestSchema>;

/** What compacting one session did (or would do, in a dry run). */
export const SessionCompactionReportSchema = z.object({
  /** The compacted session. */
  sessionId: z.string(),
  /** The summary memory (UUIDv5 of tenant + session: a rerun reuses it); absent when nothing was compacted. */
  summaryId: z.uuid().optional(),
  /** The summary text. */
  summary: z.string().optional(),
  /** Memories of the session that were compacted. */
  memoriesIn: CountSchema,
  /** Memories left for the session's content: the summary plus any kept memories. */
  memoriesOut: CountSchema,
  /** Exact or near duplicates dropped before summarising. */
  duplicatesRemoved: CountSchema,
  /** Task-type workflow patterns found among the session's outcomes and put in the summary. */
  patternsExtracted: CountSchema,
  /** UTF-8 bytes of the compacted memories' text and metadata. */
  originalBytes: CountSchema,
  /** UTF-8 bytes of the summary's text and metadata. */
  compactedBytes: CountSchema,
  /** 1 - compacted / original (0.6 = 60 % smaller); 0 when nothing was compacted. */
  compressionRatio: z.number(),
  /** What happened to the originals. */
  originals: z.enum(['deleted', 'archived', 'kept']),
  /** Wall time of the compaction (ms). */
  durationMs: z.number().min(0),
  /** True when nothing was changed. */
  dryRun: z.boolean(),
  /** True when an earlier run had already finished this compaction. */
  alreadyCompacted: z.boolean(),
  /**
   * Outcome memories of the session published to the pattern-extractor (`memory.outcome`,
   * outcome id = UUIDv5 of the memory id); absent when the compactor hands over no outcomes.
   */
  outcomesHandedOver: CountSchema.optional(),
  /** Outcome memories not handed over because their metadata has no boolean `success`. */
  outcomesSkipped: CountSchema.optional(),
});
export type SessionCompactionReport = z.infer<typeof SessionCompactionReportSchema>;

export const sweepActionValues = [
  'promoted',
  'demoted',
  'archived',
  'deleted',
  'expired',
  'merged',
  'dropped',
] as const;
/** One memory a sweep moved or removed (or would, in a dry run), and why. */
export const SweepChangeSchema = z.object({
  id: z.uuid(),
  /**
   * `promoted` / `demoted`: moved between tiers (lasting knowledge to long is a promotion);
   * `archived` / `deleted`: removed by a tier overflow policy; `expired`: past its expiry;
   * `merged`: folded into a near duplicate; `dropped`: removed by the importance rule.
   */
  action: z.enum(sweepActionValues),
  /** Tier before and after a move; tier before a removal. */
  from: TierSchema.optional(),
  to: TierSchema.optional(),
  /** The reason, as the memory's history records it. */
  reason: z.string().optional(),
});
export type SweepChange = z.infer<typeof SweepChangeSchema>;

/** Most {@link SweepChange}s one sweep report lists (the counts always cover all). */
export const SWEEP_CHANGES_LISTED = 500;

/** What the sweeps did (or would do, in a dry run). */
export const SweepReportSchema = z.object({
  /** Memories deleted because they expired (retention or explicit expiry). */
  expired: CountSchema,
  /** Memories given an expiry by a retention policy. */
  retentionApplied: CountSchema,
  /** Near-duplicate clusters merged, and memories merged away. */
  clustersMerged: CountSchema,
  memoriesMerged: CountSchema,
  /** Memories moved between tiers by capacity (short -> mid -> long, lasting knowledge -> long). */
  tierMoves: CountSchema,
  /** Memories removed by a tier overflow policy (`archive` or `delete`, only when configured). */
  evicted: CountSchema,
  /** Of `evicted`, those archived (a copy kept by the compactor). */
  archived: CountSchema.default(0),
  /**
   * Memories past a capacity left in place (overflow policy `keep`; by default the long tier's
   * overflow), in the owner groups the tiers sweep examined.
   */
  overCapacityKept: CountSchema.default(0),
  /** Memories dropped by the importance rule. */
  droppedUnimportant: CountSchema,
  /** What moved or was removed, at most {@link SWEEP_CHANGES_LISTED} (retention changes not listed). */
  changes: z.array(SweepChangeSchema).max(SWEEP_CHANGES_LISTED).default([]),
  /** Changes beyond those listed. */
  changesOmitted: CountSchema.default(0),
  /** Wall time of the sweeps (ms). */
  durationMs: z.number().min(0),
});
export type SweepReport = z.infer<typeof SweepReportSchema>;

export const CompactReplySchema = openMessage({
  /** True when nothing was changed. */
  dryRun: z.boolean(),
  /** Present when a session was compacted. */
  session: SessionCompactionReportSchema.optional(),
  /** Present when sweeps ran. */
  sweeps: SweepReportSchema.optional(),
});
export type CompactReply = z.infer<typeof CompactReplySchema>;

/** Published after a session compaction (core NATS `memory.compacted.<tenant>`). */
export const CompactedEventSchema = openMessage({
  /** The report of the compaction. */
  report: SessionCompactionReportSchema,
  at: TimestampSchema,
});
export type CompactedEvent = z.infer<typeof CompactedEventSchema>;

// ---------------------------------------------------------------- memory.audit.<tenant>

export const AuditRequestSchema = strictMessage({
  /** Only this namespace. */
  namespace: LabelSchema.optional(),
  /** A memory not returned for this many days (or never, since created) is stale. */
  staleDays: z.number().positive().max(36_500).default(90),
  /** Similarity at or above which two memories count as near duplicates. */
  duplicateThreshold: z.number().min(0).max(1).default(0.95),
  /**
   * Most memories examined for staleness and full tiers, newest first (counts always cover
   * all); near duplicates are looked for among the newest 5,000 of them, within windows of the
   * newest 1,000 per owner, namespace and kind.
   */
  maxMemories: z.number().int().min(1).max(100_000).default(5_000),
});
export type AuditRequestInput = z.input<typeof AuditRequestSchema>;
export type AuditRequest = z.output<typeof AuditRequestSchema>;

/** A pair of memories similar enough to merge. */
export const DuplicatePairSchema = z.object({
  /** The two memories. */
  ids: z.tuple([z.uuid(), z.uuid()]),
  /** Cosine similarity. */
  similarity: z.number(),
  /** The first memory's text (shortened). */
  text: z.string(),
});
export type DuplicatePair = z.infer<typeof DuplicatePairSchema>;

/** A memory nobody has recalled for a while. */
export const StaleMemorySchema = z.object({
  id: z.uuid(),
  /** Days since it was last returned (or created, if never). */
  idleDays: z.number(),
  /** Its text (shortened). */
  text: z.string(),
});
export type StaleMemory = z.infer<typeof StaleMemorySchema>;

export const AuditReplySchema = openMessage({
  /** Live memories (in the namespace, if given). */
  total: CountSchema,
  byCategory: CountsSchema,
  byNamespace: CountsSchema,
  byTier: CountsSchema,
  byKind: CountsSchema,
  /** Near-duplicate pairs at or above the threshold, most similar first (bounded in bytes). */
  duplicates: z.array(DuplicatePairSchema),
  /** Memories not returned for `staleDays`, idlest first (bounded in bytes). */
  stale: z.array(StaleMemorySchema),
  /** Near-duplicate pairs found (`duplicates` lists the most similar of them). */
  duplicatesFound: CountSchema.optional(),
  /** Stale memories found among those examined (`stale` lists the idlest of them). */
  staleFound: CountSchema.optional(),
  /** Memories past a tier capacity, by tier. */
  overCapacity: CountsSchema,
  /** Plain-language advice. */
  recommendations: z.array(z.string()),
  /** Memories examined for duplicates and staleness (less than total when capped). */
  examined: CountSchema,
});
export type AuditReply = z.infer<typeof AuditReplySchema>;

// ---------------------------------------------------------------- memory.expire / memory.merge (vector-store)

/** Delete expired memories from the index, recording EXPIRE in their history. */
export const ExpireRequestSchema = strictMessage({
  /** Report the expired memories without deleting them. */
  dryRun: z.boolean().default(false),
});
export type ExpireRequestInput = z.input<typeof ExpireRequestSchema>;
export type ExpireRequest = z.output<typeof ExpireRequestSchema>;
export const ExpireReplySchema = openMessage({
  /** How many expired memories were (or would be) deleted. */
  expired: CountSchema,
  /** Their ids. */
  ids: z.array(z.uuid()),
});
export type ExpireReply = z.infer<typeof ExpireReplySchema>;

/**
 * Fold `sourceIds` into `targetId`: occurrences and access counts summed, tags and categories
 * united, importance the highest; MERGE in the target's history, sources deleted. Idempotent:
 * sources already gone are skipped.
 */
export const MergeRequestSchema = strictMessage({
  /** The memory that stays. */
  targetId: z.uuid(),
  /** The memories folded into it. */
  sourceIds: z.array(z.uuid()).min(1).max(Limits.ids),
  /** New text for the target (re-embedded). */
  text: MemoryTextSchema.optional(),
}).refine((merge) => !merge.sourceIds.includes(merge.targetId), {
  message: 'the target cannot be one of the sources',
  path: ['sourceIds'],
});
export type MergeRequestInput = z.input<typeof MergeRequestSchema>;
export type MergeRequest = z.output<typeof MergeRequestSchema>;
export const MergeReplySchema = openMessage({
  /** The target after the merge. */
  memory: MemoryRecordSchema,
  /** Sources that were folded in (absent ones are skipped). */
  merged: z.array(z.uuid()),
});
export type MergeReply = z.infer<typeof MergeReplySchema>;

/** Defaults from USE-CASES §1 (tier capacities) and §3 (retention). */
export const DefaultTierCapacity: TierCapacity = { short: 10, mid: 300, long: 50 };
/** Nothing is removed by a capacity unless the operator says so. */
export const DefaultTierOverflow: TierOverflowPolicy = {
  short: 'demote',
  mid: 'demote',
  long: 'keep',
};
export const DefaultRetentionPolicies: readonly RetentionPolicy[] = [
  { category: 'incidents', days: 90 },
  { category: 'temporary', days: 7 },
  { tag: 'temporary', days: 7 },
  { tag: 'permanent', days: null },
];
