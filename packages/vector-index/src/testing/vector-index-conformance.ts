/**
 * The VectorIndex conformance suite every adapter runs once. Over 400 lines on purpose: one
 * shared data set and one case per behaviour of the port (filters, modes, scroll, stats,
 * tenancy, persistence), each asserting one outcome; splitting it would split the data set.
 */
import type { Condition, ConditionOp, MemoryRecord } from '@membus/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  IndexedMemory,
  IndexFilter,
  SearchMode,
  SearchRequest,
  VectorIndex,
  VectorIndexCapabilities,
} from '../vector-index.ts';
import { seededRandom } from './seeded-random.ts';

/** A fresh, empty index created for one test, and how to tear it down. */
export interface VectorIndexFixture {
  /**
   * The index as first opened; after `reopen`, the suite uses the index `reopen` returned. (The
   * shape of `reopenable` in `@membus/bus/testing`, which builds most fixtures.)
   */
  opened: VectorIndex;
  /**
   * Closes the open index and opens the same data again (required when
   * `capabilities.persistent`).
   */
  reopen?: () => Promise<VectorIndex>;
  /** Closes whatever index is open and removes its data; called once after each test. */
  dispose: () => Promise<void>;
}

export interface VectorIndexConformanceOptions {
  /** Suite name, e.g. the adapter's. */
  name: string;
  /** Creates a fresh, empty index of the given dimension. */
  create: (options: { dimension: number }) => Promise<VectorIndexFixture>;
  /** What the adapter claims; `persistent` enables the reopen cases, `keyword` the keyword/hybrid ones. */
  capabilities: Pick<VectorIndexCapabilities, 'persistent' | 'keyword'>;
}

const DIMENSION = 8;
const TENANT = 't1';
const OTHER_TENANT = 't2';
/** The suite's clock: every `now` passed to the index. */
const NOW = Date.parse('2026-06-01T00:00:00.000Z');

