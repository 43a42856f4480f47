import type { MetadataFilter } from '@membus/contracts';
import type { IndexFilter } from '@membus/vector-index';
import { describe, expect, it } from 'vitest';
import {
  metadataPathIndex,
  qdrantCollectionName,
  qdrantPointId,
  toQdrantFilter,
  toQdrantPayload,
} from '../src/adapters/qdrant/index.ts';

// The translation is a pure function, tested here without a server; the conformance suite
// (qdrant-vector-index.test.ts) checks the same semantics against a real Qdrant.

const TENANT = { key: 'tenant', match: { value: 't1' } };
const NOTHING = { is_empty: { key: 'tenant' } };

/** The conditions a filter adds after the tenant condition (no `now`). */
function conditions(filter: IndexFilter): unknown[] {
  return (toQdrantFilter(filter, { tenant: 't1' }).filter.must ?? []).slice(1);
}

describe('toQdrantFilter: tenant and expiry', () => {
  it('always restricts to the tenant', () => {
    expect(toQdrantFilter(undefined, { tenant: 't1' }).filter).toEqual({ must: [TENANT] });
  });

  it('keeps memories without expiresAt or expiring after now', () => {
    expect(toQdrantFilter(undefined, { tenant: 't1', now: 1000 }).filter.must?.[1]).toEqual({
      should: [{ is_empty: { key: 'expiresAt' } }, { key: 'expiresAt', range: { gt: 1000 } }],
    });
  });

  it('is exact for a filter without string comparisons', () => {
    expect(toQdrantFilter({ userId: 'u1' }, { tenant: 't1' }).exact).toBe(true);
  });
});

describe('toQdrantFilter: record fields', () => {
  const cases: { title: string; filter: IndexFilter; expected: unknown[] }[] = [
    {
      title: 'ids → id match any',
      filter: { ids: ['a', 'b'] },
      expected: [{ key: 'id', match: { any: ['a', 'b'] } }],
    },
    {
      title: 'scopes → scope match any',
      filter: { scopes: ['user', 'agent'] },
      expected: [{ key: 'scope', match: { any: ['user', 'agent'] } }],
    },
    {
      title: 'anyOf → should of one must per selector',
      filter: { anyOf: [{ scope: 'session', sessionId: 's1' }, { scope: 'app' }] },
      expected: [
        {
          should: [
            {
              must: [
                { key: 'scope', match: { value: 'session' } },
                { key: 'sessionId', match: { value: 's1' } },
              ],
            },
            { must: [{ key: 'scope', match: { value: 'app' } }] },
          ],
        },
      ],
    },
    {
      title: 'kinds → kind match any',
      filter: { kinds: ['fact'] },
      expected: [{ key: 'kind', match: { any: ['fact'] } }],
    },
    {
      title: 'tiers → tier match any',
      filter: { tiers: ['mid'] },
      expected: [{ key: 'tier', match: { any: ['mid'] } }],
    },
    {
      title: 'owner ids, namespace and dedupKey → match value',
      filter: { userId: 'u', agentId: 'a', sessionId: 's', namespace: 'n', dedupKey: 'd' },
      expected: [
        { key: 'userId', match: { value: 'u' } },
        { key: 'agentId', match: { value: 'a' } },
        { key: 'sessionId', match: { value: 's' } },
        { key: 'namespace', match: { value: 'n' } },
        { key: 'dedupKey', match: { value: 'd' } },
      ],
    },
    {
      title: 'categories any → match any',
      filter: { categories: { any: ['x', 'y'] } },
      expected: [{ key: 'categories', match: { any: ['x', 'y'] } }],
    },
    {
      title: 'tags all → one match value per label',
      filter: { tags: { all: ['a', 'b'] } },
      expected: [
        { key: 'tags', match: { value: 'a' } },
        { key: 'tags', match: { value: 'b' } },
      ],
    },
    {
      title: 'categories any and all → both',
      filter: { categories: { any: ['x'], all: ['y'] } },
      expected: [
        { key: 'categories', match: { any: ['x'] } },
        { key: 'categories', match: { value: 'y' } },
      ],
    },
    {
      title: 'createdAt bounds → range in ms, offsets resolved',
      filter: { createdAt: { gte: '2026-05-03T00:00:00.000Z', lt: '2026-05-03T02:00:00+02:00' } },
      expected: [
        {
          key: 'createdAt',
          range: {
            gte: Date.parse('2026-05-03T00:00:00.000Z'),
            lt: Date.parse('2026-05-03T00:00:00.000Z'),
          },
        },
      ],
    },
    {
      title: 'updatedAt gt/lte → range in ms',
      filter: { updatedAt: { gt: '2026-05-01T00:00:00.000Z', lte: '2026-05-02T00:00:00.000Z' } },
      expected: [
        {
          key: 'updatedAt',
          range: {
            gt: Date.parse('2026-05-01T00:00:00.000Z'),
            lte: Date.parse('2026-05-02T00:00:00.000Z'),
          },
        },
      ],
    },
  ];
  for (const { title, filter, expected } of cases) {
    it(title, () => {
      expect(conditions(filter)).toEqual(expected);
    });
  }
});

