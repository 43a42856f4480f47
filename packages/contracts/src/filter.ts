import { z } from 'zod';
import { Limits } from './limits.ts';
import {
  FORBIDDEN_KEYS,
  KindSchema,
  LabelSchema,
  ScopeSchema,
  TierSchema,
  TimestampSchema,
} from './memory.ts';
import { CursorSchema, strictMessage, v1 } from './schema-parts.ts';

/** A dotted path into `metadata`, e.g. `deploy.platform`. */
export const FieldPathSchema = z
  .string()
  .min(1)
  .max(Limits.labelLength)
  .regex(
    /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/,
    'field must be a dotted path of [A-Za-z0-9_-] segments',
  )
  .refine(
    (path) => path.split('.').every((segment) => !FORBIDDEN_KEYS.has(segment)),
    'field path uses a forbidden segment',
  );

export const ScalarSchema = z.union([
  z.string().max(Limits.labelLength * 8),
  z.number(),
  z.boolean(),
]);
export type Scalar = z.infer<typeof ScalarSchema>;

const ComparableSchema = z.union([z.string().max(Limits.labelLength * 8), z.number()]);

/** One condition on a metadata field. */
export const ConditionSchema = z.discriminatedUnion('op', [
  z.object({ field: FieldPathSchema, op: z.enum(['eq', 'ne']), value: ScalarSchema }),
  z.object({
    field: FieldPathSchema,
    op: z.enum(['gt', 'gte', 'lt', 'lte']),
    value: ComparableSchema,
  }),
  z.object({
    field: FieldPathSchema,
    op: z.enum(['in', 'nin']),
    value: z.array(ScalarSchema).min(1).max(Limits.filterValues),
  }),
  z.object({ field: FieldPathSchema, op: z.literal('exists'), value: z.boolean() }),
]);
export type Condition = z.infer<typeof ConditionSchema>;
export type ConditionOp = Condition['op'];

/** Conditions combined with `and` / `or` / `not`. */
export type MetadataFilter =
  | Condition
  | { and: MetadataFilter[] }
  | { or: MetadataFilter[] }
  | { not: MetadataFilter };

const MetadataFilterNode: z.ZodType<MetadataFilter> = z.lazy(() =>
  z.union([
    ConditionSchema,
    z.strictObject({ and: z.array(MetadataFilterNode).min(1) }),
    z.strictObject({ or: z.array(MetadataFilterNode).min(1) }),
    z.strictObject({ not: MetadataFilterNode }),
  ]),
);

/** Counts conditions and depth so a filter stays cheap to evaluate. */
export function measureFilter(
  filter: MetadataFilter,
  depth = 1,
): { conditions: number; depth: number } {
  if ('and' in filter || 'or' in filter) {
    const children = 'and' in filter ? filter.and : filter.or;
    let conditions = 0;
    let maxDepth = depth;
    for (const child of children) {
      const measured = measureFilter(child, depth + 1);
      conditions += measured.conditions;
      maxDepth = Math.max(maxDepth, measured.depth);
    }
    return { conditions, depth: maxDepth };
  }
  if ('not' in filter) return measureFilter(filter.not, depth + 1);
  return { conditions: 1, depth };
}

export const MetadataFilterSchema = z
  .custom<MetadataFilter>()
  .superRefine((value, context) => {
    // Depth is checked before parsing so a hostile, deeply nested filter cannot recurse far.
    if (nestingDepth(value, Limits.filterDepth + 2) > Limits.filterDepth) {
      context.addIssue({
        code: 'custom',
        message: `metadata filter nested deeper than ${Limits.filterDepth}`,
      });
      return;
    }
    const parsed = MetadataFilterNode.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) context.addIssue(issue as never);
      return;
    }
    const { conditions } = measureFilter(parsed.data);
    if (conditions > Limits.filterConditions) {
      context.addIssue({
        code: 'custom',
        message: `metadata filter has ${conditions} conditions; the limit is ${Limits.filterConditions}`,
      });
    }
  })
  // Its JSON Schema (checked by code, depth first): a condition or and/or/not of filters.
  .meta({
    type: 'object',
    description: `A condition {field, op, value} (op: eq, ne, gt, gte, lt, lte, in, nin, exists) or {and: [filters]}, {or: [filters]}, {not: filter}; at most ${Limits.filterConditions} conditions, nested at most ${Limits.filterDepth} deep.`,
  });

function nestingDepth(value: unknown, cap: number): number {
  if (cap <= 0 || value === null || typeof value !== 'object') return 0;
  let deepest = 0;
  for (const child of Object.values(value)) {
    if (child !== null && typeof child === 'object')
      deepest = Math.max(deepest, nestingDepth(child, cap - 1));
    if (deepest >= cap) break;
  }
  return 1 + deepest;
}

