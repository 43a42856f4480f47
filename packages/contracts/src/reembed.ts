import { z } from 'zod';
import { TimestampSchema } from './memory.ts';
import { addIssue, CountSchema, openMessage, strictMessage } from './schema-parts.ts';

// Re-embedding a tenant's memories with another model without downtime (decision 011): the new
// vectors are written beside the old ones, queries switch once they are complete, the old ones
// are deleted after. `memory.reembed.<tenant>`: the tenant comes from the subject, so a tenant
// starts, reads and cancels only its own migration.

/** An embedding model id as the embedder names it (e.g. `local-hash-v1-256`, `e5-small-v2-q`). */
export const EmbeddingModelSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:/@-]*$/, 'a model id: letters, digits and . _ : / @ -');

/** Start, read or cancel the tenant's re-embedding. */
export const ReembedRequestSchema = strictMessage({
  /** `start` a run (needs `model`), read its `status`, or `cancel` it. */
  action: z.enum(['start', 'status', 'cancel']).default('status'),
  /** The model to embed the tenant's memories with (`start`); one the embedder serves. */
  model: EmbeddingModelSchema.optional(),
  /** With `start`: count the memories and their tokens, write nothing. */
  dryRun: z.boolean().optional(),
}).superRefine((request, context) => {
  if (request.action === 'start' && request.model === undefined)
    addIssue(context, 'model', 'start needs the model to embed with');
  if (request.action !== 'start' && (request.model !== undefined || request.dryRun !== undefined))
    addIssue(context, 'model', `${request.action} takes no model nor dryRun`);
});
export type ReembedRequest = z.output<typeof ReembedRequestSchema>;
export type ReembedRequestInput = z.input<typeof ReembedRequestSchema>;

/** Where a tenant's re-embedding is. */
export const reembedStateValues = [
  /** No re-embedding: queries use `activeModel`. */
  'idle',
  /** New vectors are being written beside the old ones; queries still use the old ones. */
  'running',
  /** Queries use the new vectors; the old ones are being deleted. */
  'cleaning',
] as const;

export const ReembedStatusSchema = openMessage({
  state: z.enum(reembedStateValues),
  /** The model whose vectors answer the tenant's queries (absent: the store path's model). */
  activeModel: z.string().optional(),
  /** The model being written (state `running`), or the one just switched to (`cleaning`). */
  targetModel: z.string().optional(),
  /** Memories embedded with the target model so far (`running`). */
  done: CountSchema,
  /** The tenant's memories when the run started (stores during the run come on top). */
  total: CountSchema,
  /** Estimated tokens embedded so far (characters / 4). */
  tokens: CountSchema,
  startedAt: TimestampSchema.optional(),
  /** Set by a dry run: nothing was written. */
  dryRun: z.boolean().optional(),
});
export type ReembedStatus = z.infer<typeof ReembedStatusSchema>;
export const ReembedReplySchema = ReembedStatusSchema;
export type ReembedReply = ReembedStatus;
