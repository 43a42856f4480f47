/**
 * Our filter language (`IndexFilter`, semantics in `@membus/vector-index`) translated to a
 * Qdrant filter. A pure function, unit-tested case by case without a server.
 *
 * Payload layout it relies on (written by `toQdrantPayload` in qdrant-points.ts):
 * `tenant`, `id`, `scope`, `userId`, `agentId`, `sessionId`, `namespace`, `kind`, `tier`,
 * `dedupKey` (keywords), `categories`, `tags` (keyword arrays), `createdAt`, `updatedAt`,
 * `expiresAt` (integers, ms since the epoch; `expiresAt` absent when the memory never
 * expires), `metadata` (the memory's metadata as is), and two derived keyword arrays:
 * `metadataPaths` (every dotted path, through objects only, whose value is present and not
 * null) and `metadataArrays` (the paths whose value is an array).
 *
 * Mapping (every top-level part is one `must` condition):
 *
 * | ours | Qdrant |
 * |---|---|
 * | tenant (from the subject) | `tenant` match value (keyword index with `is_tenant`) |
 * | live at `now` | should: [`is_empty expiresAt`, `expiresAt` range gt now] |
 * | `ids` | `id` match any |
 * | `scopes` / `kinds` / `tiers` | `scope` / `kind` / `tier` match any |
 * | `anyOf` (scope selectors) | should: one must per selector (scope match value + the owner ids it names) |
 * | `userId` / `agentId` / `sessionId` / `namespace` / `dedupKey` | match value |
 * | `categories.any` / `tags.any` | match any (an array matches when one element does) |
 * | `categories.all` / `tags.all` | one match value per label, all in `must` |
 * | `createdAt` / `updatedAt` range | range on the ms number, bounds parsed with Date.parse |
 * | metadata `eq` string / boolean | `metadata.<path>` match value (strict type; arrays: any element) |
 * | metadata `eq` number | `metadata.<path>` range gte = lte = value (Qdrant's match takes integers only; range reads only numbers) |
 * | metadata `in` | should: one `eq` per value (strings grouped into one match any) |
 * | metadata `ne` / `nin` | must_not: [`eq` / `in`] — so a missing field matches, as ours |
 * | metadata `gt`/`gte`/`lt`/`lte` number | range on `metadata.<path>` and must_not `metadataArrays` match path (ours is false for arrays, Qdrant's range would match any element) |
 * | metadata `gt`/`gte`/`lt`/`lte` string | no Qdrant equivalent (range is numeric only): relaxed, see below |
 * | metadata `exists: true` / `false` | `metadataPaths` match path / must_not it (ours: present and not null; Qdrant's is_empty also treats `[]` as empty, so it is not used) |
 * | `and` / `or` / `not` | must / should / must_not |
 *
 * A dotted path of two or more segments also requires `metadataPaths` to contain it, so the
 * result does not depend on how Qdrant walks a path through an array (ours: such a path is
 * missing).
 *
 * Where no exact translation exists (string comparisons), the part is relaxed to a
 * superset of what it selects — `true` where it counts positively, `false` under an odd
 * number of `not`/`ne`/`nin` — and `exact` is false: the adapter then re-checks every
 * candidate with `compileFilter` and over-fetches, so results are still exact.
 */
import type {
  Condition,
  LabelMatch,
  MetadataFilter,
  ScopeSelector,
  TimeRange,
} from '@membus/contracts';
import type { IndexFilter } from '@membus/vector-index';

/** The subset of Qdrant's filter JSON this module produces. */
export interface QdrantFilter {
  must?: QdrantCondition[];
  should?: QdrantCondition[];
  must_not?: QdrantCondition[];
}

export type QdrantCondition =
  | {
      key: string;
      match?: { value: string | number | boolean } | { any: string[] | number[] };
      range?: { gt?: number; gte?: number; lt?: number; lte?: number };
    }
  | { is_empty: { key: string } }
  | QdrantFilter;

export interface TranslatedFilter {
  /** The Qdrant filter: exactly ours when `exact`, else a superset of it. */
  filter: QdrantFilter;
  /** False when some part was relaxed and results must be re-checked in process. */
  exact: boolean;
}

export interface TranslationContext {
  /** Tenant from the subject. */
  tenant: string;
  /** Current time (ms since epoch): adds the "not expired" condition; omit to skip it. */
  now?: number;
}

/** Payload keys, shared with the adapter. */
export const PayloadKeys = {
  tenant: 'tenant',
  id: 'id',
  scope: 'scope',
  userId: 'userId',
  agentId: 'agentId',
  sessionId: 'sessionId',
  namespace: 'namespace',
  kind: 'kind',
  tier: 'tier',
  categories: 'categories',
  tags: 'tags',
  dedupKey: 'dedupKey',
  createdAt: 'createdAt',
  updatedAt: 'updatedAt',
  expiresAt: 'expiresAt',
  metadata: 'metadata',
  metadataPaths: 'metadataPaths',
  metadataArrays: 'metadataArrays',
  record: 'record',
} as const;

