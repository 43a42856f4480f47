import type { MemoryRecord, MetadataFilter } from '@membus/contracts';
import type { IndexFilter } from '@membus/vector-index';
import { compileFilter, isExpired, toFilterPayload } from '@membus/vector-index';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type QdrantCondition,
  type QdrantFilter,
  toQdrantFilter,
  toQdrantPayload,
} from '../src/adapters/qdrant/index.ts';

/**
 * Property test of the translation against a MODEL of Qdrant's documented filter semantics
 * (match value/any: the value or any array element, strictly typed; range: numbers only, any
 * array element; is_empty: missing, null or []; must/should/must_not). No Qdrant server runs
 * here: this checks the translation's logic, the conformance suite against a real server
 * checks the model. Paths are evaluated both ways Qdrant versions have walked arrays
 * (not at all, or flattening arrays of objects): the result must not depend on it.
 */

type Walk = 'objects-only' | 'flatten-arrays';

function parseKey(key: string): string[] {
  return key.split('.').map((segment) => segment.replace(/^"(.*)"$/, '$1'));
}

/** The values a key path reaches (empty = missing). */
function valuesAt(payload: unknown, segments: string[], walk: Walk): unknown[] {
  if (segments.length === 0) return [payload];
  const [head, ...tail] = segments as [string, ...string[]];
  if (payload !== null && typeof payload === 'object' && !Array.isArray(payload)) {
    const record = payload as Record<string, unknown>;
    return Object.hasOwn(record, head) ? valuesAt(record[head], tail, walk) : [];
  }
  if (Array.isArray(payload) && walk === 'flatten-arrays')
    return payload.flatMap((item) => valuesAt(item, segments, walk));
  return [];
}

/** Scalars a condition compares: a top-level array contributes its elements. */
function scalars(values: unknown[]): unknown[] {
  return values.flatMap((value) => (Array.isArray(value) ? value : [value]));
}

function evaluate(condition: QdrantCondition, payload: unknown, walk: Walk): boolean {
  if ('is_empty' in condition) {
    const values = valuesAt(payload, parseKey(condition.is_empty.key), walk);
    return values.every((value) => value === null || (Array.isArray(value) && value.length === 0));
  }
  if ('key' in condition) {
    const items = scalars(valuesAt(payload, parseKey(condition.key), walk));
    if (condition.match !== undefined) {
      const match = condition.match;
      if ('value' in match) return items.some((item) => item === match.value);
      return items.some((item) => (match.any as unknown[]).includes(item));
    }
    if (condition.range !== undefined) {
      const { gt, gte, lt, lte } = condition.range;
      return items.some(
        (item) =>
          typeof item === 'number' &&
          (gt === undefined || item > gt) &&
          (gte === undefined || item >= gte) &&
          (lt === undefined || item < lt) &&
          (lte === undefined || item <= lte),
      );
    }
    throw new Error(`unmodelled condition ${JSON.stringify(condition)}`);
  }
  return evaluateFilter(condition, payload, walk);
}

function evaluateFilter(filter: QdrantFilter, payload: unknown, walk: Walk): boolean {
  const must = filter.must ?? [];
  const should = filter.should ?? [];
  const mustNot = filter.must_not ?? [];
  return (
    must.every((condition) => evaluate(condition, payload, walk)) &&
    (should.length === 0 || should.some((condition) => evaluate(condition, payload, walk))) &&
    !mustNot.some((condition) => evaluate(condition, payload, walk))
  );
}

const NOW = Date.parse('2026-06-01T00:00:00.000Z');

function record(n: number, metadata: Record<string, unknown>, extra: Partial<MemoryRecord> = {}) {
  return {
    id: `01900000-0000-7000-8000-${n.toString(16).padStart(12, '0')}`,
    tenant: 't1',
    scope: (['user', 'app', 'session'] as const)[n % 3] as 'user' | 'app' | 'session',
    userId: `u${n % 3}`,
    ...(n % 3 === 2 ? { sessionId: `s${(n % 2) + 1}` } : {}),
    kind: 'fact' as const,
    text: `memory ${n}`,
    metadata,
    categories: n % 2 === 0 ? ['a', 'b'] : ['b'],
    tags: n % 3 === 0 ? [] : ['x'],
    importance: 0.5,
    tier: 'short' as const,
    createdAt: new Date(Date.UTC(2026, 4, n + 1)).toISOString(),
    updatedAt: new Date(Date.UTC(2026, 4, n + 2)).toISOString(),
    accessCount: 0,
    contentHash: `h${n}`,
    embeddingModel: 'm',
    occurrences: 1,
    ...extra,
  } satisfies MemoryRecord;
}

