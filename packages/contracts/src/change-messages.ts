import { z } from 'zod';
import { selectionRequest } from './filter.ts';
import {
  LabelListSchema,
  MemoryRecordSchema,
  MemoryTextSchema,
  MetadataSchema,
  TierSchema,
  TimestampSchema,
} from './memory.ts';
import { CountSchema, openMessage, strictMessage } from './schema-parts.ts';

// The changes an agent asks for: update and delete.

// ---------------------------------------------------------------- memory.update / memory.delete

/** Why a memory was changed or deleted, as the history keeps it. */
export const ChangeReasonSchema = z.string().min(1).max(300);

/** What an update may change besides the text (one memory's, or a batch's). */
export const ChangeFields = {
  /** Replaces the metadata. */
  metadata: MetadataSchema.optional(),
  categories: LabelListSchema.optional(),
  tags: LabelListSchema.optional(),
  importance: z.number().min(0).max(1).optional(),
  tier: TierSchema.optional(),
  /** New expiry; `null` removes it. */
  expiresAt: TimestampSchema.nullable().optional(),
};

export const UpdateRequestSchema = strictMessage({
  id: z.uuid(),
  /** New text: re-embedded, content hash recomputed. */
  text: MemoryTextSchema.optional(),
  ...ChangeFields,
  /** Why (e.g. a tier demotion): recorded in the UPDATE history entry's `details.reason`. */
  reason: ChangeReasonSchema.optional(),
}).refine(
  (update) =>
    Object.entries(update).some(
      ([key, value]) => key !== 'v' && key !== 'id' && key !== 'reason' && value !== undefined,
    ),
  'nothing to update',
);
export type UpdateRequestInput = z.input<typeof UpdateRequestSchema>;
export type UpdateRequest = z.output<typeof UpdateRequestSchema>;
export const UpdateReplySchema = openMessage({ memory: MemoryRecordSchema });
export type UpdateReply = z.infer<typeof UpdateReplySchema>;

export const DeleteRequestSchema = selectionRequest('delete', {
  /** Why (e.g. a tier overflow policy): recorded in each DELETE history entry's `details.reason`. */
  reason: ChangeReasonSchema.optional(),
});
export type DeleteRequest = z.infer<typeof DeleteRequestSchema>;
export const DeleteReplySchema = openMessage({
  /** How many memories were deleted (exact). */
  deleted: CountSchema,
  /**
   * Their ids: all of them for a delete by ids; for a delete by filter the first
   * `Limits.replyIds` (then `truncated` is true when there were more).
   */
  ids: z.array(z.uuid()),
  /** True when `ids` lists fewer than `deleted`. */
  truncated: z.boolean().optional(),
});
export type DeleteReply = z.infer<typeof DeleteReplySchema>;
