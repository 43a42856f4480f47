import { z } from 'zod';
import { ErrorBodySchema } from './errors.ts';
import { MemoryFilterSchema } from './filter.ts';
import { Limits } from './limits.ts';
import {
  KindSchema,
  LabelListSchema,
  LabelSchema,
  MemoryRecordSchema,
  MemoryTextSchema,
  MetadataSchema,
  ScopeSchema,
  scopeOwnerField,
  TierSchema,
  TimestampSchema,
  VectorSchema,
} from './memory.ts';

const v1 = z.literal(1);

/** Base64 of little-endian float32s: the internal vector encoding (4 bytes a dimension). */
export const PackedVectorSchema = z
  .string()
  .max(Limits.vectorDimension * 8)
  // A whole number of base64 quads; content is checked when unpacked (length, finiteness),
  // which is far cheaper than a regex over every character on the ingest path.
  .refine((value) => value.length % 4 === 0, 'not base64 float32 data');

// ---------------------------------------------------------------- memory.store.<tenant>

/** What an agent stores. Published to JetStream; `id` makes retries idempotent. */
export const StoreMemorySchema = z
  .strictObject({
    v: v1,
    /** Client-generated UUID (v7): the same id stored twice is one memory. */
    id: z.uuid(),
    /** Defaults to the most specific scope whose owner id is given. */
    scope: ScopeSchema.optional(),
    userId: LabelSchema.optional(),
    agentId: LabelSchema.optional(),
    sessionId: LabelSchema.optional(),
    namespace: LabelSchema.optional(),
    /** Defaults to `fact`. */
    kind: KindSchema.default('fact'),
    text: MemoryTextSchema,
    metadata: MetadataSchema.default({}),
    categories: LabelListSchema.default([]),
    tags: LabelListSchema.default([]),
    /** 0..1, default 0.5. */
    importance: z.number().min(0).max(1).default(0.5),
    /** Defaults by kind: preferences and patterns long, summaries mid, the rest short. */
    tier: TierSchema.optional(),
    /** Absolute expiry. */
    expiresAt: TimestampSchema.optional(),
    /** Relative expiry in seconds from the time the memory is written. */
    ttlSeconds: z
      .number()
      .int()
      .positive()
      .max(100 * 365 * 86_400)
      .optional(),
    /** A vector the caller computed; passed through instead of embedding the text. */
    vector: VectorSchema.optional(),
    /**
     * When the remembered thing happened, if not now: any past time (an import), or at most
     * `Limits.createdAtFutureMs` (5 minutes) ahead of the validating service's clock.
     */
    createdAt: TimestampSchema.optional(),
    /**
     * `false` stores the memory as a memory of its own even when an exact or near duplicate
     * exists (default: merge an exact duplicate, and a near one where the namespace enables it).
     */
    mergeSimilar: z.boolean().optional(),
  })
  .superRefine((store, context) => {
    const scope = store.scope;
    if (scope !== undefined) {
      const owner = scopeOwnerField[scope];
      if (owner !== undefined && store[owner] === undefined) {
        context.addIssue({
          code: 'custom',
          path: [owner],
          message: `scope "${scope}" needs ${owner}`,
        });
      }
    }
    if (store.expiresAt !== undefined && store.ttlSeconds !== undefined) {
      context.addIssue({
        code: 'custom',
        path: ['ttlSeconds'],
        message: 'give expiresAt or ttlSeconds, not both',
      });
    }
    if (store.createdAt !== undefined) {
      const latest = Date.now() + Limits.createdAtFutureMs;
      if (Date.parse(store.createdAt) > latest) {
        context.addIssue({
          code: 'custom',
          path: ['createdAt'],
          message: `createdAt lies in the future (more than ${Limits.createdAtFutureMs / 60_000} minutes ahead)`,
        });
      }
    }
  });
export type StoreMemoryInput = z.input<typeof StoreMemorySchema>;
export type StoreMemory = z.output<typeof StoreMemorySchema>;

