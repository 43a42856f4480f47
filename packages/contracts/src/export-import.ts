import { z } from 'zod';
import { ChangeFields, ChangeReasonSchema } from './change-messages.ts';
import { ErrorBodySchema } from './errors.ts';
import { filteredPageFields, selectionRequest } from './filter.ts';
import { Limits } from './limits.ts';
import {
  attributeFields,
  FORBIDDEN_KEYS,
  KindSchema,
  LabelSchema,
  MemoryTextSchema,
  OwnerFields,
  TierSchema,
  TimestampSchema,
} from './memory.ts';
import { historyEventValues } from './read-messages.ts';
import {
  CountSchema,
  CursorSchema,
  checkScopeOwner,
  openMessage,
  pageSchema,
  strictMessage,
} from './schema-parts.ts';
import { PackedVectorSchema } from './store-messages.ts';

// Memories moving in and out: the export line format (NDJSON, one `ExportedMemory` a line, the
// one format every importer writes), the import request that writes lines exactly, and the
// batch update. docs/export-format.md describes the line format for people.

// ---------------------------------------------------------------- the export line

/** Labels as a record holds them (kept as given, so a line reads back as it was written). */
const LabelArraySchema = z.array(LabelSchema).max(Limits.labelCount);

/**
 * A memory record as exported: every field of `MemoryRecord` but `tenant` (the tenant is the
 * importer's, taken from the subject). Importers from other stores may leave out what they do
 * not know: the defaults are those of a store.
 */
export const ExportedRecordSchema = z
  .strictObject({
    /** The memory id (UUID), kept on import: importing the same line twice is one memory. */
    id: z.uuid(),
    ...OwnerFields,
    /** Defaults to `fact`. */
    kind: KindSchema.default('fact'),
    text: MemoryTextSchema,
    ...attributeFields(LabelArraySchema.default([])),
    /** Defaults by kind, as a store's. */
    tier: TierSchema.optional(),
    /** When the memory was made; default: when it is imported. */
    createdAt: TimestampSchema.optional(),
    /** Its last change; default: `createdAt`. */
    updatedAt: TimestampSchema.optional(),
    expiresAt: TimestampSchema.optional(),
    /** How often it was returned by a query or get (default 0). */
    accessCount: CountSchema.default(0),
    lastAccessedAt: TimestampSchema.optional(),
    /**
     * sha256 of the normalised text, as membus computes it. Needed only with `vector` (a line
     * without it is embedded, which computes it).
     */
    contentHash: z
      .string()
      .regex(/^[a-f0-9]{64}$/)
      .optional(),
    /** The model its vector came from (informative; `vector.model` decides). */
    embeddingModel: z.string().min(1).max(200).optional(),
    /** How many stores were merged into it (default 1). */
    occurrences: z.number().int().min(1).default(1),
  })
  .superRefine(checkScopeOwner);
export type ExportedRecordInput = z.input<typeof ExportedRecordSchema>;
export type ExportedRecord = z.output<typeof ExportedRecordSchema>;

/** Bytes of JSON a history entry's `details` may take in a line. */
const HISTORY_DETAILS_BYTES = 64 * 1024;

