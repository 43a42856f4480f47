import type { Reopenable } from '@membus/bus/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OutcomeRow, OutcomeStore } from '../ports/outcome-store.ts';

/**
 * A fresh, empty store for one test (`reopenable` or `reopenableFile` of `@membus/bus/testing`
 * over the adapter): after `reopen`, the suite uses the store it returned; `dispose` removes its
 * data, once after each test.
 */
export type OutcomeStoreFixture = Reopenable<OutcomeStore>;

export interface OutcomeStoreConformanceOptions {
  /** Suite name, e.g. the adapter's. */
  name: string;
  /** Creates a fresh, empty store. */
  create: () => Promise<OutcomeStoreFixture>;
  /** A reason to skip the suite (e.g. no server configured), printed as the suite name. */
  skip?: string;
}

/** A deterministic UUID for test outcome `n`. */
function uuid(n: number): string {
  return `01900000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

function row(n: number, overrides: Partial<OutcomeRow> = {}): OutcomeRow {
  const occurredAtMs = Date.UTC(2026, 4, 1) + n * 60_000;
  return {
    id: uuid(n),
    tenant: 't1',
    namespace: 'deployment',
    taskType: 'deployment',
    taskTypeInferred: false,
    success: n % 2 === 0,
    durationMs: 1_000 * n,
    cost: 0.01 * n,
    steps: ['install', 'build', 'deploy'],
    stepsSignature: 'install → build → deploy',
    config: { platform: 'vercel' },
    configSignature: 'platform=vercel',
    occurredAt: new Date(occurredAtMs).toISOString(),
    occurredAtMs,
    ...overrides,
  };
}

/** The OutcomeStore contract; each adapter's test file calls this once. */
export function createOutcomeStoreConformanceSuite(options: OutcomeStoreConformanceOptions): void {
  const suite = options.skip ? describe.skip : describe;
  suite(options.skip ? `${options.name} (skipped: ${options.skip})` : options.name, () => {
    let fixture: OutcomeStoreFixture;
    let store: OutcomeStore;

    beforeEach(async () => {
      fixture = await options.create();
      store = fixture.opened;
    });
    afterEach(async () => {
      await fixture.dispose();
    });

    it('reports every new outcome as inserted', async () => {
      const inserted = await store.insertOutcomes([row(1), row(2), row(3)]);
      expect([...inserted].sort()).toEqual([uuid(1), uuid(2), uuid(3)]);
    });

    it('reports a replayed outcome as not inserted', async () => {
      await store.insertOutcomes([row(1), row(2)]);
      const inserted = await store.insertOutcomes([row(2), row(3)]);
      expect([...inserted]).toEqual([uuid(3)]);
    });

    it('keeps the first version of a replayed id', async () => {
      await store.insertOutcomes([row(1, { success: true, durationMs: 10 })]);
      await store.insertOutcomes([row(1, { success: false, durationMs: 99 })]);
      const rows = await store.outcomes('t1');
      expect(rows.map((stored) => [stored.success, stored.durationMs])).toEqual([[true, 10]]);
    });

    it('counts an id repeated within one call once', async () => {
      await store.insertOutcomes([row(1), row(1)]);
      expect(await store.outcomes('t1')).toHaveLength(1);
    });

    it('returns rows as inserted, oldest first', async () => {
      const rows = [
        row(3),
        row(1, { error: 'Build failed', errorSignature: 'build failed' }),
        row(2, { cost: undefined }),
      ];
      await store.insertOutcomes(rows);
      const expected = [...rows]
        .sort((a, b) => a.occurredAtMs - b.occurredAtMs)
        .map((value) => JSON.parse(JSON.stringify(value)));
      expect(await store.outcomes('t1')).toEqual(expected);
    });

    it('filters by task type', async () => {
      await store.insertOutcomes([row(1), row(2, { taskType: 'testing' }), row(3)]);
      const rows = await store.outcomes('t1', { taskType: 'testing' });
      expect(rows.map((stored) => stored.id)).toEqual([uuid(2)]);
    });

    it('filters by namespace, with "" selecting outcomes without one', async () => {
      await store.insertOutcomes([row(1), row(2, { namespace: '' }), row(3, { namespace: 'ops' })]);
      const rows = await store.outcomes('t1', { namespace: '' });
      expect(rows.map((stored) => stored.id)).toEqual([uuid(2)]);
    });

    it('keeps tenants apart', async () => {
      await store.insertOutcomes([row(1), row(2, { tenant: 't2' })]);
      const rows = await store.outcomes('t2');
      expect(rows.map((stored) => stored.id)).toEqual([uuid(2)]);
    });

    it('treats the same id in two tenants as two outcomes', async () => {
      await store.insertOutcomes([row(1)]);
      const inserted = await store.insertOutcomes([row(1, { tenant: 't2' })]);
      expect([...inserted]).toEqual([uuid(1)]);
    });

    it('totals executions and successes per task type across tenants', async () => {
      await store.insertOutcomes([
        row(1),
        row(2),
        row(4, { tenant: 't2' }),
        row(6, { taskType: 'testing' }),
      ]);
      const totals = (await store.taskTypeTotals()).sort((a, b) =>
        a.taskType.localeCompare(b.taskType),
      );
      expect(totals).toEqual([
        { taskType: 'deployment', executions: 3, successes: 2 },
        { taskType: 'testing', executions: 1, successes: 1 },
      ]);
    });

    it('has no pattern memory state before one is saved', async () => {
      expect(await store.patternMemory('t1', uuid(9))).toBeUndefined();
    });

    it('replaces the pattern memory state on save', async () => {
      await store.savePatternMemory('t1', {
        patternId: uuid(9),
        digest: 'a',
        sentAt: '2026-05-01T00:00:00.000Z',
      });
      await store.savePatternMemory('t1', {
        patternId: uuid(9),
        digest: 'b',
        sentAt: '2026-05-02T00:00:00.000Z',
      });
      expect(await store.patternMemory('t1', uuid(9))).toEqual({
        patternId: uuid(9),
        digest: 'b',
        sentAt: '2026-05-02T00:00:00.000Z',
      });
    });

    it('keeps pattern memory state per tenant', async () => {
      await store.savePatternMemory('t1', {
        patternId: uuid(9),
        digest: 'a',
        sentAt: '2026-05-01T00:00:00.000Z',
      });
      expect(await store.patternMemory('t2', uuid(9))).toBeUndefined();
    });

    it('keeps outcomes across a reopen', async () => {
      await store.insertOutcomes([row(1), row(2)]);
      store = await fixture.reopen();
      const inserted = await store.insertOutcomes([row(2), row(3)]);
      expect([...inserted]).toEqual([uuid(3)]);
    });
  });
}