/** Sent to the `membus-notify` inbox once a store has taken effect (or failed for good). */
export const StoreNoticeSchema = z.object({
  v: v1,
  /** The id that was stored. */
  id: z.uuid(),
  /**
   * `stored`: a new memory; `duplicate`: an exact duplicate of `memoryId`; `merged`: a near
   * duplicate merged into `memoryId` (or, for a repeated store, the memory it was later merged
   * into); `failed`: dead-lettered, with `error`. A repeated store of an id is answered as the
   * first one was while that memory is there; `failed` with CONFLICT when the id's memory was
   * deleted or expired (a deleted memory is never stored again under its id) or when the id
   * already holds a different text (the first text is kept).
   */
  status: z.enum(['stored', 'duplicate', 'merged', 'failed']),
  /** The memory that now holds the content (differs from `id` for a duplicate). */
  memoryId: z.uuid(),
  error: ErrorBodySchema.optional(),
});
export type StoreNotice = z.infer<typeof StoreNoticeSchema>;

// ---------------------------------------------------------------- memory.embedded.<tenant>

/** The `model` of an embedded memory whose vector the caller supplied. */
export const CALLER_MODEL = 'caller';

/** Embedder -> vector-store: the store message plus its vector. */
export const EmbeddedMemorySchema = z.strictObject({
  v: v1,
  /** The store request (text already redacted), defaults applied. */
  memory: StoreMemorySchema,
  /** Packed float32 vector. */
  vector: PackedVectorSchema,
  /** Model id that produced the vector (`caller` for a caller-supplied vector). */
  model: z.string().min(1).max(200),
  dimension: z.number().int().min(1).max(Limits.vectorDimension),
  /** sha256 of the normalised text. */
  contentHash: z.string().regex(/^[a-f0-9]{64}$/),
  /** When the store message was first accepted (ms since epoch). */
  acceptedAt: z.number().int().nonnegative(),
});
export type EmbeddedMemory = z.infer<typeof EmbeddedMemorySchema>;

// ---------------------------------------------------------------- memory.stored / memory.changed

export const changeValues = [
  'created',
  'duplicate',
  'updated',
  'deleted',
  'expired',
  'merged',
] as const;

/** An event about a memory, published to JetStream after the change is durable. */
export const MemoryEventSchema = z.object({
  v: v1,
  change: z.enum(changeValues),
  /** The memory the event is about. */
  id: z.uuid(),
  /** The memory after the change (absent for deletions). */
  memory: MemoryRecordSchema.optional(),
  at: TimestampSchema,
});
export type MemoryEvent = z.infer<typeof MemoryEventSchema>;

// ---------------------------------------------------------------- memory.query.<tenant>

/** Weights of the final score: relevance, recency and importance (each >= 0). */
export const RankingWeightsSchema = z.strictObject({
  relevance: z.number().min(0).max(1).default(1),
  recency: z.number().min(0).max(1).default(0),
  importance: z.number().min(0).max(1).default(0),
});
export type RankingWeights = z.output<typeof RankingWeightsSchema>;

export const QueryRequestSchema = z
  .strictObject({
    v: v1,
    /** Text to search for (embedded by the embedder). */
    text: MemoryTextSchema.optional(),
    /** Or a query vector. */
    vector: VectorSchema.optional(),
    filter: MemoryFilterSchema.optional(),
    topK: z.number().int().min(1).max(Limits.topK).default(10),
    /** Drop hits whose relevance (see ScoreParts) is below this. */
    minScore: z.number().min(-1).max(1).optional(),
    weights: RankingWeightsSchema.optional(),
    /** Half-life of the recency score, in hours (default 168: one week). */
    recencyHalfLifeHours: z
      .number()
      .positive()
      .max(24 * 365 * 100)
      .default(168),
    /**
     * `dense` (vector similarity), `keyword` (BM25 over the text) or `hybrid` (both, fused as
     * the weighted sum `0.5 · cosine + 0.5 · BM25 / best BM25`). Default: `hybrid` for a text
     * query, `dense` for a vector query.
     */
    mode: z.enum(['dense', 'keyword', 'hybrid']).optional(),
  })
  .superRefine((query, context) => {
    if (query.mode !== undefined && query.mode !== 'dense' && query.text === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['mode'],
        message: `mode "${query.mode}" needs a text query`,
      });
    }
    if ((query.text === undefined) === (query.vector === undefined)) {
      context.addIssue({
        code: 'custom',
        path: ['text'],
        message: 'give exactly one of text or vector',
      });
    }
  });
