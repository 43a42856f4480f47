import { z } from 'zod';
import { LabelMatchSchema, MetadataFilterSchema } from './filter.ts';
import { Limits } from './limits.ts';
import { KindSchema, LabelSchema, ScopeSchema, TimestampSchema } from './memory.ts';
import { addIssue, CountSchema, openMessage, strictMessage } from './schema-parts.ts';

// The ingest policy (decision 009): what a tenant keeps and leaves out, as data. Rules are
// evaluated before embedding by `@membus/ingest-policy`; these are the document and the
// memory.policy.get/put/history operations that read and change it.

/** Bounds of one policy document, so evaluating it stays cheap on the store path. */
export const PolicyLimits = {
  /** Rules per policy. */
  rules: 100,
  /** Text patterns per rule (each list). */
  patterns: 32,
  /** Characters of one pattern (a regex or a literal). */
  patternLength: 1_000,
  /** Expiry entries per policy. */
  expiry: 64,
  /** The document, as JSON. */
  documentBytes: 64 * 1024,
  /** History entries per page. */
  historyPage: 100,
} as const;

/**
 * A rule's name: the `rule` label of `membus_policy_decisions_total` and what a dropped store's
 * notice names, so short and plain.
 */
export const RuleNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'a rule name is 1-64 of [A-Za-z0-9_.-]');

/**
 * One text pattern. `regex` is RE2 syntax (linear-time matching, no backreferences or
 * lookaround), evaluated by `@membus/ingest-policy`; `contains` is a literal substring.
 */
export const TextPatternSchema = z.union([
  z.strictObject({
    /** An RE2 regular expression, searched anywhere in the text (anchor it with ^ $). */
    regex: z.string().min(1).max(PolicyLimits.patternLength),
    /** Match case-insensitively. */
    ignoreCase: z.boolean().optional(),
  }),
  z.strictObject({
    /** A literal substring. */
    contains: z.string().min(1).max(PolicyLimits.patternLength),
    /** Match case-insensitively. */
    ignoreCase: z.boolean().optional(),
  }),
]);
export type TextPattern = z.infer<typeof TextPatternSchema>;

const PatternListSchema = z.array(TextPatternSchema).min(1).max(PolicyLimits.patterns);

/** When a rule applies: every field given must hold (an empty match applies to every store). */
export const PolicyMatchSchema = z
  .strictObject({
    /** Only stores in one of these namespaces. */
    namespaces: z.array(LabelSchema).min(1).max(Limits.filterValues).optional(),
    /** Only stores of these scopes. */
    scopes: z.array(ScopeSchema).min(1).optional(),
    /** Only stores of these kinds. */
    kinds: z.array(KindSchema).min(1).optional(),
    /** The text matches at least one of these patterns. */
    text: PatternListSchema.optional(),
    /** The text matches none of these patterns. */
    notText: PatternListSchema.optional(),
    /** The text has at least this many characters. */
    minLength: CountSchema.max(Limits.textLength).optional(),
    /** The text has at most this many characters. */
    maxLength: CountSchema.max(Limits.textLength).optional(),
    /** The metadata matches this filter (the query filter language). */
    metadata: MetadataFilterSchema.optional(),
    /** The categories the store was sent with match (any / all). */
    categories: LabelMatchSchema.optional(),
    /** The tags the store was sent with match (any / all). */
    tags: LabelMatchSchema.optional(),
  })
  .superRefine((match, context) => {
    if (
      match.minLength !== undefined &&
      match.maxLength !== undefined &&
      match.minLength > match.maxLength
    )
      addIssue(context, 'minLength', 'minLength is above maxLength: the rule can never match');
  });
export type PolicyMatch = z.infer<typeof PolicyMatchSchema>;

/** What a matching rule does. */
export const PolicyActionSchema = z.discriminatedUnion('type', [
  z.strictObject({
    /** Leave the store out: not embedded, not stored; its caller is told `dropped`. */
    type: z.literal('drop'),
    /** Why, in a word or two (`greeting`, `health-check-green`): told to the caller. */
    reason: RuleNameSchema,
  }),
  z.strictObject({
    /** Keep the store, adding labels and setting its importance. */
    type: z.literal('annotate'),
    /** Categories added to the store's own. */
    categories: z.array(LabelSchema).max(Limits.labelCount).optional(),
    /** Tags added to the store's own. */
    tags: z.array(LabelSchema).max(Limits.labelCount).optional(),
    /** The importance (0..1), replacing the store's; a later matching rule wins. */
    importance: z.number().min(0).max(1).optional(),
    /** Stop here: no later rule (no later drop) applies to a store this rule matched. */
    stop: z.boolean().optional(),
  }),
]);
export type PolicyAction = z.infer<typeof PolicyActionSchema>;

/** One rule: a name, when it applies, what it does. */
export const PolicyRuleSchema = z.strictObject({
  /** Unique in the policy; the metric label and what a dropped store's notice names. */
  name: RuleNameSchema,
  /** What the rule is for (for people). */
  description: z.string().max(500).optional(),
  /** When it applies. */
  match: PolicyMatchSchema.default({}),
  /** What it does. */
  action: PolicyActionSchema,
});
export type PolicyRule = z.infer<typeof PolicyRuleSchema>;

/** How long memories of a category live: a number of seconds, or `null` for never. */
export const CategoryExpirySchema = z.strictObject({
  /** A category the memory carries (after the rules added theirs). */
  category: LabelSchema,
  /** Seconds from the time it is written; `null`: never expires (no expiry set). */
  ttlSeconds: z
    .number()
    .int()
    .positive()
    .max(100 * 365 * 86_400)
    .nullable(),
});
export type CategoryExpiry = z.infer<typeof CategoryExpirySchema>;

