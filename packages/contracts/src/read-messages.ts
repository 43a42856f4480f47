import { z } from 'zod';
import { filteredPageFields, MemoryFilterSchema } from './filter.ts';
import { Limits } from './limits.ts';
import { MemoryRecordSchema, MemoryTextSchema, TimestampSchema, VectorSchema } from './memory.ts';
import {
  addIssue,
  CountSchema,
  CountsSchema,
  CursorSchema,
  openMessage,
  pageSchema,
  strictMessage,
} from './schema-parts.ts';

// The reads: query, get, list, history and stats (all answered by the vector-store).

// ---------------------------------------------------------------- memory.query.<tenant>

/** Weights of the final score: relevance, recency and importance (each >= 0). */
export const RankingWeightsSchema = z.strictObject({
  relevance: z.number().min(0).max(1).default(1),
  recency: z.number().min(0).max(1).default(0),
  importance: z.number().min(0).max(1).default(0),
});
export type RankingWeights = z.output<typeof RankingWeightsSchema>;

export const QueryRequestSchema = strictMessage({
  /** Text to search for (embedded by the embedder). */
  text: MemoryTextSchema.optional(),
  /** Or a query vector. */
  vector: VectorSchema.optional(),
  filter: MemoryFilterSchema.optional(),
  topK: z.number().int().min(1).max(Limits.topK).default(10),
  /**
   * Drop hits whose relevance (see ScoreParts) is below this. Without it a text query gets the
   * relevance floor instead: no hits when the best cosine among them is below the floor of
   * the model that embedded them (e5-small-v2 int8: 0.79; none for the hashing model, for
   * keyword queries and for queries by vector). `0` keeps every hybrid and keyword hit.
   */
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
   * the weighted sum `0.6 · min-max normalised cosine + 0.4 · BM25 / best BM25`). Default:
   * `hybrid` for a text query, `dense` for a vector query.
   */
  mode: z.enum(['dense', 'keyword', 'hybrid']).optional(),
}).superRefine((query, context) => {
  if (query.mode !== undefined && query.mode !== 'dense' && query.text === undefined) {
    addIssue(context, 'mode', `mode "${query.mode}" needs a text query`);
  }
  if ((query.text === undefined) === (query.vector === undefined)) {
    addIssue(context, 'text', 'give exactly one of text or vector');
  }
});
export type QueryRequestInput = z.input<typeof QueryRequestSchema>;
export type QueryRequest = z.output<typeof QueryRequestSchema>;

/** How a hit's score was made. */
export const ScorePartsSchema = z.object({
  /**
   * How well the memory matches: cosine similarity (dense), normalised BM25 (keyword), or
   * `0.6 · min-max normalised cosine + 0.4 · BM25 / best BM25` of the two legs (hybrid).
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
  /**
   * Final score: the weighted sum of the parts, plus 1 for a memory whose `createdAt` falls in
   * the day or month (with its year) the query text names, so those rank first.
   */
  score: z.number(),
  scores: ScorePartsSchema,
});
export type QueryHit = z.infer<typeof QueryHitSchema>;

export const QueryReplySchema = openMessage({
  /**
   * Best first: `topK` hits, or fewer when their memories would pass `Limits.replyBytes`
   * (then `truncated` is true and `omitted` says how many of the topK were left out).
   */
  hits: z.array(QueryHitSchema),
  /** True when hits were left out to keep the reply under `Limits.replyBytes`. */
  truncated: z.boolean().optional(),
  /** How many hits were left out (present with `truncated`). */
  omitted: CountSchema.optional(),
  /** The retrieval mode used (see QueryRequest.mode). */
  mode: z.enum(['dense', 'keyword', 'hybrid']),
  /** How the index answered, e.g. `exact`, `ann`, `keyword`, `hybrid(ann)`. */
  plan: z.string(),
  tookMs: z.number(),
});
export type QueryReply = z.infer<typeof QueryReplySchema>;

// ---------------------------------------------------------------- get / list / update / delete / history / stats

export const GetRequestSchema = strictMessage({
  ids: z.array(z.uuid()).min(1).max(Limits.ids),
});
export type GetRequest = z.infer<typeof GetRequestSchema>;
export const GetReplySchema = openMessage({
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

export const ListRequestSchema = z.strictObject(filteredPageFields(50));
export type ListRequestInput = z.input<typeof ListRequestSchema>;
export type ListRequest = z.output<typeof ListRequestSchema>;
/**
 * Newest first: `limit` memories, or fewer when more would pass `Limits.replyBytes` (a
 * `nextCursor` then continues where the page stopped).
 */
export const ListReplySchema = pageSchema('memories', MemoryRecordSchema);
export type ListReply = z.infer<typeof ListReplySchema>;

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
export const HistoryRequestSchema = strictMessage({
  id: z.uuid(),
  /** Opaque cursor from the previous page. */
  cursor: CursorSchema.optional(),
});
export type HistoryRequest = z.infer<typeof HistoryRequestSchema>;
/** Entries oldest first, up to `Limits.replyBytes` of them (`Limits.pageSize` at most). */
export const HistoryReplySchema = pageSchema('entries', HistoryEntrySchema);
export type HistoryReply = z.infer<typeof HistoryReplySchema>;

export const StatsRequestSchema = strictMessage({ filter: MemoryFilterSchema.optional() });
export type StatsRequest = z.infer<typeof StatsRequestSchema>;
export const StatsReplySchema = openMessage({
  /** Live (unexpired) memories matching the filter. */
  total: CountSchema,
  byScope: CountsSchema,
  byKind: CountsSchema,
  byTier: CountsSchema,
  /** The `Limits.statsKeys` largest namespace counts. */
  byNamespace: CountsSchema,
  /** The `Limits.statsKeys` largest category counts. */
  byCategory: CountsSchema,
  /** How many namespaces / categories were left out of the counts above (absent: none). */
  omittedKeys: z
    .object({
      byNamespace: CountSchema.optional(),
      byCategory: CountSchema.optional(),
    })
    .optional(),
  /** Oldest and newest createdAt among them. */
  oldest: TimestampSchema.optional(),
  newest: TimestampSchema.optional(),
});
export type StatsReply = z.infer<typeof StatsReplySchema>;
