import { z } from 'zod';
import { Limits } from './limits.ts';

export const scopeValues = ['app', 'user', 'agent', 'session'] as const;
export const kindValues = [
  'fact',
  'episode',
  'preference',
  'outcome',
  'pattern',
  'summary',
] as const;
export const tierValues = ['short', 'mid', 'long'] as const;

/** Who a memory belongs to: the whole app, one user, one agent or one session. */
export const ScopeSchema = z.enum(scopeValues);
export type Scope = z.infer<typeof ScopeSchema>;
/** What a memory is. */
export const KindSchema = z.enum(kindValues);
export type Kind = z.infer<typeof KindSchema>;
/** Lifecycle tier, managed by the compactor. */
export const TierSchema = z.enum(tierValues);
export type Tier = z.infer<typeof TierSchema>;

/** Object keys that could pollute prototypes when a payload is merged into an object. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set([
  '__proto__',
  'constructor',
  'prototype',
]);

/** An id, namespace, category or tag: printable, bounded. */
export const LabelSchema = z
  .string()
  .min(1)
  .max(Limits.labelLength)
  .regex(/^[^\s\p{Cc}][^\p{Cc}]*$/u, 'must be printable and not start with a space');

export const LabelListSchema = z
  .array(LabelSchema)
  .max(Limits.labelCount)
  .transform((labels) => [...new Set(labels)]);

export const TimestampSchema = z.iso.datetime({ offset: true });

export const MemoryTextSchema = z
  .string()
  .max(Limits.textLength, `text longer than ${Limits.textLength} characters`)
  .refine((text) => text.trim().length > 0, 'text is empty');

/** A memory's keyword-only context (see the store request's `context`): as long as a text. */
export const MemoryContextSchema = z
  .string()
  .max(Limits.textLength, `context longer than ${Limits.textLength} characters`);

/** JSON metadata: bounded in size and depth, no prototype-polluting keys. */
export const MetadataSchema = z
  // Checked on the raw object: copying it first (as z.record does) would apply a
  // `__proto__` key as a prototype instead of rejecting it.
  .custom<Record<string, unknown>>(
    (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
    'metadata must be a JSON object',
  )
  .superRefine((metadata, context) => {
    const problem = inspectJson(metadata, Limits.metadataDepth);
    if (problem) {
      context.addIssue({ code: 'custom', message: problem });
      return;
    }
    const bytes = Buffer.byteLength(JSON.stringify(metadata));
    if (bytes > Limits.metadataBytes) {
      context.addIssue({
        code: 'too_big',
        origin: 'string',
        maximum: Limits.metadataBytes,
        inclusive: true,
        message: `metadata is ${bytes} bytes; the limit is ${Limits.metadataBytes}`,
      });
    }
  })
  // Its JSON Schema (the checks above are code): any JSON object.
  .meta({
    type: 'object',
    additionalProperties: true,
    description: `A JSON object: at most ${Limits.metadataBytes} bytes encoded, nested at most ${Limits.metadataDepth} deep, no __proto__/constructor/prototype keys.`,
  });
export type Metadata = Record<string, unknown>;

function inspectJson(value: unknown, depthLeft: number): string | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number')
    return Number.isFinite(value) ? undefined : 'metadata numbers must be finite';
  if (depthLeft <= 0) return `metadata nested deeper than ${Limits.metadataDepth} levels`;
  if (Array.isArray(value)) {
    for (const item of value) {
      const problem = inspectJson(item, depthLeft - 1);
      if (problem) return problem;
    }
    return undefined;
  }
  if (typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (FORBIDDEN_KEYS.has(key)) return `metadata key "${key}" is not allowed`;
      const problem = inspectJson(item, depthLeft - 1);
      if (problem) return problem;
    }
    return undefined;
  }
  return 'metadata must be JSON';
}

/**
 * A caller-supplied embedding: float32 numbers (finite, |x| <= `Limits.float32Max`, so no
 * component becomes Infinity when packed), bounded dimension. A value outside float32 is
 * INVALID_MESSAGE.
 */
export const VectorSchema = z
  .array(z.number())
  .min(1)
  .max(Limits.vectorDimension)
  .superRefine((vector, context) => {
    const index = vector.findIndex(
      (value) => !Number.isFinite(value) || Math.abs(value) > Limits.float32Max,
    );
    if (index >= 0)
      context.addIssue({
        code: 'custom',
        path: [index],
        message: `vector values must be finite float32 numbers (|x| <= ${Limits.float32Max})`,
      });
  });

