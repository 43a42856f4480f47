/**
 * Evaluates an `IndexFilter` against a memory's filterable payload, in memory. Used by the
 * embedded index (and by any adapter that must post-filter). All top-level fields are ANDed;
 * an absent field restricts nothing.
 *
 * - `ids`: the memory id is in the list.
 * - `scopes`, `kinds`, `tiers`: the memory's value is in the list.
 * - `userId`, `agentId`, `sessionId`, `namespace`, `dedupKey`: exact equality; a memory
 *   without the field never matches.
 * - `categories` / `tags`: `any` = the memory has at least one of the labels; `all` = it has
 *   every one of them; when both are given, both must hold.
 * - `createdAt` / `updatedAt`: `gt`, `gte`, `lt`, `lte` on ISO-8601 timestamps, compared as
 *   milliseconds since the epoch.
 * - `metadata`: conditions on dotted paths into `metadata` (`a.b.c` walks nested objects;
 *   a path through an array or a non-object is missing). A field holding `null` counts as
 *   present for `eq`/`ne` but absent for `exists`.
 *   - `eq`: the field equals the scalar (strict: `3` does not equal `'3'`), or the field is an
 *     array containing the scalar.
 *   - `ne`: exactly NOT `eq`, so a missing field matches `ne`.
 *   - `in`: `eq` any of the values; `nin`: NOT `in` (a missing field matches `nin`).
 *   - `gt`, `gte`, `lt`, `lte`: number with number, or string with string (lexicographic, so
 *     ISO-8601 dates in one format compare correctly); a missing field, an array or a type
 *     mismatch is false.
 *   - `exists: true`: the field is present and not `null`; `exists: false`: its negation.
 *   - `and` (all hold), `or` (at least one holds), `not` (negation).
 *
 * Expiry is separate from the filter: `isExpired` (`expiresAt <= now`), and `matchesFilter`
 * combines both. Compile a filter once per request with `compileFilter`; the returned closure
 * does no tree walking or timestamp parsing per memory.
 */
import type {
  Condition,
  LabelMatch,
  MemoryRecord,
  MetadataFilter,
  OwnerIds,
  TimeRange,
} from '@membus/contracts';
import type { IndexFilter } from './vector-index.ts';