export type QueryRequestInput = z.input<typeof QueryRequestSchema>;
export type QueryRequest = z.output<typeof QueryRequestSchema>;

/** How a hit's score was made. */
export const ScorePartsSchema = z.object({
  /**
   * How well the memory matches: cosine similarity (dense), normalised BM25 (keyword), or
   * `0.5 · max(0, cosine) + 0.5 · BM25 / best BM25` of the two legs (hybrid).
   */
  relevance: z.number(),
  /** 0..1: 1 for now, 0.5 one half-life ago. */
  recency: z.number(),
  /** The memory's importance, 0..1. */
  importance: z.number(),
  /** Cosine similarity to the query vector (dense and hybrid). */
  dense: z.number().optional(),
  /** BM25 keyword score normalised to 0..1 within the result (keyword and hybrid). */
  keyword: z.number().optional(),
});
export type ScoreParts = z.infer<typeof ScorePartsSchema>;

export const QueryHitSchema = z.object({
  memory: MemoryRecordSchema,
  /** Final score: the weighted sum of the parts. */
  score: z.number(),
  scores: ScorePartsSchema,
});
export type QueryHit = z.infer<typeof QueryHitSchema>;

export const QueryReplySchema = z.object({
  v: v1,
  /**
   * Best first: `topK` hits, or fewer when their memories would pass `Limits.replyBytes`
   * (then `truncated` is true and `omitted` says how many of the topK were left out).
   */
  hits: z.array(QueryHitSchema),
  /** True when hits were left out to keep the reply under `Limits.replyBytes`. */
  truncated: z.boolean().optional(),
  /** How many hits were left out (present with `truncated`). */
  omitted: z.number().int().min(0).optional(),
  /** The retrieval mode used (see QueryRequest.mode). */
  mode: z.enum(['dense', 'keyword', 'hybrid']),
  /** How the index answered, e.g. `exact`, `ann`, `keyword`, `hybrid(ann)`. */
  plan: z.string(),
  tookMs: z.number(),
});
export type QueryReply = z.infer<typeof QueryReplySchema>;

// ---------------------------------------------------------------- get / list / update / delete / history / stats

export const GetRequestSchema = z.strictObject({
  v: v1,
  ids: z.array(z.uuid()).min(1).max(Limits.ids),
});
export type GetRequest = z.infer<typeof GetRequestSchema>;
export const GetReplySchema = z.object({
  v: v1,
  /** The live memories asked for, up to `Limits.replyBytes` of them. */
  memories: z.array(MemoryRecordSchema),
  /** Requested ids with no live memory. */
  missing: z.array(z.uuid()),
  /**
   * Requested ids of live memories that did not fit in this reply (`Limits.replyBytes`): ask
   * for them again. Absent when every memory was returned.
   */
  pending: z.array(z.uuid()).optional(),
});
export type GetReply = z.infer<typeof GetReplySchema>;

export const ListRequestSchema = z.strictObject({
  v: v1,
  filter: MemoryFilterSchema.optional(),
  limit: z.number().int().min(1).max(Limits.pageSize).default(50),
  /** Opaque cursor from the previous page. */
  cursor: z.string().max(512).optional(),
});
export type ListRequestInput = z.input<typeof ListRequestSchema>;
export type ListRequest = z.output<typeof ListRequestSchema>;
export const ListReplySchema = z.object({
  v: v1,
  /**
   * Newest first: `limit` memories, or fewer when more would pass `Limits.replyBytes` (a
   * `nextCursor` then continues where the page stopped).
   */
  memories: z.array(MemoryRecordSchema),
  /** Pass back for the next page; absent on the last page. */
  nextCursor: z.string().optional(),
});
export type ListReply = z.infer<typeof ListReplySchema>;