/** Matches when a label list contains any / all of the given labels. */
export const LabelMatchSchema = z
  .strictObject({
    /** At least one of these. */
    any: z.array(LabelSchema).min(1).max(Limits.filterValues).optional(),
    /** Every one of these. */
    all: z.array(LabelSchema).min(1).max(Limits.filterValues).optional(),
  })
  .refine((match) => match.any !== undefined || match.all !== undefined, 'give `any` or `all`');
export type LabelMatch = z.infer<typeof LabelMatchSchema>;

/** An ISO-8601 time range; bounds are optional, at least one is given. */
export const TimeRangeSchema = z
  .strictObject({
    gt: TimestampSchema.optional(),
    gte: TimestampSchema.optional(),
    lt: TimestampSchema.optional(),
    lte: TimestampSchema.optional(),
  })
  .refine(
    (range) => Object.values(range).some((bound) => bound !== undefined),
    'give at least one bound',
  );
export type TimeRange = z.infer<typeof TimeRangeSchema>;

/** One scope to read in a cross-scope query, optionally narrowed to one owner. */
export const ScopeSelectorSchema = z.strictObject({
  /** The scope to read. */
  scope: ScopeSchema,
  /** Only this user's memories of that scope. */
  userId: LabelSchema.optional(),
  /** Only this agent's memories of that scope. */
  agentId: LabelSchema.optional(),
  /** Only this session's memories of that scope. */
  sessionId: LabelSchema.optional(),
});
export type ScopeSelector = z.infer<typeof ScopeSelectorSchema>;

/** Which memories a query, list, stats or delete applies to. All fields are ANDed. */
export const MemoryFilterSchema = z.strictObject({
  /** Only these memory ids. */
  ids: z.array(z.uuid()).min(1).max(Limits.ids).optional(),
  /** Only memories of these scopes. */
  scopes: z.array(ScopeSchema).min(1).optional(),
  /**
   * Cross-scope read: memories matching any one selector (e.g. this session's memories plus
   * app-wide ones). Each hit's `memory.scope` says which it came from.
   */
  anyOf: z.array(ScopeSelectorSchema).min(1).max(8).optional(),
  /** Only memories of this user. */
  userId: LabelSchema.optional(),
  /** Only memories of this agent. */
  agentId: LabelSchema.optional(),
  /** Only memories of this session. */
  sessionId: LabelSchema.optional(),
  /** Only memories of this namespace. */
  namespace: LabelSchema.optional(),
  /** Only these kinds. */
  kinds: z.array(KindSchema).min(1).optional(),
  /** Only these tiers. */
  tiers: z.array(TierSchema).min(1).optional(),
  /** Category match (any / all). */
  categories: LabelMatchSchema.optional(),
  /** Tag match (any / all). */
  tags: LabelMatchSchema.optional(),
  /** Conditions on metadata fields. */
  metadata: MetadataFilterSchema.optional(),
  /** Creation time range. */
  createdAt: TimeRangeSchema.optional(),
  /** Last-change time range. */
  updatedAt: TimeRangeSchema.optional(),
});
export type MemoryFilter = z.infer<typeof MemoryFilterSchema>;

/** True when the filter restricts nothing. */
export function isEmptyFilter(filter: MemoryFilter | undefined): boolean {
  return filter === undefined || Object.values(filter).every((value) => value === undefined);
}

/**
 * The fields of a version-1 request that pages through the memories a filter matches, newest
 * first (`memory.list`, and `memory.export` in the same order): up to `limit` a page, fewer when
 * more would pass `Limits.replyBytes`.
 */
export function filteredPageFields(defaultLimit: number) {
  return {
    v: v1,
    filter: MemoryFilterSchema.optional(),
    limit: z.number().int().min(1).max(Limits.pageSize).default(defaultLimit),
    /** Opaque cursor from the previous page. */
    cursor: CursorSchema.optional(),
  };
}

/** What `selectionRequest` checks of a request it parsed. */
type Selection = { ids?: readonly string[]; filter?: MemoryFilter };

/**
 * A version-1 request that applies to memories by `ids` or by a `filter`, then `fields`: one of
 * the two, and a filter that restricts something (an empty one would `verb` every memory).
 */
export function selectionRequest<const F extends z.ZodRawShape>(verb: string, fields: F) {
  return strictMessage({
    /** These memories (at most `Limits.ids`). */
    ids: z.array(z.uuid()).min(1).max(Limits.ids).optional(),
    /** Or the memories a (non-empty) filter matches. */
    filter: MemoryFilterSchema.optional(),
    ...fields,
  })
    .refine((request) => {
      const { ids, filter } = request as Selection;
      return (ids === undefined) !== (filter === undefined);
    }, 'give ids or filter')
    .refine((request) => {
      const { filter } = request as Selection;
      return filter === undefined || !isEmptyFilter(filter);
    }, `an empty filter would ${verb} everything; give at least one condition`);
}