describe('toQdrantFilter: metadata conditions', () => {
  /** The condition that a metadata path is present. */
  const present = (path: string) => ({ key: 'metadataPaths', match: { value: path } });
  const cases: [title: string, filter: IndexFilter['metadata'], expected: unknown][] = [
    [
      'eq string → match value',
      { field: 'env', op: 'eq', value: 'prod' },
      { key: 'metadata.env', match: { value: 'prod' } },
    ],
    [
      'eq boolean → match value',
      { field: 'flag', op: 'eq', value: true },
      { key: 'metadata.flag', match: { value: true } },
    ],
    [
      'eq number → range gte = lte (floats included)',
      { field: 'duration', op: 'eq', value: 45.3 },
      { key: 'metadata.duration', range: { gte: 45.3, lte: 45.3 } },
    ],
    [
      'eq on a nested path also requires the path in metadataPaths',
      { field: 'team.name', op: 'eq', value: 'core' },
      {
        must: [present('team.name'), { key: 'metadata.team.name', match: { value: 'core' } }],
      },
    ],
    [
      'a segment with a hyphen is quoted',
      { field: 'deploy.target-env', op: 'eq', value: 'x' },
      {
        must: [
          present('deploy.target-env'),
          { key: 'metadata.deploy."target-env"', match: { value: 'x' } },
        ],
      },
    ],
    [
      'ne → must_not eq (a missing field matches)',
      { field: 'env', op: 'ne', value: 'prod' },
      { must_not: [{ key: 'metadata.env', match: { value: 'prod' } }] },
    ],
    [
      'in with one string → match value',
      { field: 'env', op: 'in', value: ['dev'] },
      { key: 'metadata.env', match: { value: 'dev' } },
    ],
    [
      'in with strings, a number and a boolean → should of each type',
      { field: 'v', op: 'in', value: ['a', 'b', 3, false] },
      {
        should: [
          { key: 'metadata.v', match: { any: ['a', 'b'] } },
          { key: 'metadata.v', range: { gte: 3, lte: 3 } },
          { key: 'metadata.v', match: { value: false } },
        ],
      },
    ],
    [
      'nin → must_not in',
      { field: 'env', op: 'nin', value: ['prod', 'dev'] },
      { must_not: [{ key: 'metadata.env', match: { any: ['prod', 'dev'] } }] },
    ],
    [
      'gt number → range, arrays excluded',
      { field: 'priority', op: 'gt', value: 3 },
      {
        must: [{ key: 'metadata.priority', range: { gt: 3 } }],
        must_not: [{ key: 'metadataArrays', match: { value: 'priority' } }],
      },
    ],
    [
      'lte number on a nested path → presence, range, arrays excluded',
      { field: 'a.b', op: 'lte', value: 1 },
      {
        must: [present('a.b'), { key: 'metadata.a.b', range: { lte: 1 } }],
        must_not: [{ key: 'metadataArrays', match: { value: 'a.b' } }],
      },
    ],
    [
      'exists true → metadataPaths match',
      { field: 'team', op: 'exists', value: true },
      present('team'),
    ],
    [
      'exists false → must_not metadataPaths match',
      { field: 'team.name', op: 'exists', value: false },
      { must_not: [present('team.name')] },
    ],
    [
      'and → must',
      {
        and: [
          { field: 'env', op: 'eq', value: 'prod' },
          { field: 'flag', op: 'exists', value: true },
        ],
      },
      {
        must: [{ key: 'metadata.env', match: { value: 'prod' } }, present('flag')],
      },
    ],
    [
      'or → should',
      {
        or: [
          { field: 'env', op: 'eq', value: 'dev' },
          { field: 'flag', op: 'eq', value: true },
        ],
      },
      {
        should: [
          { key: 'metadata.env', match: { value: 'dev' } },
          { key: 'metadata.flag', match: { value: true } },
        ],
      },
    ],
    [
      'not → must_not',
      { not: { field: 'env', op: 'eq', value: 'prod' } },
      { must_not: [{ key: 'metadata.env', match: { value: 'prod' } }] },
    ],
  ];
  for (const [title, filter, expected] of cases) {
    it(title, () => {
      expect(conditions({ metadata: filter })).toEqual([expected]);
    });
  }
});

