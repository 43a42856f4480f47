import { z } from 'zod';
import { ErrorBodySchema } from './errors.ts';
import { Limits } from './limits.ts';
import {
  attributeFields,
  KindSchema,
  LabelListSchema,
  MemoryContextSchema,
  MemoryRecordSchema,
  MemoryTextSchema,
  MetadataSchema,
  OwnerFields,
  TierSchema,
  TimestampSchema,
  VectorSchema,
} from './memory.ts';
import { PolicyDropSchema } from './policy.ts';
import {
  addIssue,
  CountSchema,
  checkScopeOwner,
  openMessage,
  strictMessage,
} from './schema-parts.ts';

// The store path's messages: a store, its notice, the embedded memory, the events after it, the
// embedder's vectors, and the dead letter of a message that could not be processed.

/** Base64 of little-endian float32s: the internal vector encoding (4 bytes a dimension). */
export const PackedVectorSchema = z
  .string()
  .max(Limits.vectorDimension * 8)
  // A whole number of base64 quads; content is checked when unpacked (length, finiteness),
  // which is far cheaper than a regex over every character on the ingest path.
  .refine((value) => value.length % 4 === 0, 'not base64 float32 data');

// ---------------------------------------------------------------- memory.store.<tenant>

/** What an agent stores. Published to JetStream; `id` makes retries idempotent. */
export const StoreMemorySchema = strictMessage({
  /** Client-generated UUID (v7): the same id stored twice is one memory. */
  id: z.uuid(),
  ...OwnerFields,
  /** Defaults to `fact`. */
  kind: KindSchema.default('fact'),
  text: MemoryTextSchema,
  /**
   * Words that help find this memory but are not its content, e.g. the conversation turn
   * before it ("Yes, last Tuesday!" is found by the question's words in the turn it answers):
   * searched by the keyword leg (BM25) beside the text, never embedded, not part of the
   * content hash (duplicate checks); stored and returned on the record, secrets redacted.
   */
  context: MemoryContextSchema.optional(),
  ...attributeFields(LabelListSchema.default([])),
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
}).superRefine((store, context) => {
  checkScopeOwner(store, context);
  if (store.expiresAt !== undefined && store.ttlSeconds !== undefined) {
    addIssue(context, 'ttlSeconds', 'give expiresAt or ttlSeconds, not both');
  }
  if (store.createdAt !== undefined) {
    const latest = Date.now() + Limits.createdAtFutureMs;
    if (Date.parse(store.createdAt) > latest) {
      addIssue(
        context,
        'createdAt',
        `createdAt lies in the future (more than ${Limits.createdAtFutureMs / 60_000} minutes ahead)`,
      );
    }
  }
});
export type StoreMemoryInput = z.input<typeof StoreMemorySchema>;
export type StoreMemory = z.output<typeof StoreMemorySchema>;

/** Sent to the `membus-notify` inbox once a store has taken effect (or failed for good). */
export const StoreNoticeSchema = openMessage({
  /** The id that was stored. */
  id: z.uuid(),
  /**
   * `stored`: a new memory; `duplicate`: an exact duplicate of `memoryId`; `merged`: a near
   * duplicate merged into `memoryId` (or, for a repeated store, the memory it was later merged
   * into); `failed`: dead-lettered, with `error`. A repeated store of an id is answered as the
   * first one was while that memory is there; `failed` with CONFLICT when the id's memory was
   * deleted or expired (a deleted memory is never stored again under its id) or when the id
   * already holds a different text (the first text is kept). `dropped`: the tenant's ingest
   * policy left it out (not embedded, not stored; `memoryId` is `id`), with `policy` saying why.
   */
  status: z.enum(['stored', 'duplicate', 'merged', 'failed', 'dropped']),
  /** The memory that now holds the content (differs from `id` for a duplicate). */
  memoryId: z.uuid(),
  error: ErrorBodySchema.optional(),
  /** With `dropped`: the policy version and rule that left the store out, and why. */
  policy: PolicyDropSchema.optional(),
});
export type StoreNotice = z.infer<typeof StoreNoticeSchema>;

// ---------------------------------------------------------------- memory.embedded.<tenant>

/** The `model` of an embedded memory whose vector the caller supplied. */
export const CALLER_MODEL = 'caller';

/** Embedder -> vector-store: the store message plus its vector. */
export const EmbeddedMemorySchema = strictMessage({
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
export const MemoryEventSchema = openMessage({
  change: z.enum(changeValues),
  /** The memory the event is about. */
  id: z.uuid(),
  /** The memory after the change (absent for deletions). */
  memory: MemoryRecordSchema.optional(),
  at: TimestampSchema,
});
export type MemoryEvent = z.infer<typeof MemoryEventSchema>;

// ---------------------------------------------------------------- memory.embed

export const EmbedRequestSchema = strictMessage({
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
  /**
   * The model to embed with (one the embedder serves: its own or one of EMBEDDING_EXTRA_MODELS);
   * absent: the embedder's own. A model it does not serve is NOT_FOUND, never another model's
   * vectors (re-embedding, decision 011).
   */
  model: z.string().min(1).max(200).optional(),
}).superRefine((request, context) => {
  if (request.texts.length === 0 && request.metadata === undefined) {
    addIssue(context, 'texts', 'give at least one text (or metadata to redact)');
  }
  if (request.metadata !== undefined && request.purpose !== 'document') {
    addIssue(context, 'metadata', 'metadata is redacted for storage: it needs purpose "document"');
  }
});
export type EmbedRequestInput = z.input<typeof EmbedRequestSchema>;
export type EmbedRequest = z.output<typeof EmbedRequestSchema>;
export const EmbedReplySchema = openMessage({
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
export const DeadLetterSchema = openMessage({
  subject: z.string(),
  stream: z.string().optional(),
  deliveries: CountSchema,
  error: ErrorBodySchema,
  /** The original payload, as text (may be invalid JSON), cut to `Limits.deadLetterPayloadBytes`. */
  payload: z.string(),
  /** Size of the original payload in bytes. */
  payloadBytes: CountSchema.optional(),
  /** True when `payload` holds only the first `Limits.deadLetterPayloadBytes` bytes. */
  truncated: z.boolean().optional(),
  at: TimestampSchema,
});
export type DeadLetter = z.infer<typeof DeadLetterSchema>;