/** Matches no point: every point has a tenant. */
export const MATCH_NOTHING: QdrantCondition = Object.freeze({
  is_empty: Object.freeze({ key: PayloadKeys.tenant }),
}) as QdrantCondition;

/** Translates a filter (plus tenant and expiry) into one Qdrant filter. */
export function toQdrantFilter(
  filter: IndexFilter | undefined,
  context: TranslationContext,
): TranslatedFilter {
  const must: QdrantCondition[] = [{ key: PayloadKeys.tenant, match: { value: context.tenant } }];
  if (context.now !== undefined) {
    must.push({
      should: [
        { is_empty: { key: PayloadKeys.expiresAt } },
        { key: PayloadKeys.expiresAt, range: { gt: context.now } },
      ],
    });
  }
  let exact = true;
  if (filter !== undefined) {
    if (filter.ids !== undefined) must.push(matchAny(PayloadKeys.id, filter.ids));
    if (filter.scopes !== undefined) must.push(matchAny(PayloadKeys.scope, filter.scopes));
    if (filter.anyOf !== undefined) must.push(scopeSelectors(filter.anyOf));
    if (filter.kinds !== undefined) must.push(matchAny(PayloadKeys.kind, filter.kinds));
    if (filter.tiers !== undefined) must.push(matchAny(PayloadKeys.tier, filter.tiers));
    for (const key of ['userId', 'agentId', 'sessionId', 'namespace', 'dedupKey'] as const) {
      const value = filter[key];
      if (value !== undefined) must.push({ key: PayloadKeys[key], match: { value } });
    }
    if (filter.categories !== undefined)
      must.push(...labelConditions(PayloadKeys.categories, filter.categories));
    if (filter.tags !== undefined) must.push(...labelConditions(PayloadKeys.tags, filter.tags));
    if (filter.createdAt !== undefined)
      must.push(rangeCondition(PayloadKeys.createdAt, filter.createdAt));
    if (filter.updatedAt !== undefined)
      must.push(rangeCondition(PayloadKeys.updatedAt, filter.updatedAt));
    if (filter.metadata !== undefined) {
      const translated = translateMetadata(filter.metadata, true);
      exact = translated.exact;
      if (translated.condition === FALSE) must.push(MATCH_NOTHING);
      else if (translated.condition !== TRUE) must.push(translated.condition);
    }
  }
  return { filter: { must }, exact };
}

function matchAny(key: string, values: readonly string[]): QdrantCondition {
  if (values.length === 0) return MATCH_NOTHING;
  return { key, match: { any: [...new Set(values)] } };
}

/** One `should` branch per selector: its scope and the owner ids it names. */
function scopeSelectors(selectors: readonly ScopeSelector[]): QdrantCondition {
  if (selectors.length === 0) return MATCH_NOTHING;
  return {
    should: selectors.map((selector) => ({
      must: [
        { key: PayloadKeys.scope, match: { value: selector.scope } },
        ...(['userId', 'agentId', 'sessionId'] as const).flatMap((key) => {
          const value = selector[key];
          return value === undefined ? [] : [{ key: PayloadKeys[key], match: { value } }];
        }),
      ],
    })),
  };
}

function labelConditions(key: string, match: LabelMatch): QdrantCondition[] {
  const conditions: QdrantCondition[] = [];
  if (match.any !== undefined) conditions.push(matchAny(key, match.any));
  if (match.all !== undefined) {
    for (const label of new Set(match.all)) conditions.push({ key, match: { value: label } });
  }
  return conditions;
}

function rangeCondition(key: string, range: TimeRange): QdrantCondition {
  const bounds: { gt?: number; gte?: number; lt?: number; lte?: number } = {};
  if (range.gt !== undefined) bounds.gt = Date.parse(range.gt);
  if (range.gte !== undefined) bounds.gte = Date.parse(range.gte);
  if (range.lt !== undefined) bounds.lt = Date.parse(range.lt);
  if (range.lte !== undefined) bounds.lte = Date.parse(range.lte);
  return { key, range: bounds };
}

/** Constant results of a relaxed or simplified part. */
const TRUE = Symbol('true');
const FALSE = Symbol('false');
type Translated = { condition: QdrantCondition | typeof TRUE | typeof FALSE; exact: boolean };

/**
 * `positive`: the node counts towards a match (relax to `true`); false under a negation
 * (relax to `false`, so the negation is still a superset).
 */
function translateMetadata(node: MetadataFilter, positive: boolean): Translated {
  if ('and' in node) {
    return combine(
      node.and.map((child) => translateMetadata(child, positive)),
      'must',
    );
  }
  if ('or' in node) {
    return combine(
      node.or.map((child) => translateMetadata(child, positive)),
      'should',
    );
  }
  if ('not' in node) return negate(translateMetadata(node.not, !positive));
  return translateCondition(node, positive);
}