/** A history entry's event-specific JSON: an object, bounded, no prototype-polluting keys. */
const HistoryDetailsSchema = z
  .custom<Record<string, unknown>>(
    (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
    'details must be a JSON object',
  )
  .superRefine((details, context) => {
    const key = forbiddenKey(details, 16);
    if (key !== undefined)
      context.addIssue({ code: 'custom', message: `key "${key}" is not allowed` });
    else if (Buffer.byteLength(JSON.stringify(details)) > HISTORY_DETAILS_BYTES)
      context.addIssue({ code: 'custom', message: `details over ${HISTORY_DETAILS_BYTES} bytes` });
  })
  .meta({ type: 'object', additionalProperties: true, description: 'Event-specific JSON.' });

/** The first prototype-polluting key in a JSON value (or one nested past `depthLeft`). */
function forbiddenKey(value: unknown, depthLeft: number): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  if (depthLeft <= 0) return '(nested too deep)';
  for (const [key, item] of Object.entries(value)) {
    if (FORBIDDEN_KEYS.has(key)) return key;
    const found = forbiddenKey(item, depthLeft - 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** One history entry of an exported memory (its `memoryId` is the line's memory id). */
export const ExportedHistoryEntrySchema = z.strictObject({
  event: z.enum(historyEventValues),
  at: TimestampSchema,
  previousText: z.string().max(Limits.textLength).optional(),
  text: z.string().max(Limits.textLength).optional(),
  details: HistoryDetailsSchema.optional(),
});
export type ExportedHistoryEntry = z.infer<typeof ExportedHistoryEntrySchema>;

/** A memory's vector as exported: packed float32 (base64), its model and dimension. */
export const ExportedVectorSchema = z
  .strictObject({
    /** The model that made it (`caller` for a vector the storing agent supplied). */
    model: z.string().min(1).max(200),
    dimension: z.number().int().min(1).max(Limits.vectorDimension),
    /** Base64 of little-endian float32s. */
    data: PackedVectorSchema,
  })
  .refine(
    (vector) => (vector.data.length / 4) * 3 >= vector.dimension * 4,
    'data is shorter than its dimension',
  );
export type ExportedVector = z.infer<typeof ExportedVectorSchema>;

/** The current version of the export line format. */
export const EXPORT_FORMAT_VERSION = 1;

/**
 * One line of an export (NDJSON): a memory, optionally its history (oldest first) and its
 * vector. Version 1; a line of another version is refused, never guessed at.
 */
export const ExportedMemorySchema = strictMessage({
  memory: ExportedRecordSchema,
  /** Its history, oldest first (`membus export --with-history`). */
  history: z.array(ExportedHistoryEntrySchema).max(Limits.pageSize).optional(),
  /** Its vector (`membus export --with-vectors`): kept on import when the model matches. */
  vector: ExportedVectorSchema.optional(),
});
export type ExportedMemoryInput = z.input<typeof ExportedMemorySchema>;
export type ExportedMemory = z.output<typeof ExportedMemorySchema>;

// ---------------------------------------------------------------- memory.export.<tenant>

export const ExportRequestSchema = z.strictObject({
  /** `limit`: lines per page. */
  ...filteredPageFields(200),
  /** Each memory's history with it (oldest first, at most `Limits.pageSize` entries). */
  withHistory: z.boolean().default(false),
  /** Each memory's vector with it (when the index can give vectors). */
  withVectors: z.boolean().default(false),
});
export type ExportRequestInput = z.input<typeof ExportRequestSchema>;
export type ExportRequest = z.output<typeof ExportRequestSchema>;
/**
 * One page of lines, newest first (the order of `memory.list`): `limit` lines or fewer when
 * more would pass `Limits.replyBytes`, `nextCursor` to the rest.
 */
export const ExportReplySchema = pageSchema('lines', ExportedMemorySchema);
export type ExportReply = z.infer<typeof ExportReplySchema>;

// ---------------------------------------------------------------- memory.import.<tenant>

/** What an import does with a line whose id holds a different text: report it, or replace it. */
export const onConflictValues = ['report', 'overwrite'] as const;

export const ImportRequestSchema = strictMessage({
  /** Lines to write, each exactly (ids, times, occurrences, tier kept). */
  memories: z.array(ExportedMemorySchema).min(1).max(Limits.batchSize),
  /** `report` (default): a line whose id holds other text is a CONFLICT, nothing written. */
  onConflict: z.enum(onConflictValues).default('report'),
});
export type ImportRequestInput = z.input<typeof ImportRequestSchema>;
export type ImportRequest = z.output<typeof ImportRequestSchema>;

export const importStatusValues = [
  'imported',
  'present',
  'overwritten',
  'conflict',
  'failed',
] as const;

/** What became of one line. */
export const ImportResultSchema = z.object({
  /** The line's memory id. */
  id: z.uuid(),
  /**
   * `imported`: written; `present`: already there with this text (nothing changed: a repeated
   * line); `overwritten`: the id held another record and `onConflict: overwrite` replaced it;
   * `conflict`: the id holds another text (nothing written); `failed`: see `error`.
   */
  status: z.enum(importStatusValues),
  /** Present with `conflict` and `failed` (its `details` any JSON object). */
  error: ErrorBodySchema.extend({
    details: z.record(z.string(), z.unknown()).optional(),
  }).optional(),
  /** True when the stored vector is the line's own (no embedding). */
  vectorKept: z.boolean().optional(),
});
export type ImportResult = z.infer<typeof ImportResultSchema>;

export const ImportReplySchema = openMessage({
  /** One result per line, in the order sent. */
  results: z.array(ImportResultSchema),
});
export type ImportReply = z.infer<typeof ImportReplySchema>;

// ---------------------------------------------------------------- memory.batch.update.<tenant>

/** The changes of a batch update: what one update may change, except the text. */
export const BatchChangesSchema = z
  .strictObject({
    ...ChangeFields,
  })
  .refine(
    (changes) => Object.values(changes).some((value) => value !== undefined),
    'nothing to update',
  );
export type BatchChanges = z.output<typeof BatchChangesSchema>;

/** These memories or a filter's, one page a request. */
export const BatchUpdateRequestSchema = selectionRequest('update', {
  /** Where the previous page of a filter update stopped. */
  cursor: CursorSchema.optional(),
  /** Memories per page of a filter update (default and most: `Limits.batchSize`). */
  limit: z.number().int().min(1).max(Limits.batchSize).default(Limits.batchSize),
  changes: BatchChangesSchema,
  /** Why: recorded in each UPDATE history entry's `details.reason`. */
  reason: ChangeReasonSchema.optional(),
}).refine((request) => request.cursor === undefined || request.filter !== undefined, {
  message: 'a cursor continues a filter update',
  path: ['cursor'],
});
export type BatchUpdateRequestInput = z.input<typeof BatchUpdateRequestSchema>;
export type BatchUpdateRequest = z.output<typeof BatchUpdateRequestSchema>;

export const BatchUpdateReplySchema = openMessage({
  /** Memories changed by this request (each has an UPDATE entry in its history). */
  updated: CountSchema,
  /** Memories that already had these values (nothing written: a repeated request). */
  unchanged: CountSchema,
  /** The ids changed by this request. */
  ids: z.array(z.uuid()),
  /** Asked-for ids with no live memory (by ids). */
  missing: z.array(z.uuid()),
  /** A filter update with more to do: send the request again with this cursor. */
  nextCursor: z.string().optional(),
});
export type BatchUpdateReply = z.infer<typeof BatchUpdateReplySchema>;