/**
 * A tenant's ingest policy. Rules run in order on each store: the first matching `drop`
 * leaves it out; every matching `annotate` adds its labels (a `stop` ends the walk). Then the
 * first `expiry` entry whose category the memory carries sets its expiry, unless the caller
 * gave one (`expiresAt` / `ttlSeconds` are the caller's to decide).
 */
export const IngestPolicySchema = strictMessage({
  /** What the policy is for (for people). */
  description: z.string().max(2_000).optional(),
  /** Rules, in order. */
  rules: z.array(PolicyRuleSchema).max(PolicyLimits.rules).default([]),
  /** Expiry by category, first entry the memory carries wins. */
  expiry: z.array(CategoryExpirySchema).max(PolicyLimits.expiry).default([]),
}).superRefine((policy, context) => {
  const names = new Set<string>();
  for (const rule of policy.rules) {
    if (names.has(rule.name)) addIssue(context, 'rules', `rule name "${rule.name}" twice`);
    names.add(rule.name);
  }
  const bytes = Buffer.byteLength(JSON.stringify(policy));
  if (bytes > PolicyLimits.documentBytes)
    addIssue(
      context,
      'rules',
      `policy is ${bytes} bytes as JSON; the limit is ${PolicyLimits.documentBytes}`,
    );
});
export type IngestPolicyInput = z.input<typeof IngestPolicySchema>;
export type IngestPolicy = z.output<typeof IngestPolicySchema>;

/** One stored version of a tenant's policy. */
export const PolicyVersionSchema = z.object({
  /** 1, 2, 3, … per tenant; each change is a new version. */
  version: z.number().int().min(1),
  /** When it was written. */
  updatedAt: TimestampSchema,
  /** The policy itself. */
  policy: IngestPolicySchema,
});
export type PolicyVersion = z.infer<typeof PolicyVersionSchema>;

// ---------------------------------------------------------------- memory.policy.get.<tenant>

export const PolicyGetRequestSchema = strictMessage({
  /** A past version; default the current one. */
  version: z.number().int().min(1).optional(),
});
export type PolicyGetRequestInput = z.input<typeof PolicyGetRequestSchema>;
export const PolicyGetReplySchema = openMessage({
  /** The current version; 0 while the tenant has no policy (everything is kept). */
  version: CountSchema,
  /** The policy of `version` (absent at version 0). */
  policy: IngestPolicySchema.optional(),
  /** When `version` was written. */
  updatedAt: TimestampSchema.optional(),
});
export type PolicyGetReply = z.infer<typeof PolicyGetReplySchema>;

// ---------------------------------------------------------------- memory.policy.put.<tenant>

export const PolicyPutRequestSchema = strictMessage({
  /** The new policy (replaces the current one whole). */
  policy: IngestPolicySchema,
  /**
   * The version the change is based on (0 for the first policy): a put based on anything but
   * the current version fails with CONFLICT, so two writers never overwrite each other.
   */
  expectedVersion: CountSchema,
});
export type PolicyPutRequestInput = z.input<typeof PolicyPutRequestSchema>;
export const PolicyPutReplySchema = openMessage({
  /** The version just written (`expectedVersion + 1`). */
  version: z.number().int().min(1),
  updatedAt: TimestampSchema,
});
export type PolicyPutReply = z.infer<typeof PolicyPutReplySchema>;

// ---------------------------------------------------------------- memory.policy.history.<tenant>

export const PolicyHistoryRequestSchema = strictMessage({
  /** Versions below this one (paging back); default from the current one. */
  before: z.number().int().min(2).optional(),
  /** Versions per page, newest first. */
  limit: z.number().int().min(1).max(PolicyLimits.historyPage).default(20),
});
export type PolicyHistoryRequestInput = z.input<typeof PolicyHistoryRequestSchema>;
export const PolicyHistoryEntrySchema = z.object({
  version: z.number().int().min(1),
  updatedAt: TimestampSchema,
  /** Rules in that version (fetch the whole of it with get `{ version }`). */
  rules: CountSchema,
  /** The names of its rules, in order. */
  ruleNames: z.array(z.string()),
});
export type PolicyHistoryEntry = z.infer<typeof PolicyHistoryEntrySchema>;
export const PolicyHistoryReplySchema = openMessage({
  /** The current version (0: none). */
  version: CountSchema,
  /** Newest first. */
  versions: z.array(PolicyHistoryEntrySchema),
  /** Pass as `before` for older versions (absent on the last page). */
  nextBefore: z.number().int().optional(),
});
export type PolicyHistoryReply = z.infer<typeof PolicyHistoryReplySchema>;

// ---------------------------------------------------------------- memory.policy.changed.<tenant>

/** A tenant's policy changed: every embedder replica reloads it. */
export const PolicyChangedSchema = openMessage({
  /** The version now current. */
  version: z.number().int().min(1),
});
export type PolicyChanged = z.infer<typeof PolicyChangedSchema>;

/** Why a store was left out: told in its notice. */
export const PolicyDropSchema = z.object({
  /** The policy version that decided. */
  version: z.number().int().min(1),
  /** The rule that dropped it. */
  rule: z.string(),
  /** The rule's reason. */
  reason: z.string(),
});
export type PolicyDrop = z.infer<typeof PolicyDropSchema>;
