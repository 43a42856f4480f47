import { emitEvent, type ItemResult, type NatsConnection, type StreamItem } from '@membus/bus';
import {
  MembusError,
  type MemoryEvent,
  type MemoryRecord,
  Operations,
  type SessionCompactionReport,
  type SessionEnd,
  sweepValues,
} from '@membus/contracts';
import type { OperationServer } from '@membus/service-runtime';
import type { Maintenance } from './domain/maintenance.ts';
import type { SessionCompactor } from './domain/session-compactor.ts';
import type { CompactorMetrics } from './metrics.ts';
import type { LifecycleStore } from './ports/lifecycle-store.ts';

export interface CompactorParts {
  nc: NatsConnection;
  compactor: SessionCompactor;
  maintenance: Maintenance;
  store: LifecycleStore;
  metrics: CompactorMetrics;
  onError: (message: string, error: unknown) => void;
}

/** Compacts, records metrics and announces the result (`Operations.compacted`). */
export async function compactSession(
  parts: CompactorParts,
  tenant: string,
  sessionId: string,
  trigger: string,
  dryRun = false,
): Promise<SessionCompactionReport> {
  try {
    const report = await parts.compactor.compact(tenant, sessionId, { dryRun });
    parts.metrics.recordCompaction(trigger, report);
    if (!dryRun && report.memoriesIn > 0 && !report.alreadyCompacted) {
      emitEvent(parts.nc, Operations.compacted, tenant, { report, at: new Date().toISOString() });
    }
    return report;
  } catch (error) {
    parts.metrics.recordFailure(trigger);
    throw error;
  }
}

/** `Operations.compact` and `Operations.audit`, in the compactor's queue group. */
export function serveRequests(serve: OperationServer, parts: CompactorParts): void {
  serve(Operations.compact, async (request, { tenant }) => {
    await parts.store.addTenant(tenant);
    const session = request.sessionId
      ? await compactSession(parts, tenant, request.sessionId, 'request', request.dryRun)
      : undefined;
    const sweeps =
      request.sweeps && request.sweeps.length > 0
        ? await parts.maintenance.sweep(tenant, request.sweeps, request.dryRun)
        : undefined;
    if (sweeps && !request.dryRun) parts.metrics.recordSweepDuration(sweeps);
    return {
      v: 1 as const,
      dryRun: request.dryRun,
      ...(session ? { session } : {}),
      ...(sweeps ? { sweeps } : {}),
    };
  });
  serve(Operations.audit, async (request, { tenant }) => ({
    v: 1 as const,
    ...(await parts.maintenance.audit(tenant, request)),
  }));
}

/** `Operations.sessionEnd`: compacts the session; the ack waits for the compaction. */
export function createSessionEndHandler(parts: CompactorParts) {
  return async (items: StreamItem<SessionEnd>[]): Promise<ItemResult[]> => {
    const results: ItemResult[] = [];
    for (const item of items) {
      try {
        await parts.store.addTenant(item.tenant);
        await compactSession(parts, item.tenant, item.value.sessionId, 'session_end');
        results.push({ ok: true });
      } catch (error) {
        results.push({ ok: false, error: MembusError.from(error) });
      }
    }
    return results;
  };
}

/**
 * `Operations.stored` events: tracks session activity for idle compaction, applies
 * retention policies to new memories and (with `tiersOnStore`) holds tier capacities.
 */
export function createStoredEventHandler(
  parts: CompactorParts,
  options: { tiersOnStore: boolean },
) {
  return async (items: StreamItem<MemoryEvent>[]): Promise<ItemResult[]> => {
    const byTenant = new Map<string, MemoryRecord[]>();
    for (const item of items) {
      const memory = item.value.memory;
      if (item.value.change !== 'created' || !memory) continue;
      byTenant.set(item.tenant, [...(byTenant.get(item.tenant) ?? []), memory]);
    }
    try {
      for (const [tenant, created] of byTenant) {
        await parts.store.addTenant(tenant);
        const latest = new Map<string, number>();
        for (const memory of created)
          if (memory.sessionId && memory.kind !== 'summary')
            latest.set(
              memory.sessionId,
              Math.max(latest.get(memory.sessionId) ?? 0, Date.parse(memory.updatedAt)),
            );
        for (const [sessionId, at] of latest) await parts.store.touchSession(tenant, sessionId, at);
        // Retention, then tiers: lists only the tiers of the new memories' owner groups that
        // may be past their capacity, page by page, so no reply grows with the tenant.
        await parts.maintenance.onStored(tenant, created, { tiers: options.tiersOnStore });
      }
      return items.map(() => ({ ok: true }));
    } catch (error) {
      const failure = MembusError.from(error);
      return items.map(() => ({ ok: false, error: failure }));
    }
  };
}

/** Scheduled sweeps and idle-session compaction; returns a stop function. */
export function startSchedules(
  parts: CompactorParts,
  options: {
    sweepIntervalMs: number;
    sessionIdleMs: number;
    idleCheckMs: number;
    tenants: readonly string[];
  },
): () => Promise<void> {
  const timers: NodeJS.Timeout[] = [];
  let running: Promise<void> = Promise.resolve();
  // One job at a time; a tick that finds one still running is skipped.
  let busy = false;
  const schedule = (everyMs: number, job: () => Promise<void>) => {
    timers.push(
      setInterval(() => {
        if (busy) return;
        busy = true;
        running = job()
          .catch((error: unknown) => parts.onError('scheduled job failed', error))
          .finally(() => {
            busy = false;
          });
      }, everyMs),
    );
  };
  if (options.sweepIntervalMs > 0)
    schedule(options.sweepIntervalMs, async () => {
      const tenants = new Set([...options.tenants, ...(await parts.store.tenants())]);
      for (const tenant of tenants) {
        const report = await parts.maintenance.sweep(tenant, sweepValues, false);
        parts.metrics.recordSweepDuration(report);
      }
    });
  if (options.sessionIdleMs > 0)
    schedule(options.idleCheckMs, async () => {
      const before = Date.now() - options.sessionIdleMs;
      const idle = await parts.store.idleSessions(before, 100);
      for (const { tenant, sessionId } of idle) {
        // One failing session (reported, retried next time) must not hold up the others.
        try {
          await compactSession(parts, tenant, sessionId, 'idle');
          // Also for sessions with nothing to compact; not if activity came in meanwhile.
          await parts.store.forgetSession(tenant, sessionId, before);
        } catch (error) {
          parts.onError(`idle compaction of session ${sessionId} failed`, error);
        }
      }
    });
  return async () => {
    for (const timer of timers) clearInterval(timer);
    await running;
  };
}