function combine(children: Translated[], mode: 'must' | 'should'): Translated {
  const exact = children.every((child) => child.exact);
  // must: TRUE is neutral, FALSE absorbs; should: the other way round.
  const neutral = mode === 'must' ? TRUE : FALSE;
  const absorbing = mode === 'must' ? FALSE : TRUE;
  const conditions: QdrantCondition[] = [];
  for (const child of children) {
    if (child.condition === absorbing) return { condition: absorbing, exact };
    if (child.condition !== neutral) conditions.push(child.condition as QdrantCondition);
  }
  if (conditions.length === 0) return { condition: neutral, exact };
  if (conditions.length === 1) return { condition: conditions[0] as QdrantCondition, exact };
  return { condition: { [mode]: conditions }, exact };
}

function negate(child: Translated): Translated {
  if (child.condition === TRUE) return { condition: FALSE, exact: child.exact };
  if (child.condition === FALSE) return { condition: TRUE, exact: child.exact };
  return { condition: { must_not: [child.condition] }, exact: child.exact };
}

function translateCondition(condition: Condition, positive: boolean): Translated {
  const key = metadataKey(condition.field);
  switch (condition.op) {
    case 'eq':
      return exactly(withPresence(condition.field, equals(key, condition.value)));
    case 'ne':
      return exactly({
        must_not: [withPresence(condition.field, equals(key, condition.value))],
      });
    case 'in':
      return exactly(withPresence(condition.field, oneOf(key, condition.value)));
    case 'nin':
      return exactly({ must_not: [withPresence(condition.field, oneOf(key, condition.value))] });
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      if (typeof condition.value !== 'number') {
        // Lexicographic string ranges have no Qdrant form: relax and re-check in process.
        return { condition: positive ? TRUE : FALSE, exact: false };
      }
      return exactly({
        must: [...presence(condition.field), { key, range: { [condition.op]: condition.value } }],
        must_not: [{ key: PayloadKeys.metadataArrays, match: { value: condition.field } }],
      });
    }
    case 'exists': {
      const present: QdrantCondition = {
        key: PayloadKeys.metadataPaths,
        match: { value: condition.field },
      };
      return exactly(condition.value ? present : { must_not: [present] });
    }
  }
}

function exactly(condition: QdrantCondition): Translated {
  return { condition, exact: true };
}

/** `metadata.<path>`; field paths are `[A-Za-z0-9_-]` segments (FieldPathSchema). */
export function metadataKey(field: string): string {
  const segments = field
    .split('.')
    .map((segment) => (/^[A-Za-z0-9_]+$/.test(segment) ? segment : `"${segment}"`));
  return `${PayloadKeys.metadata}.${segments.join('.')}`;
}

function presence(field: string): QdrantCondition[] {
  return field.includes('.') ? [{ key: PayloadKeys.metadataPaths, match: { value: field } }] : [];
}

function withPresence(field: string, condition: QdrantCondition): QdrantCondition {
  const guards = presence(field);
  return guards.length === 0 ? condition : { must: [...guards, condition] };
}

function equals(key: string, value: string | number | boolean): QdrantCondition {
  // Qdrant's match takes strings, integers and booleans; a range reads numbers only, so
  // gte = lte = value is a strict numeric equality for floats and integers alike.
  if (typeof value === 'number') return { key, range: { gte: value, lte: value } };
  return { key, match: { value } };
}

function oneOf(key: string, values: readonly (string | number | boolean)[]): QdrantCondition {
  const strings = [...new Set(values.filter((value) => typeof value === 'string'))];
  const others = [...new Set(values.filter((value) => typeof value !== 'string'))];
  const conditions: QdrantCondition[] = [];
  if (strings.length === 1) conditions.push({ key, match: { value: strings[0] as string } });
  if (strings.length > 1) conditions.push({ key, match: { any: strings } });
  for (const value of others) conditions.push(equals(key, value));
  return conditions.length === 1 ? (conditions[0] as QdrantCondition) : { should: conditions };
}

/**
 * The derived payload arrays: every dotted path (through objects, not arrays, with segments
 * a filter can name) whose value is present and not null, and the paths holding arrays.
 */
export function metadataPathIndex(metadata: Readonly<Record<string, unknown>>): {
  paths: string[];
  arrays: string[];
} {
  const paths: string[] = [];
  const arrays: string[] = [];
  const walk = (value: Readonly<Record<string, unknown>>, prefix: string): void => {
    for (const [key, child] of Object.entries(value)) {
      if (!/^[A-Za-z0-9_-]+$/.test(key)) continue;
      const path = prefix === '' ? key : `${prefix}.${key}`;
      if (child === null || child === undefined) continue;
      paths.push(path);
      if (Array.isArray(child)) arrays.push(path);
      else if (typeof child === 'object') walk(child as Record<string, unknown>, path);
    }
  };
  walk(metadata, '');
  return { paths, arrays };
}