/** A deterministic UUID (v7 layout) for test record `n`. */
function uuid(n: number): string {
  return `01900000-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;
}

/** Midnight UTC on day `n` of May 2026. */
const day = (n: number): string => new Date(Date.UTC(2026, 4, n)).toISOString();

function unitVector(seed: number): Float32Array {
  const random = seededRandom(seed);
  const vector = new Float32Array(DIMENSION);
  let norm = 0;
  for (let index = 0; index < DIMENSION; index++) {
    vector[index] = random() * 2 - 1;
    norm += vector[index]! * vector[index]!;
  }
  const scale = 1 / Math.sqrt(norm);
  for (let index = 0; index < DIMENSION; index++) vector[index] = vector[index]! * scale;
  return vector;
}

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let index = 0; index < a.length; index++) sum += a[index]! * b[index]!;
  return sum;
}

interface Fixture {
  name: string;
  record: MemoryRecord;
  vector: Float32Array;
  dedupKey: string;
}

function memory(
  name: string,
  n: number,
  fields: Partial<MemoryRecord> & Pick<MemoryRecord, 'scope' | 'kind' | 'tier'>,
  dedupKey: string,
  tenant = TENANT,
): Fixture {
  return {
    name,
    dedupKey,
    vector: unitVector(1000 + n),
    record: {
      id: uuid(n),
      tenant,
      text: `memory ${name}`,
      metadata: {},
      categories: [],
      tags: [],
      importance: 0.5,
      createdAt: day(n),
      updatedAt: day(n),
      accessCount: 0,
      contentHash: `hash-${name}`,
      embeddingModel: 'test-model',
      occurrences: 1,
      ...fields,
    },
  };
}

/** r1's kind of memory, shared by its expired twin and its twin in the other tenant. */
const USER_FACT = {
  scope: 'user',
  userId: 'u1',
  kind: 'fact',
  tier: 'short',
  categories: ['incidents'],
  tags: ['a'],
} satisfies Partial<MemoryRecord>;

/** The shared data set: seven live memories in t1, one expired in t1, one in t2. */
const fixtures: Fixture[] = [
  memory(
    'r1',
    1,
    {
      ...USER_FACT,
      metadata: { env: 'prod', priority: 3, team: { name: 'core' }, labels: ['x', 'y'] },
    },
    'd1',
  ),
  memory(
    'r2',
    2,
    {
      scope: 'agent',
      userId: 'u2',
      agentId: 'ag1',
      kind: 'episode',
      tier: 'mid',
      categories: ['incidents', 'deploys'],
      tags: ['a', 'b'],
      updatedAt: day(8),
      metadata: { env: 'dev', priority: 1, nullable: null },
    },
    'd2',
  ),
  memory(
    'r3',
    3,
    {
      scope: 'agent',
      agentId: 'ag1',
      kind: 'preference',
      tier: 'long',
      categories: ['deploys'],
      tags: ['b'],
      metadata: { env: 'prod', priority: '3', team: { name: 'edge' } },
    },
    'd3',
  ),
  memory(
    'r4',
    4,
    {
      scope: 'session',
      userId: 'u1',
      sessionId: 's1',
      namespace: 'deployment',
      kind: 'outcome',
      tier: 'short',
      tags: ['c'],
      updatedAt: day(9),
    },
    'd1',
  ),
  memory(
    'r5',
    5,
    {
      scope: 'app',
      namespace: 'deployment',
      kind: 'pattern',
      tier: 'long',
      categories: ['billing'],
      tags: ['a', 'c'],
      metadata: {
        env: 'staging',
        priority: 5,
        labels: ['y'],
        deployedAt: '2026-03-01T00:00:00.000Z',
      },
    },
    'd5',
  ),
  memory(
    'r6',
    6,
    {
      scope: 'user',
      userId: 'u1',
      namespace: 'support',
      kind: 'summary',
      tier: 'mid',
      categories: ['billing', 'incidents'],
      metadata: { priority: 10, flag: true },
    },
    'd6',
  ),
  memory(
    'r7',
    7,
    {
      scope: 'app',
      kind: 'fact',
      tier: 'short',
      expiresAt: '2027-01-01T00:00:00.000Z',
      metadata: { env: 'prod', labels: ['x'], deployedAt: '2026-01-15T00:00:00.000Z' },
    },
    'd7',
  ),
  memory(
    'expired',
    8,
    {
      ...USER_FACT,
      createdAt: '2026-05-01T12:00:00.000Z',
      updatedAt: '2026-05-01T12:00:00.000Z',
      expiresAt: '2026-05-15T00:00:00.000Z',
      metadata: { env: 'prod', priority: 3 },
    },
    'd1',
  ),
  memory(
    'other-tenant',
    9,
    {
      ...USER_FACT,
      metadata: { env: 'prod', priority: 3 },
    },
    'd1',
    OTHER_TENANT,
  ),
];

const byName = new Map(fixtures.map((fixture) => [fixture.name, fixture]));
const nameById = new Map(fixtures.map((fixture) => [fixture.record.id, fixture.name]));
const live = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7'];

function fixture(name: string): Fixture {
  const found = byName.get(name);
  if (found === undefined) throw new Error(`no fixture ${name}`);
  return found;
}

function indexed(item: Fixture): IndexedMemory {
  return { record: item.record, vector: item.vector, dedupKey: item.dedupKey };
}

const names = (records: readonly MemoryRecord[]): string[] =>
  records.map((record) => nameById.get(record.id) ?? record.id);
const sortedNames = (records: readonly MemoryRecord[]): string[] => names(records).sort();

const FEBRUARY = '2026-02-01T00:00:00.000Z';

/** A filter of one metadata condition. */
function where(field: string, op: ConditionOp, value: Condition['value']): IndexFilter {
  return { metadata: { field, op, value } as Condition };
}

/** Filter cases: each filter and the exact live t1 memories it selects. */
const filterCases: [title: string, filter: IndexFilter, expected: string[]][] = [
  ['an empty filter', {}, live],
  [
    'ids (other tenant and expired ids excluded)',
    { ids: [uuid(1), uuid(3), uuid(8), uuid(9)] },
    ['r1', 'r3'],
  ],
  ['scopes [agent]', { scopes: ['agent'] }, ['r2', 'r3']],
  ['scopes [user, session]', { scopes: ['user', 'session'] }, ['r1', 'r4', 'r6']],
  [
    'anyOf: this session plus app-wide memories',
    { anyOf: [{ scope: 'session', sessionId: 's1' }, { scope: 'app' }] },
    ['r4', 'r5', 'r7'],
  ],
  [
    'anyOf: an owner id narrows only its own selector',
    {
      anyOf: [
        { scope: 'agent', agentId: 'ag1' },
        { scope: 'user', userId: 'u1' },
      ],
    },
    ['r1', 'r2', 'r3', 'r6'],
  ],
  ['anyOf: scope and owner must both match', { anyOf: [{ scope: 'user', userId: 'u2' }] }, []],
  [
    'anyOf ANDed with the other fields',
    { anyOf: [{ scope: 'app' }, { scope: 'session' }], namespace: 'deployment' },
    ['r4', 'r5'],
  ],
  ['userId', { userId: 'u1' }, ['r1', 'r4', 'r6']],
  ['agentId', { agentId: 'ag1' }, ['r2', 'r3']],
  ['sessionId', { sessionId: 's1' }, ['r4']],
  ['namespace', { namespace: 'deployment' }, ['r4', 'r5']],
  ['an unknown userId', { userId: 'nobody' }, []],
  ['kinds [fact]', { kinds: ['fact'] }, ['r1', 'r7']],
  ['kinds [fact, pattern]', { kinds: ['fact', 'pattern'] }, ['r1', 'r5', 'r7']],
  ['tiers [mid]', { tiers: ['mid'] }, ['r2', 'r6']],
  ['categories any', { categories: { any: ['deploys', 'billing'] } }, ['r2', 'r3', 'r5', 'r6']],
  ['categories all', { categories: { all: ['incidents', 'deploys'] } }, ['r2']],
  [
    'categories any and all together',
    { categories: { any: ['billing'], all: ['incidents'] } },
    ['r6'],
  ],
  ['tags any', { tags: { any: ['c'] } }, ['r4', 'r5']],
  ['tags all', { tags: { all: ['a', 'b'] } }, ['r2']],
  ['createdAt gte/lt', { createdAt: { gte: day(3), lt: day(6) } }, ['r3', 'r4', 'r5']],
  ['createdAt gt/lte', { createdAt: { gt: day(3), lte: day(6) } }, ['r4', 'r5', 'r6']],
  [
    'createdAt with a time-zone offset',
    { createdAt: { lt: '2026-05-03T02:00:00+02:00' } },
    ['r1', 'r2'],
  ],
  ['updatedAt gte', { updatedAt: { gte: day(8) } }, ['r2', 'r4']],
  ['dedupKey', { dedupKey: 'd1' }, ['r1', 'r4']],
  ['metadata eq string', where('env', 'eq', 'prod'), ['r1', 'r3', 'r7']],
  ['metadata eq number does not match the equal string', where('priority', 'eq', 3), ['r1']],
  ['metadata eq string does not match the equal number', where('priority', 'eq', '3'), ['r3']],
  ['metadata eq boolean', where('flag', 'eq', true), ['r6']],
  ['metadata eq matches an array containing the value', where('labels', 'eq', 'x'), ['r1', 'r7']],
  ['metadata eq on a nested path', where('team.name', 'eq', 'core'), ['r1']],
  ['metadata ne matches missing fields', where('env', 'ne', 'prod'), ['r2', 'r4', 'r5', 'r6']],
  [
    'metadata ne excludes arrays containing the value',
    where('labels', 'ne', 'x'),
    ['r2', 'r3', 'r4', 'r5', 'r6'],
  ],
  ['metadata in', where('env', 'in', ['dev', 'staging']), ['r2', 'r5']],
  ['metadata in on an array field', where('labels', 'in', ['y']), ['r1', 'r5']],
  ['metadata nin matches missing fields', where('env', 'nin', ['prod', 'dev']), ['r4', 'r5', 'r6']],
  ['metadata gt number skips strings', where('priority', 'gt', 3), ['r5', 'r6']],
  ['metadata gte number', where('priority', 'gte', 3), ['r1', 'r5', 'r6']],
  ['metadata lt number', where('priority', 'lt', 3), ['r2']],
  ['metadata lte number', where('priority', 'lte', 1), ['r2']],
  ['metadata gte string compares strings only', where('priority', 'gte', '3'), ['r3']],
  ['metadata lt on ISO date strings', where('deployedAt', 'lt', FEBRUARY), ['r7']],
  ['metadata gt on ISO date strings', where('deployedAt', 'gt', FEBRUARY), ['r5']],
  ['metadata exists true', where('team', 'exists', true), ['r1', 'r3']],
  ['metadata exists true treats null as absent', where('nullable', 'exists', true), []],
  [
    'metadata exists false on a nested path',
    where('team.name', 'exists', false),
    ['r2', 'r4', 'r5', 'r6', 'r7'],
  ],
  [
    'metadata and',
    {
      metadata: {
        and: [
          { field: 'env', op: 'eq', value: 'prod' },
          { field: 'priority', op: 'gte', value: 3 },
        ],
      },
    },
    ['r1'],
  ],
  [
    'metadata or',
    {
      metadata: {
        or: [
          { field: 'env', op: 'eq', value: 'dev' },
          { field: 'flag', op: 'eq', value: true },
        ],
      },
    },
    ['r2', 'r6'],
  ],
  [
    'metadata not',
    { metadata: { not: { field: 'env', op: 'eq', value: 'prod' } } },
    ['r2', 'r4', 'r5', 'r6'],
  ],
  [
    'metadata not of or',
    {
      metadata: {
        not: {
          or: [
            { field: 'team', op: 'exists', value: true },
            { field: 'env', op: 'in', value: ['dev'] },
          ],
        },
      },
    },
    ['r4', 'r5', 'r6', 'r7'],
  ],
  [
    'metadata and of or and not',
    {
      metadata: {
        and: [
          {
            or: [
              { field: 'env', op: 'eq', value: 'prod' },
              { field: 'env', op: 'eq', value: 'staging' },
            ],
          },
          { not: { field: 'labels', op: 'exists', value: true } },
        ],
      },
    },
    ['r3'],
  ],
  [
    'several fields ANDed',
    {
      userId: 'u1',
      kinds: ['fact', 'summary'],
      metadata: { field: 'flag', op: 'exists', value: true },
    },
    ['r6'],
  ],
];

/**
 * The one test suite every `VectorIndex` adapter passes. Each case starts from a fresh index
 * holding the shared data set (dimension 8, seeded vectors, a fixed clock).
 */
export function createVectorIndexConformanceSuite(options: VectorIndexConformanceOptions): void {
  describe(`VectorIndex conformance: ${options.name}`, () => {
    let current: VectorIndexFixture;
    let index: VectorIndex;

    beforeEach(async () => {
      current = await options.create({ dimension: DIMENSION });
      index = current.opened;
      await index.upsert(fixtures.map(indexed));
    });

    afterEach(async () => {
      await current.dispose();
    });

    const scrollAll = async (tenant: string, filter?: IndexFilter): Promise<MemoryRecord[]> => {
      const records: MemoryRecord[] = [];
      let after: { createdAt: number; id: string } | undefined;
      for (let page = 0; page < 100; page++) {
        const result = await index.scroll({
          tenant,
          limit: 3,
          now: NOW,
          ...(filter ? { filter } : {}),
          ...(after ? { after } : {}),
        });
        records.push(...result.records);
        if (result.next === undefined) return records;
        after = result.next;
      }
      throw new Error('scroll did not finish in 100 pages');
    };

    const query = unitVector(42);
    const expectedRanking = (candidates: readonly string[]): string[] =>
      [...candidates].sort((a, b) => dot(fixture(b).vector, query) - dot(fixture(a).vector, query));

    /** What a search finds, best first: tenant t1, `query`, limit 50 and `NOW` unless given. */
    const searchRecords = async (request: Partial<SearchRequest> = {}): Promise<MemoryRecord[]> => {
      const { hits } = await index.search({
        tenant: TENANT,
        vector: query,
        limit: 50,
        now: NOW,
        ...request,
      });
      return hits.map((hit) => hit.record);
    };

    describe('upsert and get', () => {
      it('returns the stored record unchanged', async () => {
        const [record] = await index.get(TENANT, [uuid(1)]);
        expect(record).toEqual(fixture('r1').record);
      });

      it('returns expired records (the caller decides)', async () => {
        expect(sortedNames(await index.get(TENANT, [uuid(8)]))).toEqual(['expired']);
      });

      it('skips unknown ids', async () => {
        expect(sortedNames(await index.get(TENANT, [uuid(1), uuid(99)]))).toEqual(['r1']);
      });

      it('re-upsert replaces the record', async () => {
        const changed = { ...fixture('r1').record, text: 'changed', updatedAt: day(9) };
        await index.upsert([{ ...indexed(fixture('r1')), record: changed }]);
        expect(await index.get(TENANT, [uuid(1)])).toEqual([changed]);
      });

      it('re-upsert does not duplicate the memory', async () => {
        await index.upsert([indexed(fixture('r1')), indexed(fixture('r2'))]);
        expect((await index.stats(TENANT, undefined, NOW)).total).toBe(7);
      });

      it('re-upsert with a new vector moves the memory in search', async () => {
        await index.upsert([{ ...indexed(fixture('r1')), vector: unitVector(7777) }]);
        expect(names(await searchRecords({ vector: unitVector(7777), limit: 1 }))).toEqual(['r1']);
      });

      it('rejects an upsert of the wrong dimension', async () => {
        const wrong = { ...indexed(fixture('r1')), vector: new Float32Array(DIMENSION + 1) };
        await expect(index.upsert([wrong])).rejects.toMatchObject({ code: 'DIMENSION_MISMATCH' });
      });

      it('writes nothing from a batch that fails on dimension', async () => {
        const fresh = memory('fresh', 20, { scope: 'app', kind: 'fact', tier: 'short' }, 'f');
        const wrong = { ...indexed(fixture('r2')), vector: new Float32Array(DIMENSION - 1) };
        await index.upsert([indexed(fresh), wrong]).catch(() => undefined);
        expect(await index.get(TENANT, [fresh.record.id])).toEqual([]);
      });
    });

    describe('tenant isolation', () => {
      it('get does not return another tenant’s memory', async () => {
        expect(await index.get(TENANT, [uuid(9)])).toEqual([]);
      });

      it('search does not return another tenant’s memory', async () => {
        const records = await searchRecords({ vector: fixture('other-tenant').vector });
        expect(
          records.map((record) => record.tenant).filter((tenant) => tenant !== TENANT),
        ).toEqual([]);
      });

      it('search in the other tenant sees only its memory', async () => {
        expect(names(await searchRecords({ tenant: OTHER_TENANT }))).toEqual(['other-tenant']);
      });

      it('scroll sees only the tenant’s memories', async () => {
        expect(sortedNames(await scrollAll(OTHER_TENANT))).toEqual(['other-tenant']);
      });

      it('delete does not remove another tenant’s memory', async () => {
        await index.delete(OTHER_TENANT, [uuid(1)]);
        expect(sortedNames(await index.get(TENANT, [uuid(1)]))).toEqual(['r1']);
      });

      it('delete reports nothing for another tenant’s id', async () => {
        expect(await index.delete(OTHER_TENANT, [uuid(1)])).toEqual([]);
      });

      it('stats count only the tenant’s memories', async () => {
        expect((await index.stats(OTHER_TENANT, undefined, NOW)).total).toBe(1);
      });

      it('recordAccess does not touch another tenant’s memory', async () => {
        await index.recordAccess(OTHER_TENANT, new Map([[uuid(1), { count: 5, at: NOW }]]));
        const [record] = await index.get(TENANT, [uuid(1)]);
        expect(record?.accessCount).toBe(0);
      });

      it('the same id in two tenants is two memories', async () => {
        const twin = { ...fixture('r1').record, tenant: OTHER_TENANT, text: 'twin' };
        await index.upsert([{ ...indexed(fixture('r1')), record: twin }]);
        const [original] = await index.get(TENANT, [uuid(1)]);
        expect(original?.text).toBe('memory r1');
      });
    });

    describe('filters (scroll)', () => {
      for (const [title, filter, expected] of filterCases) {
        it(title, async () => {
          expect(sortedNames(await scrollAll(TENANT, filter))).toEqual([...expected].sort());
        });
      }
    });

    describe('filters (search)', () => {
      for (const [title, filter, expected] of filterCases) {
        it(title, async () => {
          expect(sortedNames(await searchRecords({ filter }))).toEqual([...expected].sort());
        });
      }
    });

    describe('search', () => {
      it('orders hits by cosine similarity', async () => {
        expect(names(await searchRecords())).toEqual(expectedRanking(live));
      });

      it('scores are the cosine similarities', async () => {
        const { hits } = await index.search({ tenant: TENANT, vector: query, limit: 50, now: NOW });
        const errors = hits.map((hit) =>
          Math.abs(hit.score - dot(fixture(nameById.get(hit.record.id)!).vector, query)),
        );
        expect(Math.max(...errors)).toBeLessThan(1e-5);
      });

      it('returns at most `limit` hits, the best ones', async () => {
        expect(names(await searchRecords({ limit: 3 }))).toEqual(expectedRanking(live).slice(0, 3));
      });

      it('orders filtered hits by cosine similarity', async () => {
        const records = await searchRecords({ filter: { userId: 'u1' } });
        expect(names(records)).toEqual(expectedRanking(['r1', 'r4', 'r6']));
      });

      it('never returns an expired memory, even the nearest one', async () => {
        const records = await searchRecords({ vector: fixture('expired').vector });
        expect(names(records)).not.toContain('expired');
      });

      /** The memory that expires at 2026-05-15, searched for by id at `now`. */
      const searchExpiredAt = (now: string): Promise<MemoryRecord[]> =>
        searchRecords({
          vector: fixture('expired').vector,
          filter: { ids: [uuid(8)] },
          limit: 5,
          now: Date.parse(now),
        });

      it('returns a memory before its expiry time', async () => {
        expect(names(await searchExpiredAt('2026-05-10T00:00:00.000Z'))).toEqual(['expired']);
      });

      it('treats expiresAt == now as expired', async () => {
        expect(await searchExpiredAt('2026-05-15T00:00:00.000Z')).toEqual([]);
      });

      it('finds nothing in an unknown tenant', async () => {
        expect(await searchRecords({ tenant: 'nobody', limit: 5 })).toEqual([]);
      });

      it('rejects a query of the wrong dimension', async () => {
        await expect(
          index.search({ tenant: TENANT, vector: new Float32Array(3), limit: 5, now: NOW }),
        ).rejects.toMatchObject({ code: 'DIMENSION_MISMATCH' });
      });

      it('names its plan', async () => {
        const { plan } = await index.search({ tenant: TENANT, vector: query, limit: 5, now: NOW });
        expect(plan).toMatch(/\S/);
      });
    });

    describe('scroll', () => {
      it('pages cover every live memory once, newest first', async () => {
        expect(names(await scrollAll(TENANT))).toEqual([...live].reverse());
      });

      it('a page holds at most `limit` records and points to the next', async () => {
        const page = await index.scroll({ tenant: TENANT, limit: 2, now: NOW });
        expect({ records: names(page.records), next: page.next }).toEqual({
          records: ['r7', 'r6'],
          next: { createdAt: Date.parse(day(6)), id: uuid(6) },
        });
      });

      it('the last page has no next cursor', async () => {
        const page = await index.scroll({ tenant: TENANT, limit: 7, now: NOW });
        expect(page.next).toBeUndefined();
      });

      it('breaks createdAt ties by id, descending', async () => {
        const twinA = memory('tie-a', 30, { scope: 'app', kind: 'fact', tier: 'short' }, 'x');
        const twinB = memory('tie-b', 31, { scope: 'app', kind: 'fact', tier: 'short' }, 'y');
        const tied = [twinA, twinB].map((item) => ({
          ...indexed(item),
          record: { ...item.record, createdAt: day(9), tags: ['tie'] },
        }));
        await index.upsert(tied);
        const page = await index.scroll({
          tenant: TENANT,
          filter: { tags: { any: ['tie'] } },
          limit: 10,
          now: NOW,
        });
        expect(page.records.map((record) => record.id)).toEqual([uuid(31), uuid(30)]);
      });

      it('never returns an expired memory', async () => {
        expect(names(await scrollAll(TENANT, { userId: 'u1' }))).not.toContain('expired');
      });
    });

    describe('delete', () => {
      it('returns only the ids that existed', async () => {
        expect(await index.delete(TENANT, [uuid(1), uuid(99)])).toEqual([uuid(1)]);
      });

      it('removes the memory from get', async () => {
        await index.delete(TENANT, [uuid(1)]);
        expect(await index.get(TENANT, [uuid(1)])).toEqual([]);
      });

      it('removes the memory from search', async () => {
        await index.delete(TENANT, [uuid(1)]);
        expect(names(await searchRecords({ vector: fixture('r1').vector }))).not.toContain('r1');
      });

      it('removes the memory from scroll', async () => {
        await index.delete(TENANT, [uuid(1), uuid(2)]);
        expect(sortedNames(await scrollAll(TENANT))).toEqual(['r3', 'r4', 'r5', 'r6', 'r7']);
      });

      it('a deleted id can be stored again', async () => {
        await index.delete(TENANT, [uuid(1)]);
        await index.upsert([indexed(fixture('r1'))]);
        expect(sortedNames(await index.get(TENANT, [uuid(1)]))).toEqual(['r1']);
      });
    });

    describe('stats', () => {
      it('counts live memories by scope, kind, tier, namespace and category', async () => {
        expect(await index.stats(TENANT, undefined, NOW)).toEqual({
          total: 7,
          byScope: { user: 2, agent: 2, session: 1, app: 2 },
          byKind: { fact: 2, episode: 1, preference: 1, outcome: 1, pattern: 1, summary: 1 },
          byTier: { short: 3, mid: 2, long: 2 },
          byNamespace: { deployment: 2, support: 1 },
          byCategory: { incidents: 3, deploys: 2, billing: 2 },
          oldest: Date.parse(day(1)),
          newest: Date.parse(day(7)),
        });
      });

      it('applies the filter', async () => {
        expect((await index.stats(TENANT, { userId: 'u1' }, NOW)).total).toBe(3);
      });

      it('counts an expired memory once `now` is before its expiry', async () => {
        const earlier = Date.parse('2026-05-10T00:00:00.000Z');
        expect((await index.stats(TENANT, { userId: 'u1' }, earlier)).total).toBe(4);
      });

      it('is empty for an unknown tenant', async () => {
        expect(await index.stats('nobody', undefined, NOW)).toEqual({
          total: 0,
          byScope: {},
          byKind: {},
          byTier: {},
          byNamespace: {},
          byCategory: {},
        });
      });
    });

    describe('recordAccess', () => {
      it('adds the count and sets lastAccessedAt', async () => {
        const at = Date.parse('2026-05-20T10:00:00.000Z');
        await index.recordAccess(TENANT, new Map([[uuid(1), { count: 2, at }]]));
        await index.recordAccess(TENANT, new Map([[uuid(1), { count: 3, at }]]));
        const [record] = await index.get(TENANT, [uuid(1)]);
        expect({
          accessCount: record?.accessCount,
          lastAccessedAt: record?.lastAccessedAt,
        }).toEqual({ accessCount: 5, lastAccessedAt: '2026-05-20T10:00:00.000Z' });
      });

      it('ignores unknown ids', async () => {
        await index.recordAccess(TENANT, new Map([[uuid(99), { count: 1, at: NOW }]]));
        expect(await index.get(TENANT, [uuid(99)])).toEqual([]);
      });
    });

    if (options.capabilities.keyword) {
      describe('keyword and hybrid search', () => {
        const keywordFixtures: Fixture[] = [
          memory(
            'k-build',
            201,
            {
              scope: 'app',
              kind: 'episode',
              tier: 'short',
              text: 'Build failed: ERR_CONNECTION_REFUSED while fetching the package registry',
            },
            'k-build',
          ),
          memory(
            'k-deploy',
            202,
            {
              scope: 'app',
              kind: 'episode',
              tier: 'short',
              text: 'Deploy to production succeeded after one retry',
            },
            'k-deploy',
          ),
          memory(
            'k-user',
            203,
            {
              scope: 'user',
              userId: 'u-keyword',
              kind: 'fact',
              tier: 'short',
              text: 'ERR_CONNECTION_REFUSED seen by this user on the VPN',
            },
            'k-user',
          ),
          memory(
            'k-expired',
            204,
            {
              scope: 'app',
              kind: 'episode',
              tier: 'short',
              text: 'ERR_CONNECTION_REFUSED during the old migration',
              expiresAt: day(20),
            },
            'k-expired',
          ),
          memory(
            'k-other',
            205,
            {
              scope: 'app',
              kind: 'episode',
              tier: 'short',
              text: 'ERR_CONNECTION_REFUSED from the payments API',
            },
            'k-other',
            OTHER_TENANT,
          ),
        ];
        // k-build's vector is the query vector, so both legs rank it first.
        const buildFixture = keywordFixtures[0] as Fixture;
        buildFixture.vector = query;
        const byId = new Map(
          [...fixtures, ...keywordFixtures].map((item) => [item.record.id, item.name]),
        );
        const hitNames = (hits: readonly { record: MemoryRecord }[]) =>
          hits.map((hit) => byId.get(hit.record.id));
        /** Searches the test tenant for `text` with the query vector (10 hits unless `extra` says). */
        const searchText = (mode: SearchMode, text: string, extra: Partial<SearchRequest> = {}) =>
          index.search({
            tenant: TENANT,
            vector: query,
            text,
            mode,
            limit: 10,
            now: NOW,
            ...extra,
          });

        beforeEach(async () => {
          await index.upsert(keywordFixtures.map(indexed));
        });

        it('keyword mode finds an exact identifier, live and in the tenant only', async () => {
          const { hits } = await searchText('keyword', 'ERR_CONNECTION_REFUSED');
          expect(new Set(hitNames(hits))).toEqual(new Set(['k-build', 'k-user']));
        });

        it('keyword mode applies the filter to the keyword leg', async () => {
          const { hits } = await searchText('keyword', 'ERR_CONNECTION_REFUSED', {
            filter: { userId: 'u-keyword' },
          });
          expect(hitNames(hits)).toEqual(['k-user']);
        });

        it('keyword mode keeps tenants apart', async () => {
          const { hits } = await searchText('keyword', 'ERR_CONNECTION_REFUSED', {
            tenant: OTHER_TENANT,
          });
          expect(hitNames(hits)).toEqual(['k-other']);
        });

        it('keyword mode returns nothing when no term matches', async () => {
          const { hits } = await searchText('keyword', 'kubernetes');
          expect(hits).toEqual([]);
        });

        it('keyword and hybrid search the context of a memory, which stays out of its text', async () => {
          const withContext = memory(
            'k-context',
            206,
            {
              scope: 'app',
              kind: 'episode',
              tier: 'short',
              text: 'Rolled the release back',
              context: 'Why did the canary in eu-west-2 fail?',
            },
            'k-context',
          );
          await index.upsert([indexed(withContext)]);
          const keyword = await searchText('keyword', 'canary');
          const hybrid = await searchText('hybrid', 'canary');
          expect([
            keyword.hits.map((hit) => hit.record.id),
            hybrid.hits.some((hit) => hit.record.id === withContext.record.id),
            keyword.hits[0]?.record.text,
            keyword.hits[0]?.record.context,
          ]).toEqual([
            [withContext.record.id],
            true,
            'Rolled the release back',
            'Why did the canary in eu-west-2 fail?',
          ]);
        });

        it('keyword hits carry their cosine similarity too', async () => {
          const { hits } = await searchText('keyword', 'registry', { limit: 1 });
          expect(hits[0]?.dense).toBeCloseTo(1, 5);
        });

        it('hybrid ranks first, with score 1, the memory both legs rank first', async () => {
          const { hits } = await searchText('hybrid', 'ERR_CONNECTION_REFUSED registry', {
            limit: 5,
          });
          expect([hitNames(hits)[0], Math.round((hits[0]?.score ?? 0) * 1e6) / 1e6]).toEqual([
            'k-build',
            1,
          ]);
        });

        it('hybrid finds a keyword-only match the dense leg alone misses', async () => {
          const dense = await searchText('dense', 'VPN', { limit: 3 });
          const hybrid = await searchText('hybrid', 'VPN', { limit: 3 });
          expect([
            hitNames(dense.hits).includes('k-user'),
            hitNames(hybrid.hits).includes('k-user'),
          ]).toEqual([false, true]);
        });

        it('takes a vector still on its way and ranks as with the vector at hand', async () => {
          const request = {
            tenant: TENANT,
            text: 'ERR_CONNECTION_REFUSED registry',
            limit: 5,
            now: NOW,
          };
          for (const mode of ['dense', 'keyword', 'hybrid'] as const) {
            const atHand = await index.search({ ...request, mode, vector: query });
            let arrive: (vector: Float32Array) => void = () => undefined;
            const searching = index.search({
              ...request,
              mode,
              vector: new Promise<Float32Array>((resolve) => {
                arrive = resolve;
              }),
            });
            await new Promise((resolve) => setImmediate(resolve));
            arrive(query);
            const later = await searching;
            expect([mode, hitNames(later.hits), later.hits.map((hit) => hit.score)]).toEqual([
              mode,
              hitNames(atHand.hits),
              atHand.hits.map((hit) => hit.score),
            ]);
          }
        });

        it('a vector that fails fails the search with its error', async () => {
          for (const mode of ['dense', 'hybrid'] as const) {
            const failed = index.search({
              tenant: TENANT,
              vector: Promise.reject(new Error('embedder unavailable')),
              text: 'registry',
              mode,
              limit: 5,
              now: NOW,
            });
            await expect(failed).rejects.toThrow('embedder unavailable');
          }
        });

        it('a write while the vector is on its way is seen by both legs', async () => {
          let arrive: (vector: Float32Array) => void = () => undefined;
          const searching = index.search({
            tenant: TENANT,
            vector: new Promise<Float32Array>((resolve) => {
              arrive = resolve;
            }),
            text: 'ERR_CONNECTION_REFUSED',
            mode: 'hybrid',
            limit: 10,
            now: NOW,
          });
          await new Promise((resolve) => setImmediate(resolve));
          // k-build goes, and a memory without the word takes its place (and, embedded, its slot).
          await index.delete(TENANT, [buildFixture.record.id]);
          await index.upsert([
            indexed(
              memory(
                'k-late',
                206,
                { scope: 'app', kind: 'episode', tier: 'short', text: 'Quiet night' },
                'k-late',
              ),
            ),
          ]);
          arrive(query);
          const { hits } = await searching;
          const late = hits.find((hit) => hit.record.text === 'Quiet night');
          expect([hitNames(hits).includes('k-build'), late?.keyword ?? 0]).toEqual([false, 0]);
        });

        it('a deleted memory leaves the keyword index', async () => {
          await index.delete(TENANT, [buildFixture.record.id]);
          const { hits } = await searchText('keyword', 'registry');
          expect(hits).toEqual([]);
        });

        it('a changed text is searched by its new words', async () => {
          await index.upsert([
            {
              ...indexed(buildFixture),
              record: { ...buildFixture.record, text: 'Cache warmup finished' },
            },
          ]);
          const { hits } = await searchText('keyword', 'warmup');
          expect(hitNames(hits)).toEqual(['k-build']);
        });
      });
    }

    if (options.capabilities.persistent) {
      describe('persistence', () => {
        const reopen = async (): Promise<void> => {
          if (current.reopen === undefined)
            throw new Error('a persistent adapter must provide reopen()');
          index = await current.reopen();
        };

        it('get returns the same records after reopen', async () => {
          await reopen();
          expect(await index.get(TENANT, [uuid(1), uuid(2)])).toEqual(
            expect.arrayContaining([fixture('r1').record, fixture('r2').record]),
          );
        });

        it('search ranks the same after reopen', async () => {
          await reopen();
          expect(names(await searchRecords())).toEqual(expectedRanking(live));
        });

        it('deletes survive reopen', async () => {
          await index.delete(TENANT, [uuid(1)]);
          await reopen();
          expect(sortedNames(await scrollAll(TENANT))).toEqual(live.slice(1));
        });

        it('recorded accesses survive reopen', async () => {
          await index.recordAccess(TENANT, new Map([[uuid(2), { count: 4, at: NOW }]]));
          await reopen();
          const [record] = await index.get(TENANT, [uuid(2)]);
          expect(record?.accessCount).toBe(4);
        });

        it('filters work after reopen', async () => {
          await reopen();
          expect(
            sortedNames(
              await scrollAll(TENANT, {
                metadata: { field: 'team.name', op: 'eq', value: 'core' },
              }),
            ),
          ).toEqual(['r1']);
        });
      });
    }
  });
}