/** Why a memory was changed or deleted, as the history keeps it. */
export const ChangeReasonSchema = z.string().min(1).max(300);

export const UpdateRequestSchema = z
  .strictObject({
    v: v1,
    id: z.uuid(),
    /** New text: re-embedded, content hash recomputed. */
    text: MemoryTextSchema.optional(),
    /** Replaces the metadata. */
    metadata: MetadataSchema.optional(),
    categories: LabelListSchema.optional(),
    tags: LabelListSchema.optional(),
    importance: z.number().min(0).max(1).optional(),
    tier: TierSchema.optional(),
    /** New expiry; `null` removes it. */
    expiresAt: TimestampSchema.nullable().optional(),
    /** Why (e.g. a tier demotion): recorded in the UPDATE history entry's `details.reason`. */
    reason: ChangeReasonSchema.optional(),
  })
  .refine(
    (update) =>
      Object.entries(update).some(
        ([key, value]) => key !== 'v' && key !== 'id' && key !== 'reason' && value !== undefined,
      ),
    'nothing to update',
  );
export type UpdateRequestInput = z.input<typeof UpdateRequestSchema>;
export type UpdateRequest = z.output<typeof UpdateRequestSchema>;
export const UpdateReplySchema = z.object({ v: v1, memory: MemoryRecordSchema });
export type UpdateReply = z.infer<typeof UpdateReplySchema>;

export const DeleteRequestSchema = z
  .strictObject({
    v: v1,
    ids: z.array(z.uuid()).min(1).max(Limits.ids).optional(),
    /** Deletes every matching memory; must restrict something. */
    filter: MemoryFilterSchema.optional(),
    /** Why (e.g. a tier overflow policy): recorded in each DELETE history entry's `details.reason`. */
    reason: ChangeReasonSchema.optional(),
  })
  .refine(
    (request) => (request.ids === undefined) !== (request.filter === undefined),
    'give ids or filter',
  )
  .refine(
    (request) =>
      request.filter === undefined ||
      Object.values(request.filter).some((value) => value !== undefined),
    'an empty filter would delete everything; give at least one condition',
  );
export type DeleteRequest = z.infer<typeof DeleteRequestSchema>;
export const DeleteReplySchema = z.object({
  v: v1,
  /** How many memories were deleted (exact). */
  deleted: z.number().int().min(0),
  /**
   * Their ids: all of them for a delete by ids; for a delete by filter the first
   * `Limits.replyIds` (then `truncated` is true when there were more).
   */
  ids: z.array(z.uuid()),
  /** True when `ids` lists fewer than `deleted`. */
  truncated: z.boolean().optional(),
});
export type DeleteReply = z.infer<typeof DeleteReplySchema>;

export const historyEventValues = [
  'ADD',
  'DUPLICATE',
  'UPDATE',
  'DELETE',
  'EXPIRE',
  'MERGE',
] as const;
export const HistoryEntrySchema = z.object({
  memoryId: z.uuid(),
  event: z.enum(historyEventValues),
  at: TimestampSchema,
  /** Text before the change (UPDATE, DELETE). */
  previousText: z.string().optional(),
  /** Text after the change (ADD, UPDATE). */
  text: z.string().optional(),
  /** Event-specific JSON, e.g. the duplicate's id. */
  details: z.record(z.string(), z.unknown()).optional(),
});
export type HistoryEntry = z.infer<typeof HistoryEntrySchema>;
export const HistoryRequestSchema = z.strictObject({
  v: v1,
  id: z.uuid(),
  /** Opaque cursor from the previous page. */
  cursor: z.string().max(512).optional(),
});
export type HistoryRequest = z.infer<typeof HistoryRequestSchema>;
export const HistoryReplySchema = z.object({
  v: v1,
  /** Oldest first, up to `Limits.replyBytes` of them (`Limits.pageSize` at most). */
  entries: z.array(HistoryEntrySchema),
  /** Pass back as `cursor` for the next entries; absent on the last page. */
  nextCursor: z.string().optional(),
});
export type HistoryReply = z.infer<typeof HistoryReplySchema>;

