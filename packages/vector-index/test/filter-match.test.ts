import type { MetadataFilter } from '@membus/contracts';
import { describe, expect, it } from 'vitest';
import {
  compileFilter,
  type FilterPayload,
  isExpired,
  matchesFilter,
} from '../src/filter-match.ts';

const base: FilterPayload = {
  id: 'm1',
  scope: 'user',
  userId: 'u1',
  kind: 'fact',
  tier: 'short',
  categories: ['incidents', 'deploys'],
  tags: ['a'],
  createdAt: Date.parse('2026-05-02T00:00:00.000Z'),
  updatedAt: Date.parse('2026-05-03T00:00:00.000Z'),
  dedupKey: 'd1',
  metadata: {
    env: 'prod',
    priority: 3,
    labels: ['x', 'y'],
    team: { name: 'core', size: 4 },
    nothing: null,
    items: [{ name: 'nested-in-array' }],
  },
};

const metadata = (filter: MetadataFilter): boolean => compileFilter({ metadata: filter })(base);

describe('compileFilter', () => {
  it('matches everything without a filter', () => {
    expect(compileFilter(undefined)(base)).toBe(true);
  });

  it('matches everything with an empty filter', () => {
    expect(compileFilter({})(base)).toBe(true);
  });

  it('ANDs top-level fields', () => {
    expect(compileFilter({ userId: 'u1', kinds: ['episode'] })(base)).toBe(false);
  });

  it('requires equality fields to be present', () => {
    expect(compileFilter({ agentId: 'a1' })(base)).toBe(false);
  });

  it('matches ids by membership', () => {
    expect(compileFilter({ ids: ['m0', 'm1'] })(base)).toBe(true);
  });

  it('matches dedupKey by equality', () => {
    expect(compileFilter({ dedupKey: 'd2' })(base)).toBe(false);
  });

  it('categories any needs one shared label', () => {
    expect(compileFilter({ categories: { any: ['billing', 'deploys'] } })(base)).toBe(true);
  });

  it('categories all needs every label', () => {
    expect(compileFilter({ categories: { all: ['incidents', 'billing'] } })(base)).toBe(false);
  });

  it('tags any and all must both hold', () => {
    expect(compileFilter({ tags: { any: ['a'], all: ['a', 'b'] } })(base)).toBe(false);
  });

  it('createdAt bounds are exclusive for gt', () => {
    expect(compileFilter({ createdAt: { gt: '2026-05-02T00:00:00.000Z' } })(base)).toBe(false);
  });

  it('createdAt bounds are inclusive for gte', () => {
    expect(compileFilter({ createdAt: { gte: '2026-05-02T00:00:00.000Z' } })(base)).toBe(true);
  });

  it('updatedAt compares instants across time-zone offsets', () => {
    expect(compileFilter({ updatedAt: { lte: '2026-05-03T02:00:00+02:00' } })(base)).toBe(true);
  });
});

describe('metadata conditions', () => {
  const cases: [string, MetadataFilter, boolean][] = [
    ['eq on a string', { field: 'env', op: 'eq', value: 'prod' }, true],
    ['eq is strict about types', { field: 'priority', op: 'eq', value: '3' }, false],
    ['eq matches an array element', { field: 'labels', op: 'eq', value: 'y' }, true],
    ['eq on a nested path', { field: 'team.name', op: 'eq', value: 'core' }, true],
    ['eq on a missing field', { field: 'missing', op: 'eq', value: 'x' }, false],
    ['ne on a missing field', { field: 'missing', op: 'ne', value: 'x' }, true],
    ['ne on an array containing the value', { field: 'labels', op: 'ne', value: 'x' }, false],
    ['in', { field: 'env', op: 'in', value: ['dev', 'prod'] }, true],
    ['in on an array', { field: 'labels', op: 'in', value: ['z', 'x'] }, true],
    ['nin on a missing field', { field: 'missing', op: 'nin', value: ['x'] }, true],
    ['nin on a matching field', { field: 'env', op: 'nin', value: ['prod'] }, false],
    ['gt number', { field: 'priority', op: 'gt', value: 2 }, true],
    ['gte number at the bound', { field: 'priority', op: 'gte', value: 3 }, true],
    ['lt number at the bound', { field: 'priority', op: 'lt', value: 3 }, false],
    ['lte nested number', { field: 'team.size', op: 'lte', value: 4 }, true],
    ['gt with mismatched types', { field: 'priority', op: 'gt', value: '1' }, false],
    ['gt string lexicographic', { field: 'env', op: 'gt', value: 'dev' }, true],
    ['lt on a missing field', { field: 'missing', op: 'lt', value: 10 }, false],
    ['lt on an array field', { field: 'labels', op: 'lt', value: 'z' }, false],
    ['exists true', { field: 'team.name', op: 'exists', value: true }, true],
    ['exists true on null', { field: 'nothing', op: 'exists', value: true }, false],
    ['exists false on null', { field: 'nothing', op: 'exists', value: false }, true],
    ['exists false on a missing path', { field: 'team.lead', op: 'exists', value: false }, true],
    [
      'a path through an array is missing',
      { field: 'items.name', op: 'exists', value: true },
      false,
    ],
    ['a path through a scalar is missing', { field: 'env.x', op: 'exists', value: true }, false],
    ['prototype keys are missing', { field: 'constructor', op: 'exists', value: true }, false],
    [
      'and: all hold',
      {
        and: [
          { field: 'env', op: 'eq', value: 'prod' },
          { field: 'priority', op: 'lt', value: 3 },
        ],
      },
      false,
    ],
    [
      'or: one holds',
      {
        or: [
          { field: 'env', op: 'eq', value: 'dev' },
          { field: 'priority', op: 'eq', value: 3 },
        ],
      },
      true,
    ],
    ['not', { not: { field: 'env', op: 'eq', value: 'prod' } }, false],
    [
      'nested and/or/not',
      {
        and: [
          { not: { field: 'missing', op: 'exists', value: true } },
          {
            or: [
              { field: 'labels', op: 'eq', value: 'q' },
              { field: 'team.size', op: 'gte', value: 4 },
            ],
          },
        ],
      },
      true,
    ],
  ];
  for (const [title, filter, expected] of cases) {
    it(`${title} → ${expected}`, () => {
      expect(metadata(filter)).toBe(expected);
    });
  }
});

describe('expiry', () => {
  const expiring = { ...base, expiresAt: Date.parse('2026-05-10T00:00:00.000Z') };

  it('a memory without expiresAt never expires', () => {
    expect(isExpired(base, Number.MAX_SAFE_INTEGER)).toBe(false);
  });

  it('expiresAt == now is expired', () => {
    expect(isExpired(expiring, Date.parse('2026-05-10T00:00:00.000Z'))).toBe(true);
  });

  it('matchesFilter rejects an expired memory that matches the filter', () => {
    expect(matchesFilter(expiring, { userId: 'u1' }, Date.parse('2026-06-01T00:00:00.000Z'))).toBe(
      false,
    );
  });

  it('matchesFilter accepts a live memory that matches the filter', () => {
    expect(matchesFilter(expiring, { userId: 'u1' }, Date.parse('2026-05-01T00:00:00.000Z'))).toBe(
      true,
    );
  });
});