/** A stored memory, as every service and the client see it. */
export const MemoryRecordSchema = z.object({
  /** UUID (v7 from the client), so a retried store is idempotent. */
  id: z.uuid(),
  /** Tenant, taken from the subject the memory arrived on. */
  tenant: z.string(),
  /** Who the memory belongs to. */
  scope: ScopeSchema,
  /** Owning user (required for scope `user`). */
  userId: LabelSchema.optional(),
  /** Owning agent (required for scope `agent`). */
  agentId: LabelSchema.optional(),
  /** Owning session (required for scope `session`). */
  sessionId: LabelSchema.optional(),
  /** An agent's domain, e.g. `deployment`. */
  namespace: LabelSchema.optional(),
  /** What the memory is. */
  kind: KindSchema,
  /** The memory text (secrets redacted). */
  text: z.string(),
  /** Keyword-only context (secrets redacted): searched by BM25 beside the text, never embedded. */
  context: z.string().optional(),
  /** Free JSON metadata, filterable with the metadata filter. */
  metadata: z.record(z.string(), z.unknown()),
  /** Categories, e.g. `incidents`. */
  categories: z.array(z.string()),
  /** Free tags. */
  tags: z.array(z.string()),
  /** 0..1; higher is kept longer and ranks higher when importance is weighted. */
  importance: z.number().min(0).max(1),
  /** Lifecycle tier. */
  tier: TierSchema,
  /**
   * ISO-8601 time the remembered thing happened (its event time): the store's `createdAt`, else
   * when it was stored. A query naming a day or month ranks the memories of that period first.
   */
  createdAt: TimestampSchema,
  /** ISO-8601 time of the last change. */
  updatedAt: TimestampSchema,
  /** ISO-8601 expiry; expired memories are never returned. */
  expiresAt: TimestampSchema.optional(),
  /** How often the memory was returned by a query or get. */
  accessCount: z.number().int().min(0),
  /** ISO-8601 time it was last returned. */
  lastAccessedAt: TimestampSchema.optional(),
  /** sha256 of the normalised text: exact duplicates in a scope share it. */
  contentHash: z.string(),
  /** Embedding model the vector came from. */
  embeddingModel: z.string(),
  /** How many stores were merged into this memory (1 for a fresh one). */
  occurrences: z.number().int().min(1),
});
export type MemoryRecord = z.infer<typeof MemoryRecordSchema>;

/**
 * Who a memory to write belongs to, as stores, ingests and imports give it: the scope (defaults
 * to the most specific scope whose owner id is given), the owner ids and the namespace.
 */
export const OwnerFields = {
  scope: ScopeSchema.optional(),
  userId: LabelSchema.optional(),
  agentId: LabelSchema.optional(),
  sessionId: LabelSchema.optional(),
  namespace: LabelSchema.optional(),
};

/**
 * What a memory to write carries besides its text and owner, with a store's defaults (stores,
 * and exported lines, whose defaults are a store's): metadata, categories, tags, importance.
 * `labels` is the categories' and tags' schema with its default (a store de-duplicates them, a
 * line keeps them as written).
 */
export function attributeFields<L extends z.ZodType<string[]>>(labels: L) {
  return {
    metadata: MetadataSchema.default({}),
    categories: labels,
    tags: labels,
    /** 0..1, default 0.5. */
    importance: z.number().min(0).max(1).default(0.5),
  };
}

/** Whom a memory belongs to within its scope: its owner ids and namespace, where it has them. */
export interface OwnerIds {
  /** Owning user, if any. */
  readonly userId?: string | undefined;
  /** Owning agent, if any. */
  readonly agentId?: string | undefined;
  /** Owning session, if any. */
  readonly sessionId?: string | undefined;
  /** Namespace, if any. */
  readonly namespace?: string | undefined;
}

/** Scope ids that must be present for each scope. */
export const scopeOwnerField = {
  app: undefined,
  user: 'userId',
  agent: 'agentId',
  session: 'sessionId',
} as const satisfies Record<Scope, 'userId' | 'agentId' | 'sessionId' | undefined>;

/** The most specific scope whose owner id is present: session > agent > user > app. */
export function inferScope(ids: { userId?: string; agentId?: string; sessionId?: string }): Scope {
  if (ids.sessionId !== undefined) return 'session';
  if (ids.agentId !== undefined) return 'agent';
  if (ids.userId !== undefined) return 'user';
  return 'app';
}

/** Default tier for a new memory of a kind: lasting knowledge starts long-term. */
export function defaultTier(kind: Kind): Tier {
  if (kind === 'preference' || kind === 'pattern') return 'long';
  if (kind === 'summary') return 'mid';
  return 'short';
}
