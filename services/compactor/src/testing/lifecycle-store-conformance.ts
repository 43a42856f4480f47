import type { MemoryRecord } from '@membus/contracts';
import { describe, expect, it } from 'vitest';
import type { CompactionPlan, LifecycleStore } from '../ports/lifecycle-store.ts';
import { testMemory } from './memory-record.ts';

export interface LifecycleStoreConformanceOptions {
  /** A fresh, empty store per test. */
  create: () => Promise<LifecycleStore>;
}

function record(id: string, sessionId: string, createdAt: string): MemoryRecord {
  return testMemory({ id, scope: 'session', sessionId, createdAt });
}

function plan(sessionId: string, state: CompactionPlan['state']): CompactionPlan {
  return {
    tenant: 't',
    sessionId,
    summary: { id: '00000000-0000-4000-8000-000000000001', text: 'summary' },
    updateSummary: false,
    sourceIds: ['00000000-0000-4000-8000-000000000002'],
    state,
    report: {
      sessionId,
      memoriesIn: 1,
      memoriesOut: 1,
      duplicatesRemoved: 0,
      patternsExtracted: 0,
      originalBytes: 10,
      compactedBytes: 5,
      compressionRatio: 0.5,
      originals: 'deleted',
      durationMs: 1,
      dryRun: false,
      alreadyCompacted: false,
    },
  };
}

/** Touches tenant t's sessions at these times, session by session, in order. */
async function touchSessions(
  store: LifecycleStore,
  times: Record<string, readonly number[]>,
): Promise<void> {
  for (const [sessionId, at] of Object.entries(times)) {
    for (const time of at) await store.touchSession('t', sessionId, time);
  }
}

const ID_A = '00000000-0000-4000-8000-00000000000a';
const ID_B = '00000000-0000-4000-8000-00000000000b';

/** One suite every LifecycleStore adapter passes; each case asserts one outcome. */
export function createLifecycleStoreConformanceSuite(options: LifecycleStoreConformanceOptions) {
  const withStore = async (test: (store: LifecycleStore) => Promise<void>) => {
    const store = await options.create();
    try {
      await test(store);
    } finally {
      await store.close();
    }
  };

  describe('plans', () => {
    it('returns the saved plan of a session', () =>
      withStore(async (store) => {
        await store.savePlan(plan('s1', 'pending'));
        expect((await store.plan('t', 's1'))?.sourceIds).toEqual(plan('s1', 'pending').sourceIds);
      }));

    it('replaces a plan saved again for the same session', () =>
      withStore(async (store) => {
        await store.savePlan(plan('s1', 'pending'));
        await store.savePlan(plan('s1', 'done'));
        expect((await store.plan('t', 's1'))?.state).toBe('done');
      }));

    it('lists only pending plans, oldest first', () =>
      withStore(async (store) => {
        await store.savePlan(plan('s1', 'pending'));
        await store.savePlan(plan('s2', 'done'));
        await store.savePlan(plan('s3', 'pending'));
        expect((await store.pendingPlans()).map((pending) => pending.sessionId)).toEqual([
          's1',
          's3',
        ]);
      }));
  });

  describe('archive', () => {
    it('keeps each archived memory once, oldest first, per session', () =>
      withStore(async (store) => {
        await store.archive('t', [record(ID_B, 's1', '2026-01-02T00:00:00.000Z')]);
        await store.archive('t', [
          record(ID_A, 's1', '2026-01-01T00:00:00.000Z'),
          record(ID_B, 's1', '2026-01-02T00:00:00.000Z'),
        ]);
        expect((await store.archived('t', 's1')).map((archived) => archived.id)).toEqual([
          ID_A,
          ID_B,
        ]);
      }));
  });

  describe('sessions', () => {
    it('reports sessions idle since a time, keeping the latest activity', () =>
      withStore(async (store) => {
        await touchSessions(store, { old: [1_000], busy: [1_000, 5_000, 2_000] });
        expect(await store.idleSessions(3_000, 10)).toEqual([{ tenant: 't', sessionId: 'old' }]);
      }));

    it('forgets a session', () =>
      withStore(async (store) => {
        await touchSessions(store, { old: [1_000] });
        await store.forgetSession('t', 'old');
        expect(await store.idleSessions(3_000, 10)).toEqual([]);
      }));

    it('keeps a session with activity after the time it is forgotten up to', () =>
      withStore(async (store) => {
        await touchSessions(store, { done: [1_000], active: [1_000, 2_500] });
        await store.forgetSession('t', 'done', 2_000);
        await store.forgetSession('t', 'active', 2_000);
        expect(await store.idleSessions(3_000, 10)).toEqual([{ tenant: 't', sessionId: 'active' }]);
      }));

    it('remembers each tenant once', () =>
      withStore(async (store) => {
        await store.addTenant('b');
        await store.addTenant('a');
        await store.addTenant('b');
        expect(await store.tenants()).toEqual(['a', 'b']);
      }));
  });
}
