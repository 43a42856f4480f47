import { z } from 'zod';
import { ErrorBodySchema } from './errors.ts';
import {
  LabelListSchema,
  LabelSchema,
  MemoryTextSchema,
  MetadataSchema,
  OwnerFields,
  TimestampSchema,
} from './memory.ts';
import { addIssue, checkScopeOwner, openMessage, strictMessage } from './schema-parts.ts';

// The extraction stage's messages: what an agent ingests (conversation turns or free text) and
// the notice its caller gets once the extractor has decided what to keep (decision 010).

/** Turns in one ingest message. */
export const INGEST_MAX_TURNS = 100;

export const turnRoleValues = ['user', 'assistant', 'system', 'tool'] as const;

/** One conversation turn. */
export const TurnSchema = z.strictObject({
  /** The caller's id of the message (kept as provenance of every fact drawn from it). */
  id: LabelSchema.optional(),
  /** Who said it. */
  role: z.enum(turnRoleValues),
  /** What was said. */
  content: MemoryTextSchema,
  /** When it was said. */
  at: TimestampSchema.optional(),
});
export type Turn = z.infer<typeof TurnSchema>;

// ---------------------------------------------------------------- memory.ingest.<tenant>

/**
 * Conversation turns or free text to remember: the extractor turns them into facts (ADD /
 * UPDATE / DELETE / NONE against the owner's memories), or stores them as they are when
 * extraction is off, fails, or `extract` is false. Published to JetStream; acked once durable.
 */
export const IngestMessageSchema = strictMessage({
  /** Client-generated UUID (v7): the ingest's id, named by its notice and its facts. */
  id: z.uuid(),
  /**
   * The owner of the facts. Turns of one session are extracted together (a window of the
   * extractor's); the namespace selects its extraction instructions and categories.
   */
  ...OwnerFields,
  /** The conversation; give `turns` or `text`. */
  turns: z.array(TurnSchema).min(1).max(INGEST_MAX_TURNS).optional(),
  /** Free text; give `turns` or `text`. */
  text: MemoryTextSchema.optional(),
  /** Merged into every fact's metadata (besides its provenance). */
  metadata: MetadataSchema.default({}),
  /** Added to every fact's categories. */
  categories: LabelListSchema.default([]),
  tags: LabelListSchema.default([]),
  /** `false` stores the text as it is, without the model (default true). */
  extract: z.boolean().default(true),
}).superRefine((ingest, context) => {
  if ((ingest.turns === undefined) === (ingest.text === undefined))
    addIssue(context, 'turns', 'give turns or text (one of them)');
  checkScopeOwner(ingest, context);
});
export type IngestMessageInput = z.input<typeof IngestMessageSchema>;
export type IngestMessage = z.output<typeof IngestMessageSchema>;

// ---------------------------------------------------------------- memory.extracted.<tenant>.<token>

export const extractionEventValues = ['ADD', 'UPDATE', 'DELETE', 'NONE'] as const;

/** What the extractor did with one candidate fact. */
export const ExtractionDecisionSchema = z.object({
  /** ADD: a new memory; UPDATE: `memoryId` rewritten; DELETE: `memoryId` retired; NONE: known. */
  event: z.enum(extractionEventValues),
  /** The fact as extracted. */
  text: z.string(),
  /** The memory added, rewritten or retired (absent for NONE without a match). */
  memoryId: z.uuid().optional(),
  /** The memory's text before an UPDATE or DELETE. */
  previousText: z.string().optional(),
  /** With NONE: the tenant's ingest policy left the fact out (`<rule>: <reason>`). */
  dropped: z.string().optional(),
});
export type ExtractionDecision = z.infer<typeof ExtractionDecisionSchema>;

/**
 * Sent to `memory.extracted.<tenant>.<token>` (the ingest's `membus-notify` token) once an
 * ingest is done: `extracted` with the decisions, `raw` when its text was stored as it is
 * (`reason`: `disabled`, `not_requested`, `budget_exhausted`, `model_failed`), or `failed`.
 */
export const ExtractionNoticeSchema = openMessage({
  /** The ingest's id. */
  id: z.uuid(),
  status: z.enum(['extracted', 'raw', 'failed']),
  /** Why the text was stored raw (with `raw`). */
  reason: z.string().optional(),
  decisions: z.array(ExtractionDecisionSchema),
  /** Memories stored as raw text (with `raw`). */
  rawMemoryIds: z.array(z.uuid()).optional(),
  /** The chat model that decided (with `extracted`). */
  model: z.string().optional(),
  error: ErrorBodySchema.optional(),
});
export type ExtractionNotice = z.infer<typeof ExtractionNoticeSchema>;