/** The filterable part of a memory: everything a filter can test, without the text. */
export interface FilterPayload extends OwnerIds {
  /** Memory id. */
  readonly id: string;
  /** Scope (`app`, `user`, `agent`, `session`). */
  readonly scope: string;
  /** Kind. */
  readonly kind: string;
  /** Tier. */
  readonly tier: string;
  /** Categories (no duplicates needed). */
  readonly categories: readonly string[];
  /** Tags. */
  readonly tags: readonly string[];
  /** Creation time, ms since epoch. */
  readonly createdAt: number;
  /** Last-change time, ms since epoch. */
  readonly updatedAt: number;
  /** Expiry, ms since epoch, if any. */
  readonly expiresAt?: number | undefined;
  /** Exact-duplicate key, if any. */
  readonly dedupKey?: string | undefined;
  /** Parsed metadata. */
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** A compiled filter: true when the payload matches (expiry not included). */
export type CompiledFilter = (payload: FilterPayload) => boolean;

const matchAll: CompiledFilter = () => true;

/** Builds the filterable payload of a record. */
export function toFilterPayload(record: MemoryRecord, dedupKey?: string): FilterPayload {
  return {
    id: record.id,
    scope: record.scope,
    userId: record.userId,
    agentId: record.agentId,
    sessionId: record.sessionId,
    namespace: record.namespace,
    kind: record.kind,
    tier: record.tier,
    categories: record.categories,
    tags: record.tags,
    createdAt: Date.parse(record.createdAt),
    updatedAt: Date.parse(record.updatedAt),
    expiresAt: record.expiresAt === undefined ? undefined : Date.parse(record.expiresAt),
    dedupKey,
    metadata: record.metadata,
  };
}

/** True when the memory has expired at `now` (ms since epoch). */
export function isExpired(payload: Pick<FilterPayload, 'expiresAt'>, now: number): boolean {
  return payload.expiresAt !== undefined && payload.expiresAt <= now;
}

/** True when the memory is live at `now` and matches the filter. */
export function matchesFilter(
  payload: FilterPayload,
  filter: IndexFilter | undefined,
  now: number,
): boolean {
  return !isExpired(payload, now) && compileFilter(filter)(payload);
}

/** Compiles a filter into one closure; `undefined` or an empty filter matches everything. */
export function compileFilter(filter: IndexFilter | undefined): CompiledFilter {
  if (filter === undefined) return matchAll;
  const checks: CompiledFilter[] = [];
  if (filter.ids !== undefined) {
    const ids = new Set(filter.ids);
    checks.push((payload) => ids.has(payload.id));
  }
  if (filter.scopes !== undefined) {
    const scopes = new Set<string>(filter.scopes);
    checks.push((payload) => scopes.has(payload.scope));
  }
  if (filter.anyOf !== undefined) {
    const selectors = filter.anyOf;
    checks.push((payload) =>
      selectors.some(
        (selector) =>
          payload.scope === selector.scope &&
          (selector.userId === undefined || payload.userId === selector.userId) &&
          (selector.agentId === undefined || payload.agentId === selector.agentId) &&
          (selector.sessionId === undefined || payload.sessionId === selector.sessionId),
      ),
    );
  }
  pushEquality(checks, filter.userId, (payload) => payload.userId);
  pushEquality(checks, filter.agentId, (payload) => payload.agentId);
  pushEquality(checks, filter.sessionId, (payload) => payload.sessionId);
  pushEquality(checks, filter.namespace, (payload) => payload.namespace);
  pushEquality(checks, filter.dedupKey, (payload) => payload.dedupKey);
  if (filter.kinds !== undefined) {
    const kinds = new Set<string>(filter.kinds);
    checks.push((payload) => kinds.has(payload.kind));
  }
  if (filter.tiers !== undefined) {
    const tiers = new Set<string>(filter.tiers);
    checks.push((payload) => tiers.has(payload.tier));
  }
  if (filter.categories !== undefined)
    checks.push(...compileLabelMatch(filter.categories, (payload) => payload.categories));
  if (filter.tags !== undefined)
    checks.push(...compileLabelMatch(filter.tags, (payload) => payload.tags));
  if (filter.createdAt !== undefined) {
    const inRange = compileTimeRange(filter.createdAt);
    checks.push((payload) => inRange(payload.createdAt));
  }
  if (filter.updatedAt !== undefined) {
    const inRange = compileTimeRange(filter.updatedAt);
    checks.push((payload) => inRange(payload.updatedAt));
  }
  if (filter.metadata !== undefined) {
    const matches = compileMetadataFilter(filter.metadata);
    checks.push((payload) => matches(payload.metadata));
  }
  return conjunction(checks);
}

function conjunction<T>(checks: ((value: T) => boolean)[]): (value: T) => boolean {
  if (checks.length === 0) return () => true;
  if (checks.length === 1) return checks[0]!;
  if (checks.length === 2) {
    const [first, second] = checks as [(value: T) => boolean, (value: T) => boolean];
    return (value) => first(value) && second(value);
  }
  return (value) => {
    for (const check of checks) if (!check(value)) return false;
    return true;
  };
}

function pushEquality(
  checks: CompiledFilter[],
  expected: string | undefined,
  read: (payload: FilterPayload) => string | undefined,
): void {
  if (expected === undefined) return;
  checks.push((payload) => read(payload) === expected);
}

function compileLabelMatch(
  match: LabelMatch,
  read: (payload: FilterPayload) => readonly string[],
): CompiledFilter[] {
  const checks: CompiledFilter[] = [];
  const any = match.any;
  if (any !== undefined) {
    const wanted = new Set(any);
    checks.push((payload) => read(payload).some((label) => wanted.has(label)));
  }
  const all = match.all;
  if (all !== undefined) {
    const wanted = [...new Set(all)];
    checks.push((payload) => {
      const labels = read(payload);
      return wanted.every((label) => labels.includes(label));
    });
  }
  return checks;
}

function compileTimeRange(range: TimeRange): (ms: number) => boolean {
  const checks: ((ms: number) => boolean)[] = [];
  if (range.gt !== undefined) {
    const bound = Date.parse(range.gt);
    checks.push((ms) => ms > bound);
  }
  if (range.gte !== undefined) {
    const bound = Date.parse(range.gte);
    checks.push((ms) => ms >= bound);
  }
  if (range.lt !== undefined) {
    const bound = Date.parse(range.lt);
    checks.push((ms) => ms < bound);
  }
  if (range.lte !== undefined) {
    const bound = Date.parse(range.lte);
    checks.push((ms) => ms <= bound);
  }
  return conjunction(checks);
}

type MetadataPredicate = (metadata: Readonly<Record<string, unknown>>) => boolean;

/** Marks a metadata path that does not resolve. */
const MISSING: unique symbol = Symbol('missing');

function compileMetadataFilter(filter: MetadataFilter): MetadataPredicate {
  if ('and' in filter) return conjunction(filter.and.map(compileMetadataFilter));
  if ('or' in filter) {
    const children = filter.or.map(compileMetadataFilter);
    return (metadata) => {
      for (const child of children) if (child(metadata)) return true;
      return false;
    };
  }
  if ('not' in filter) {
    const child = compileMetadataFilter(filter.not);
    return (metadata) => !child(metadata);
  }
  return compileCondition(filter);
}

function compilePath(field: string): (metadata: Readonly<Record<string, unknown>>) => unknown {
  const segments = field.split('.');
  if (segments.length === 1) {
    const key = segments[0]!;
    return (metadata) => (Object.hasOwn(metadata, key) ? metadata[key] : MISSING);
  }
  return (metadata) => {
    let current: unknown = metadata;
    for (const segment of segments) {
      if (current === null || typeof current !== 'object' || Array.isArray(current)) return MISSING;
      if (!Object.hasOwn(current, segment)) return MISSING;
      current = (current as Record<string, unknown>)[segment];
    }
    return current;
  };
}

function equalsScalar(value: unknown, expected: unknown): boolean {
  if (value === expected) return true;
  return Array.isArray(value) && value.includes(expected);
}

function compileCondition(condition: Condition): MetadataPredicate {
  const read = compilePath(condition.field);
  switch (condition.op) {
    case 'eq': {
      const expected = condition.value;
      return (metadata) => equalsScalar(read(metadata), expected);
    }
    case 'ne': {
      const expected = condition.value;
      return (metadata) => !equalsScalar(read(metadata), expected);
    }
    case 'in': {
      const expected = new Set<unknown>(condition.value);
      return (metadata) => inSet(read(metadata), expected);
    }
    case 'nin': {
      const expected = new Set<unknown>(condition.value);
      return (metadata) => !inSet(read(metadata), expected);
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const bound = condition.value;
      const kind = typeof bound;
      const compare = comparators[condition.op];
      return (metadata) => {
        const value = read(metadata);
        return typeof value === kind && compare(value as string | number, bound);
      };
    }
    case 'exists': {
      const wanted = condition.value;
      return (metadata) => {
        const value = read(metadata);
        return (value !== MISSING && value !== null) === wanted;
      };
    }
  }
}

function inSet(value: unknown, expected: ReadonlySet<unknown>): boolean {
  if (Array.isArray(value)) {
    for (const item of value) if (expected.has(item)) return true;
    return false;
  }
  return value !== MISSING && expected.has(value);
}

const comparators: Record<
  'gt' | 'gte' | 'lt' | 'lte',
  (a: string | number, b: string | number) => boolean
> = {
  gt: (a, b) => a > b,
  gte: (a, b) => a >= b,
  lt: (a, b) => a < b,
  lte: (a, b) => a <= b,
};
