import type { MemoryRecord, SessionCompactionReport, StoreMemoryInput } from '@membus/contracts';

/**
 * A compaction decided but maybe not finished: written before anything changes, so a
 * restarted compactor finishes it exactly (same summary, same originals).
 */
export interface CompactionPlan {
  tenant: string;
  sessionId: string;
  /** The summary to store (or the new text of the existing summary). */
  summary: Omit<StoreMemoryInput, 'v'> & { id: string; text: string };
  /** Whether the summary already existed (then it is updated, not stored). */
  updateSummary: boolean;
  /** The originals to archive and/or delete once the summary is queryable. */
  sourceIds: string[];
  /** The report, completed when the plan is done. */
  report: SessionCompactionReport;
  /** `pending` until every step took effect. */
  state: 'pending' | 'done';
}

export interface LifecycleStoreCapabilities {
  /** Adapter name for logs, e.g. `sqlite`, `mongodb`. */
  name: string;
}

/**
 * What the compactor keeps: compaction plans and reports, archived originals, and session
 * activity (for idle compaction). Adapters: sqlite (embedded), mongodb.
 */
export interface LifecycleStore {
  readonly capabilities: LifecycleStoreCapabilities;
  /** Inserts or replaces the plan of (tenant, sessionId). */
  savePlan(plan: CompactionPlan): Promise<void>;
  /** The latest plan of a session. */
  plan(tenant: string, sessionId: string): Promise<CompactionPlan | undefined>;
  /** Plans not yet done, oldest first. */
  pendingPlans(): Promise<CompactionPlan[]>;
  /** Keeps copies of memories removed from the index; idempotent by (tenant, id). */
  archive(tenant: string, records: readonly MemoryRecord[]): Promise<void>;
  /** Archived memories of a session, oldest first. */
  archived(tenant: string, sessionId: string): Promise<MemoryRecord[]>;
  /** Records activity in a session at `at` (ms since epoch); the latest time wins. */
  touchSession(tenant: string, sessionId: string, at: number): Promise<void>;
  /** Sessions with no activity since `before`, oldest first. */
  idleSessions(before: number, limit: number): Promise<{ tenant: string; sessionId: string }[]>;
  /**
   * Stops tracking a session (after it was compacted). With `upTo` (ms since epoch), only if its
   * last activity is at or before that time: activity recorded while it was being compacted
   * keeps it tracked, so it is compacted again once idle.
   */
  forgetSession(tenant: string, sessionId: string, upTo?: number): Promise<void>;
  /** Tenants seen so far (for scheduled sweeps). */
  tenants(): Promise<string[]>;
  /** Remembers a tenant. */
  addTenant(tenant: string): Promise<void>;
  close(): Promise<void>;
}
