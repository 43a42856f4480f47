import { connectBus } from '@membus/bus';
import { startNatsServer, waitFor } from '@membus/bus/testing';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteLifecycleStore } from '../src/adapters/sqlite-lifecycle-store.ts';
import type { Maintenance } from '../src/domain/maintenance.ts';
import { emptyReport, type SessionCompactor } from '../src/domain/session-compactor.ts';
import { type CompactorParts, startSchedules } from '../src/handlers.ts';
import { createCompactorMetrics } from '../src/metrics.ts';

describe('idle session schedule', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('goes on past a session whose compaction fails, and keeps that one for the next check', async () => {
    const nats = await startNatsServer();
    cleanups.push(() => nats.stop());
    const nc = await connectBus({ servers: nats.url, name: 'schedules-test' });
    cleanups.push(() => nc.close());
    const store = openSqliteLifecycleStore({ path: ':memory:' });
    const compacted: string[] = [];
    const errors: string[] = [];
    // The session compactor itself is covered elsewhere; here one session always fails.
    const compactor = {
      async compact(_tenant: string, sessionId: string) {
        if (sessionId === 'broken') throw new Error('summary store unavailable');
        compacted.push(sessionId);
        return emptyReport(sessionId, 0, false, 0);
      },
    } as unknown as SessionCompactor;
    const parts: CompactorParts = {
      nc,
      compactor,
      maintenance: {} as Maintenance,
      store,
      metrics: createCompactorMetrics(new Registry()),
      onError: (message) => errors.push(message),
    };
    // Oldest first: the broken session comes before the others on every check.
    await store.touchSession('t', 'broken', 1_000);
    await store.touchSession('t', 'first', 2_000);
    await store.touchSession('t', 'second', 3_000);

    const stop = startSchedules(parts, {
      sweepIntervalMs: 0,
      sessionIdleMs: 1,
      idleCheckMs: 20,
      tenants: [],
    });
    cleanups.push(stop);
    await waitFor(() => compacted.includes('second'), { what: 'the second idle session' });
    expect(compacted.slice(0, 2)).toEqual(['first', 'second']);
    await waitFor(() => errors.length >= 2, { what: 'the broken session retried' });
    expect(errors[0]).toContain('broken');
    expect(await store.idleSessions(Date.now(), 10)).toEqual([
      { tenant: 't', sessionId: 'broken' },
    ]);
  });
});