export const StatsRequestSchema = z.strictObject({ v: v1, filter: MemoryFilterSchema.optional() });
export type StatsRequest = z.infer<typeof StatsRequestSchema>;
const counts = z.record(z.string(), z.number().int().min(0));
export const StatsReplySchema = z.object({
  v: v1,
  /** Live (unexpired) memories matching the filter. */
  total: z.number().int().min(0),
  byScope: counts,
  byKind: counts,
  byTier: counts,
  /** The `Limits.statsKeys` largest namespace counts. */
  byNamespace: counts,
  /** The `Limits.statsKeys` largest category counts. */
  byCategory: counts,
  /** How many namespaces / categories were left out of the counts above (absent: none). */
  omittedKeys: z
    .object({
      byNamespace: z.number().int().min(0).optional(),
      byCategory: z.number().int().min(0).optional(),
    })
    .optional(),
  /** Oldest and newest createdAt among them. */
  oldest: TimestampSchema.optional(),
  newest: TimestampSchema.optional(),
});
export type StatsReply = z.infer<typeof StatsReplySchema>;

// ---------------------------------------------------------------- memory.embed

export const EmbedRequestSchema = z
  .strictObject({
    v: v1,
    /** Texts to embed; may be empty only when `metadata` is given. */
    texts: z.array(MemoryTextSchema).max(Limits.embedBatch),
    /** Some models embed queries and documents differently. */
    purpose: z.enum(['query', 'document']).default('query'),
    /**
     * Metadata a memory will be stored with (`document` purpose only): the embedder redacts it
     * with the store path's policy and returns it as `metadata`. Lets a writer other than the
     * embedder (an update) store metadata no less masked than a store would.
     */
    metadata: MetadataSchema.optional(),
  })
  .superRefine((request, context) => {
    if (request.texts.length === 0 && request.metadata === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['texts'],
        message: 'give at least one text (or metadata to redact)',
      });
    }
    if (request.metadata !== undefined && request.purpose !== 'document') {
      context.addIssue({
        code: 'custom',
        path: ['metadata'],
        message: 'metadata is redacted for storage: it needs purpose "document"',
      });
    }
  });
export type EmbedRequestInput = z.input<typeof EmbedRequestSchema>;
export type EmbedRequest = z.output<typeof EmbedRequestSchema>;
export const EmbedReplySchema = z.object({
  v: v1,
  model: z.string(),
  dimension: z.number().int().min(1),
  /** Packed float32 vectors, one per text, in order. */
  vectors: z.array(PackedVectorSchema),
  /** For `document` purpose: each text as it will be stored (secrets redacted) and its hash. */
  documents: z.array(z.object({ text: z.string(), contentHash: z.string() })).optional(),
  /**
   * The request's `metadata` as it will be stored (secrets redacted); present exactly when the
   * request had metadata. Not size-checked again: masks can be longer than what they replace.
   */
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export type EmbedReply = z.infer<typeof EmbedReplySchema>;

// ---------------------------------------------------------------- memory.dlq.<tenant>

/** Why a message was dead-lettered (also in the x-error-* headers of the DLQ copy). */
export const DeadLetterSchema = z.object({
  v: v1,
  subject: z.string(),
  stream: z.string().optional(),
  deliveries: z.number().int().min(0),
  error: ErrorBodySchema,
  /** The original payload, as text (may be invalid JSON), cut to `Limits.deadLetterPayloadBytes`. */
  payload: z.string(),
  /** Size of the original payload in bytes. */
  payloadBytes: z.number().int().min(0).optional(),
  /** True when `payload` holds only the first `Limits.deadLetterPayloadBytes` bytes. */
  truncated: z.boolean().optional(),
  at: TimestampSchema,
});
export type DeadLetter = z.infer<typeof DeadLetterSchema>;
