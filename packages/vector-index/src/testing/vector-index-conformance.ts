/**
 * The VectorIndex conformance suite every adapter runs once. Over 400 lines on purpose: one
 * shared data set and one case per behaviour of the port (filters, modes, scroll, stats,
 * tenancy, persistence), each asserting one outcome; splitting it would split the data set.
 */
import type { MemoryRecord } from '@membus/contracts';
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
  /** The open index. After `reopen`, the suite uses the index `reopen` returned. */
  index: VectorIndex;
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

/** The shared data set: seven live memories in t1, one expired in t1, one in t2. */
const fixtures: Fixture[] = [
  memory(
    'r1',
    1,
    {
      scope: 'user',
      userId: 'u1',
      kind: 'fact',
      tier: 'short',
      categories: ['incidents'],
      tags: ['a'],
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
      scope: 'user',
      userId: 'u1',
      kind: 'fact',
      tier: 'short',
      categories: ['incidents'],
      tags: ['a'],
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
      scope: 'user',
      userId: 'u1',
      kind: 'fact',
      tier: 'short',
      categories: ['incidents'],
      tags: ['a'],
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

/** Filter cases: each filter and the exact live t1 memories it selects. */
const filterCases: { title: string; filter: IndexFilter; expected: string[] }[] = [
  { title: 'an empty filter', filter: {}, expected: live },
  {
    title: 'ids (other tenant and expired ids excluded)',
    filter: { ids: [uuid(1), uuid(3), uuid(8), uuid(9)] },
    expected: ['r1', 'r3'],
  },
  { title: 'scopes [agent]', filter: { scopes: ['agent'] }, expected: ['r2', 'r3'] },
  {
    title: 'scopes [user, session]',
    filter: { scopes: ['user', 'session'] },
    expected: ['r1', 'r4', 'r6'],
  },
  {
    title: 'anyOf: this session plus app-wide memories',
    filter: { anyOf: [{ scope: 'session', sessionId: 's1' }, { scope: 'app' }] },
    expected: ['r4', 'r5', 'r7'],
  },
  {
    title: 'anyOf: an owner id narrows only its own selector',
    filter: {
      anyOf: [
        { scope: 'agent', agentId: 'ag1' },
        { scope: 'user', userId: 'u1' },
      ],
    },
    expected: ['r1', 'r2', 'r3', 'r6'],
  },
  {
    title: 'anyOf: scope and owner must both match',
    filter: { anyOf: [{ scope: 'user', userId: 'u2' }] },
    expected: [],
  },
  {
    title: 'anyOf ANDed with the other fields',
    filter: { anyOf: [{ scope: 'app' }, { scope: 'session' }], namespace: 'deployment' },
    expected: ['r4', 'r5'],
  },
  { title: 'userId', filter: { userId: 'u1' }, expected: ['r1', 'r4', 'r6'] },
  { title: 'agentId', filter: { agentId: 'ag1' }, expected: ['r2', 'r3'] },
  { title: 'sessionId', filter: { sessionId: 's1' }, expected: ['r4'] },
  { title: 'namespace', filter: { namespace: 'deployment' }, expected: ['r4', 'r5'] },
  { title: 'an unknown userId', filter: { userId: 'nobody' }, expected: [] },
  { title: 'kinds [fact]', filter: { kinds: ['fact'] }, expected: ['r1', 'r7'] },
  {
    title: 'kinds [fact, pattern]',
    filter: { kinds: ['fact', 'pattern'] },
    expected: ['r1', 'r5', 'r7'],
  },
  { title: 'tiers [mid]', filter: { tiers: ['mid'] }, expected: ['r2', 'r6'] },
  {
    title: 'categories any',
    filter: { categories: { any: ['deploys', 'billing'] } },
    expected: ['r2', 'r3', 'r5', 'r6'],
  },
  {
    title: 'categories all',
    filter: { categories: { all: ['incidents', 'deploys'] } },
    expected: ['r2'],
  },
  {
    title: 'categories any and all together',
    filter: { categories: { any: ['billing'], all: ['incidents'] } },
    expected: ['r6'],
  },
  { title: 'tags any', filter: { tags: { any: ['c'] } }, expected: ['r4', 'r5'] },
  { title: 'tags all', filter: { tags: { all: ['a', 'b'] } }, expected: ['r2'] },
  {
    title: 'createdAt gte/lt',
    filter: { createdAt: { gte: day(3), lt: day(6) } },
    expected: ['r3', 'r4', 'r5'],
  },
  {
    title: 'createdAt gt/lte',
    filter: { createdAt: { gt: day(3), lte: day(6) } },
    expected: ['r4', 'r5', 'r6'],
  },
  {
    title: 'createdAt with a time-zone offset',
    filter: { createdAt: { lt: '2026-05-03T02:00:00+02:00' } },
    expected: ['r1', 'r2'],
  },
  { title: 'updatedAt gte', filter: { updatedAt: { gte: day(8) } }, expected: ['r2', 'r4'] },
  { title: 'dedupKey', filter: { dedupKey: 'd1' }, expected: ['r1', 'r4'] },
  {
    title: 'metadata eq string',
    filter: { metadata: { field: 'env', op: 'eq', value: 'prod' } },
    expected: ['r1', 'r3', 'r7'],
  },
  {
    title: 'metadata eq number does not match the equal string',
    filter: { metadata: { field: 'priority', op: 'eq', value: 3 } },
    expected: ['r1'],
  },
  {
    title: 'metadata eq string does not match the equal number',
    filter: { metadata: { field: 'priority', op: 'eq', value: '3' } },
    expected: ['r3'],
  },
  {
    title: 'metadata eq boolean',
    filter: { metadata: { field: 'flag', op: 'eq', value: true } },
    expected: ['r6'],
  },
  {
    title: 'metadata eq matches an array containing the value',
    filter: { metadata: { field: 'labels', op: 'eq', value: 'x' } },
    expected: ['r1', 'r7'],
  },
  {
    title: 'metadata eq on a nested path',
    filter: { metadata: { field: 'team.name', op: 'eq', value: 'core' } },
    expected: ['r1'],
  },
  {
    title: 'metadata ne matches missing fields',
    filter: { metadata: { field: 'env', op: 'ne', value: 'prod' } },
    expected: ['r2', 'r4', 'r5', 'r6'],
  },
  {
    title: 'metadata ne excludes arrays containing the value',
    filter: { metadata: { field: 'labels', op: 'ne', value: 'x' } },
    expected: ['r2', 'r3', 'r4', 'r5', 'r6'],
  },
  {
    title: 'metadata in',
    filter: { metadata: { field: 'env', op: 'in', value: ['dev', 'staging'] } },
    expected: ['r2', 'r5'],
  },
  {
    title: 'metadata in on an array field',
    filter: { metadata: { field: 'labels', op: 'in', value: ['y'] } },
    expected: ['r1', 'r5'],
  },
  {
    title: 'metadata nin matches missing fields',
    filter: { metadata: { field: 'env', op: 'nin', value: ['prod', 'dev'] } },
    expected: ['r4', 'r5', 'r6'],
  },
  {
    title: 'metadata gt number skips strings',
    filter: { metadata: { field: 'priority', op: 'gt', value: 3 } },
    expected: ['r5', 'r6'],
  },
  {
    title: 'metadata gte number',
    filter: { metadata: { field: 'priority', op: 'gte', value: 3 } },
    expected: ['r1', 'r5', 'r6'],
  },
  {
    title: 'metadata lt number',
    filter: { metadata: { field: 'priority', op: 'lt', value: 3 } },
    expected: ['r2'],
  },
  {
    title: 'metadata lte number',
    filter: { metadata: { field: 'priority', op: 'lte', value: 1 } },
    expected: ['r2'],
  },
  {
    title: 'metadata gte string compares strings only',
    filter: { metadata: { field: 'priority', op: 'gte', value: '3' } },
    expected: ['r3'],
  },
  {
    title: 'metadata lt on ISO date strings',
    filter: { metadata: { field: 'deployedAt', op: 'lt', value: '2026-02-01T00:00:00.000Z' } },
    expected: ['r7'],
  },
  {
    title: 'metadata gt on ISO date strings',
    filter: { metadata: { field: 'deployedAt', op: 'gt', value: '2026-02-01T00:00:00.000Z' } },
    expected: ['r5'],
  },
  {
    title: 'metadata exists true',
    filter: { metadata: { field: 'team', op: 'exists', value: true } },
    expected: ['r1', 'r3'],
  },
  {
    title: 'metadata exists true treats null as absent',
    filter: { metadata: { field: 'nullable', op: 'exists', value: true } },
    expected: [],
  },
  {
    title: 'metadata exists false on a nested path',
    filter: { metadata: { field: 'team.name', op: 'exists', value: false } },
    expected: ['r2', 'r4', 'r5', 'r6', 'r7'],
  },
  {
    title: 'metadata and',
    filter: {
      metadata: {
        and: [
          { field: 'env', op: 'eq', value: 'prod' },
          { field: 'priority', op: 'gte', value: 3 },
        ],
      },
    },
    expected: ['r1'],
  },
  {
    title: 'metadata or',
    filter: {
      metadata: {
        or: [
          { field: 'env', op: 'eq', value: 'dev' },
          { field: 'flag', op: 'eq', value: true },
        ],
      },
    },
    expected: ['r2', 'r6'],
  },
  {
    title: 'metadata not',
    filter: { metadata: { not: { field: 'env', op: 'eq', value: 'prod' } } },
    expected: ['r2', 'r4', 'r5', 'r6'],
  },
  {
    title: 'metadata not of or',
    filter: {
      metadata: {
        not: {
          or: [
            { field: 'team', op: 'exists', value: true },
            { field: 'env', op: 'in', value: ['dev'] },
          ],
        },
      },
    },
    expected: ['r4', 'r5', 'r6', 'r7'],
  },
  {
    title: 'metadata and of or and not',
    filter: {
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
    expected: ['r3'],
  },
  {
    title: 'several fields ANDed',
    filter: {
      userId: 'u1',
      kinds: ['fact', 'summary'],
      metadata: { field: 'flag', op: 'exists', value: true },
    },
    expected: ['r6'],
  },
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
      index = current.index;
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
        const { hits } = await index.search({
          tenant: TENANT,
          vector: unitVector(7777),
          limit: 1,
          now: NOW,
        });
        expect(hits.map((hit) => nameById.get(hit.record.id))).toEqual(['r1']);
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
        const { hits } = await index.search({
          tenant: TENANT,
          vector: fixture('other-tenant').vector,
          limit: 50,
          now: NOW,
        });
        expect(hits.map((hit) => hit.record.tenant).filter((tenant) => tenant !== TENANT)).toEqual(
          [],
        );
      });

      it('search in the other tenant sees only its memory', async () => {
        const { hits } = await index.search({
          tenant: OTHER_TENANT,
          vector: query,
          limit: 50,
          now: NOW,
        });
        expect(hits.map((hit) => nameById.get(hit.record.id))).toEqual(['other-tenant']);
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
      for (const { title, filter, expected } of filterCases) {
        it(title, async () => {
          expect(sortedNames(await scrollAll(TENANT, filter))).toEqual([...expected].sort());
        });
      }
    });

    describe('filters (search)', () => {
      for (const { title, filter, expected } of filterCases) {
        it(title, async () => {
          const { hits } = await index.search({
            tenant: TENANT,
            vector: query,
            filter,
            limit: 50,
            now: NOW,
          });
          expect(sortedNames(hits.map((hit) => hit.record))).toEqual([...expected].sort());
        });
      }
    });

    describe('search', () => {
      it('orders hits by cosine similarity', async () => {
        const { hits } = await index.search({ tenant: TENANT, vector: query, limit: 50, now: NOW });
        expect(names(hits.map((hit) => hit.record))).toEqual(expectedRanking(live));
      });

      it('scores are the cosine similarities', async () => {
        const { hits } = await index.search({ tenant: TENANT, vector: query, limit: 50, now: NOW });
        const errors = hits.map((hit) =>
          Math.abs(hit.score - dot(fixture(nameById.get(hit.record.id)!).vector, query)),
        );
        expect(Math.max(...errors)).toBeLessThan(1e-5);
      });

      it('returns at most `limit` hits, the best ones', async () => {
        const { hits } = await index.search({ tenant: TENANT, vector: query, limit: 3, now: NOW });
        expect(names(hits.map((hit) => hit.record))).toEqual(expectedRanking(live).slice(0, 3));
      });

      it('orders filtered hits by cosine similarity', async () => {
        const { hits } = await index.search({
          tenant: TENANT,
          vector: query,
          filter: { userId: 'u1' },
          limit: 50,
          now: NOW,
        });
        expect(names(hits.map((hit) => hit.record))).toEqual(expectedRanking(['r1', 'r4', 'r6']));
      });

      it('never returns an expired memory, even the nearest one', async () => {
        const { hits } = await index.search({
          tenant: TENANT,
          vector: fixture('expired').vector,
          limit: 50,
          now: NOW,
        });
        expect(names(hits.map((hit) => hit.record))).not.toContain('expired');
      });

      it('returns a memory before its expiry time', async () => {
        const { hits } = await index.search({
          tenant: TENANT,
          vector: fixture('expired').vector,
          filter: { ids: [uuid(8)] },
          limit: 5,
          now: Date.parse('2026-05-10T00:00:00.000Z'),
        });
        expect(names(hits.map((hit) => hit.record))).toEqual(['expired']);
      });

      it('treats expiresAt == now as expired', async () => {
        const { hits } = await index.search({
          tenant: TENANT,
          vector: fixture('expired').vector,
          filter: { ids: [uuid(8)] },
          limit: 5,
          now: Date.parse('2026-05-15T00:00:00.000Z'),
        });
        expect(hits).toEqual([]);
      });

      it('finds nothing in an unknown tenant', async () => {
        const { hits } = await index.search({
          tenant: 'nobody',
          vector: query,
          limit: 5,
          now: NOW,
        });
        expect(hits).toEqual([]);
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
        const { hits } = await index.search({
          tenant: TENANT,
          vector: fixture('r1').vector,
          limit: 50,
          now: NOW,
        });
        expect(names(hits.map((hit) => hit.record))).not.toContain('r1');
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
          const { hits } = await index.search({
            tenant: TENANT,
            vector: query,
            limit: 50,
            now: NOW,
          });
          expect(names(hits.map((hit) => hit.record))).toEqual(expectedRanking(live));
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