describe('toQdrantFilter: string comparisons (no Qdrant form)', () => {
  it('are marked inexact, so the adapter re-checks candidates', () => {
    const filter: IndexFilter = { metadata: { field: 'at', op: 'lt', value: '2026' } };
    expect(toQdrantFilter(filter, { tenant: 't1' }).exact).toBe(false);
  });

  it('relax to no condition where they count positively', () => {
    expect(conditions({ metadata: { field: 'at', op: 'lt', value: '2026' } })).toEqual([]);
  });

  /** A string comparison Qdrant cannot express beside an exact condition. */
  const inexactAndExact = [
    { field: 'at', op: 'gte', value: '2026' },
    { field: 'env', op: 'eq', value: 'prod' },
  ] satisfies MetadataFilter[];

  it('relax an and to its exact parts', () => {
    const filter: IndexFilter = { metadata: { and: inexactAndExact } };
    expect(conditions(filter)).toEqual([{ key: 'metadata.env', match: { value: 'prod' } }]);
  });

  it('relax an or to no condition', () => {
    expect(conditions({ metadata: { or: inexactAndExact } })).toEqual([]);
  });

  it('under not, relax to false so the negation stays a superset (not of and)', () => {
    // not(false AND env=prod) = not(false) = true: no condition.
    expect(conditions({ metadata: { not: { and: inexactAndExact } } })).toEqual([]);
  });

  it('under not, an or keeps its exact parts negated', () => {
    expect(conditions({ metadata: { not: { or: inexactAndExact } } })).toEqual([
      { must_not: [{ key: 'metadata.env', match: { value: 'prod' } }] },
    ]);
  });

  it('under a double not, relax to true again', () => {
    const filter: IndexFilter = {
      metadata: { not: { not: { field: 'at', op: 'gte', value: '2026' } } },
    };
    expect(conditions(filter)).toEqual([]);
  });
});

describe('toQdrantFilter: empty lists', () => {
  it('an empty ids list matches nothing', () => {
    expect(conditions({ ids: [] })).toEqual([NOTHING]);
  });
});

describe('metadataPathIndex', () => {
  it('lists present, non-null paths through objects only', () => {
    expect(
      metadataPathIndex({
        env: 'prod',
        none: null,
        team: { name: 'core', lead: null },
        labels: ['x', { deep: 1 }],
        empty: [],
        'bad key': 1,
      }).paths,
    ).toEqual(['env', 'team', 'team.name', 'labels', 'empty']);
  });

  it('lists the paths holding arrays', () => {
    expect(metadataPathIndex({ a: [1], b: { c: [] }, d: 'x' }).arrays).toEqual(['a', 'b.c']);
  });
});

describe('payload and ids', () => {
  const record = {
    id: '01900000-0000-7000-8000-000000000001',
    tenant: 't1',
    scope: 'user' as const,
    userId: 'u1',
    kind: 'fact' as const,
    text: 'hello',
    metadata: { env: 'prod', team: { name: 'core' } },
    categories: ['c'],
    tags: [],
    importance: 0.5,
    tier: 'short' as const,
    createdAt: '2026-05-01T00:00:00.000Z',
    updatedAt: '2026-05-02T00:00:00.000Z',
    accessCount: 0,
    contentHash: 'h',
    embeddingModel: 'm',
    occurrences: 1,
  };

  it('stores timestamps as ms numbers for range filters', () => {
    const payload = toQdrantPayload({ record, dedupKey: 'd' });
    expect([payload.createdAt, payload.updatedAt, 'expiresAt' in payload]).toEqual([
      Date.parse(record.createdAt),
      Date.parse(record.updatedAt),
      false,
    ]);
  });

  it('stores metadata under `metadata` and the rest of the record under `record`', () => {
    const payload = toQdrantPayload({ record, dedupKey: 'd' });
    const { metadata, ...rest } = record;
    expect({ metadata: payload.metadata, record: payload.record }).toEqual({
      metadata,
      record: rest,
    });
  });

  it('derives one point id per tenant and memory id', () => {
    expect(qdrantPointId('t1', record.id)).not.toBe(qdrantPointId('t2', record.id));
  });

  it('point ids are stable UUIDs', () => {
    expect(qdrantPointId('t1', record.id)).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('names one collection per model and dimension', () => {
    expect(qdrantCollectionName('text-embedding-3-small', 1536)).toBe(
      'membus_text_embedding_3_small_1536',
    );
  });
});