/** Awkward metadata: arrays, arrays of objects, nulls, empty arrays, numbers as strings. */
const records: MemoryRecord[] = [
  record(1, { env: 'prod', n: 3, tags: ['x', 'y'], team: { name: 'core', size: 4 } }),
  record(2, { env: 'dev', n: '3', flag: true, team: [{ name: 'core' }], nothing: null }),
  record(3, { env: ['prod', 'dev'], n: [5, 1], flag: false, empty: [], team: { name: null } }),
  record(4, { n: 4.5, at: '2026-03-01', team: { size: '4' }, deep: { a: { b: 2 } } }),
  record(5, { env: 'staging', n: [3], at: '2026-01-15', flag: 'true', empty: {} }),
  record(6, {}, { expiresAt: '2026-05-20T00:00:00.000Z' }),
  record(7, { env: null, n: null, tags: [], deep: { a: [{ b: 2 }] } }),
  record(8, { 'dashed-key': 'v', nested: { 'dashed-key': 1 } }),
  { ...record(9, { env: 'prod', n: 3 }), tenant: 't2' },
];

const fields = [
  'env',
  'n',
  'flag',
  'tags',
  'team',
  'team.name',
  'team.size',
  'empty',
  'nothing',
  'at',
  'deep.a.b',
  'dashed-key',
  'nested.dashed-key',
  'missing',
];
const scalar = fc.oneof(
  fc.constantFrom('prod', 'dev', 'x', 'y', 'core', '3', '4', 'true', '2026-02-01', 'v'),
  fc.constantFrom(1, 2, 3, 4, 4.5, 5, -1),
  fc.boolean(),
);
const comparable = fc.oneof(
  fc.constantFrom(0, 1, 3, 4.5, 5),
  fc.constantFrom('2026-02-01', '3', 'core', 'a'),
);
const field = fc.constantFrom(...fields);
const condition: fc.Arbitrary<MetadataFilter> = fc.oneof(
  fc.record({ field, op: fc.constantFrom('eq' as const, 'ne' as const), value: scalar }),
  fc.record({
    field,
    op: fc.constantFrom('in' as const, 'nin' as const),
    value: fc.array(scalar, { minLength: 1, maxLength: 3 }),
  }),
  fc.record({
    field,
    op: fc.constantFrom('gt' as const, 'gte' as const, 'lt' as const, 'lte' as const),
    value: comparable,
  }),
  fc.record({ field, op: fc.constant('exists' as const), value: fc.boolean() }),
);
const metadataFilter: fc.Arbitrary<MetadataFilter> = fc.letrec<{ node: MetadataFilter }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    condition,
    fc.record({ and: fc.array(tie('node'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ or: fc.array(tie('node'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ not: tie('node') }),
  ),
})).node;
const indexFilter: fc.Arbitrary<IndexFilter> = fc.record(
  {
    metadata: metadataFilter,
    userId: fc.constantFrom('u0', 'u1', 'u2'),
    anyOf: fc.array(
      fc.record(
        {
          scope: fc.constantFrom('user' as const, 'app' as const, 'session' as const),
          userId: fc.constantFrom('u0', 'u1', 'u2'),
          sessionId: fc.constantFrom('s1', 's2'),
        },
        { requiredKeys: ['scope'] },
      ),
      { minLength: 1, maxLength: 3 },
    ),
    categories: fc.oneof(
      fc.record({ any: fc.constant<string[]>(['a']) }),
      fc.record({ all: fc.constant<string[]>(['a', 'b']) }),
    ),
    tags: fc.record({ any: fc.constant<string[]>(['x']) }),
    createdAt: fc.record({ gte: fc.constant('2026-05-03T00:00:00.000Z') }),
  },
  { requiredKeys: [] },
);

function expected(filter: IndexFilter): string[] {
  const matches = compileFilter(filter);
  return records
    .filter((item) => item.tenant === 't1')
    .filter((item) => {
      const payload = toFilterPayload(item, `d${item.id}`);
      return !isExpired(payload, NOW) && matches(payload);
    })
    .map((item) => item.id);
}

function selected(filter: IndexFilter, walk: Walk): string[] {
  const { filter: translated } = toQdrantFilter(filter, { tenant: 't1', now: NOW });
  return records
    .filter((item) =>
      evaluateFilter(translated, toQdrantPayload({ record: item, dedupKey: `d${item.id}` }), walk),
    )
    .map((item) => item.id);
}

describe('toQdrantFilter against a model of Qdrant semantics', () => {
  for (const walk of ['objects-only', 'flatten-arrays'] as const) {
    it(`selects exactly our matches when exact (paths walked ${walk})`, () => {
      fc.assert(
        fc.property(indexFilter, (filter) => {
          fc.pre(toQdrantFilter(filter, { tenant: 't1' }).exact);
          expect(selected(filter, walk)).toEqual(expected(filter));
        }),
        { numRuns: 3_000, seed: 42 },
      );
    });

    it(`selects a superset of our matches when relaxed (paths walked ${walk})`, () => {
      fc.assert(
        fc.property(indexFilter, (filter) => {
          const chosen = new Set(selected(filter, walk));
          expect(expected(filter).filter((id) => !chosen.has(id))).toEqual([]);
        }),
        { numRuns: 3_000, seed: 7 },
      );
    });
  }
});
