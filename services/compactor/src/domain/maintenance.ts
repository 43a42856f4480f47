import type {
  AuditReply,
  AuditRequest,
  MemoryRecord,
  Sweep,
  SweepReport,
  Tier,
} from '@membus/contracts';
import { audit } from './audit.ts';
import type { TierGroupOwner } from './heat.ts';
import {
  ChangeList,
  type MaintenanceContext,
  type MaintenanceOptions,
  type SweepCounts,
  tally,
} from './maintenance-context.ts';
import { duplicateSweep } from './near-duplicates.ts';
import { applyRetention, importanceSweep, retentionSweep } from './retention-importance.ts';
import {
  enforceGroup,
  enforceTiersFor,
  noTierChanges,
  type TierOutcome,
  tiersSweep,
} from './tier-capacity.ts';

export type {
  ChangeSource,
  ImportanceRule,
  LifecycleChange,
  MaintenanceOptions,
  SweepCounts,
} from './maintenance-context.ts';
export { ChangeList, isLastingKnowledge, PERMANENT_TAG } from './maintenance-context.ts';
export type { TierOutcome } from './tier-capacity.ts';

/**
 * Retention, expiry, near-duplicate merging, tier capacities, importance rules and audits.
 * Each pass lives in its own module (retention-importance, near-duplicates, tier-capacity,
 * audit); this class holds the options and runs them.
 */
export class Maintenance {
  readonly #context: MaintenanceContext;

  constructor(options: MaintenanceOptions) {
    this.#context = { options, clock: options.clock ?? Date.now };
  }

  /** Runs sweeps in a fixed order (retention before expiry, merging before tiers). */
  async sweep(tenant: string, sweeps: readonly Sweep[], dryRun: boolean): Promise<SweepReport> {
    const started = this.#context.clock();
    const changes = new ChangeList();
    const report: SweepCounts = {
      expired: 0,
      retentionApplied: 0,
      clustersMerged: 0,
      memoriesMerged: 0,
      tierMoves: 0,
      evicted: 0,
      archived: 0,
      overCapacityKept: 0,
      droppedUnimportant: 0,
      changes: changes.listed,
      changesOmitted: 0,
    };
    const wanted = new Set(sweeps);
    if (wanted.has('retention')) {
      report.retentionApplied = await this.retentionSweep(tenant, dryRun);
      tally(this.#context, 'retention', dryRun, { retention: report.retentionApplied });
    }
    if (wanted.has('expire')) {
      const expired = await this.#context.options.memories.expire(tenant, dryRun);
      report.expired = expired.expired;
      for (const id of expired.ids)
        changes.add({ id, action: 'expired', reason: 'past its expiry' });
      changes.omitted += Math.max(0, expired.expired - expired.ids.length);
      tally(this.#context, 'expire', dryRun, { expired: expired.expired });
    }
    if (wanted.has('importance'))
      report.droppedUnimportant = await this.importanceSweep(tenant, dryRun, changes);
    if (wanted.has('duplicates')) {
      const merged = await this.duplicateSweep(tenant, dryRun, changes);
      report.clustersMerged = merged.clusters;
      report.memoriesMerged = merged.memories;
    }
    if (wanted.has('tiers')) {
      const tiers = await this.tiersSweep(tenant, dryRun, changes);
      report.tierMoves = tiers.moves;
      report.evicted = tiers.evicted;
      report.archived = tiers.archived;
      report.overCapacityKept = tiers.keptOver;
    }
    report.changesOmitted = changes.omitted;
    return { ...report, durationMs: this.#context.clock() - started };
  }

  /**
   * What `memory.stored` events set off: retention for the new memories and, with
   * `tiers`, the capacities of the owner groups they joined.
   */
  async onStored(
    tenant: string,
    created: readonly MemoryRecord[],
    options: { tiers: boolean },
  ): Promise<{ retentionApplied: number; tiers: TierOutcome }> {
    const retentionApplied = await this.applyRetention(tenant, created);
    tally(this.#context, 'store', false, { retention: retentionApplied });
    const tiers = options.tiers ? await this.enforceTiersFor(tenant, created) : noTierChanges();
    return { retentionApplied, tiers };
  }

  /** Gives new memories the expiry their retention policy asks for; returns how many changed. */
  applyRetention(
    tenant: string,
    memories: readonly MemoryRecord[],
    dryRun = false,
  ): Promise<number> {
    return applyRetention(this.#context, tenant, memories, dryRun);
  }

  /** Applies retention to every memory, page by page (see {@link retentionSweep}). */
  retentionSweep(tenant: string, dryRun: boolean): Promise<number> {
    return retentionSweep(this.#context, tenant, dryRun);
  }

  /** Drops old unimportant memories (see {@link importanceSweep}). */
  importanceSweep(tenant: string, dryRun: boolean, changes = new ChangeList()): Promise<number> {
    return importanceSweep(this.#context, tenant, dryRun, changes);
  }

  /** Merges near duplicates (see {@link duplicateSweep}). */
  duplicateSweep(
    tenant: string,
    dryRun: boolean,
    changes = new ChangeList(),
  ): Promise<{ clusters: number; memories: number }> {
    return duplicateSweep(this.#context, tenant, dryRun, changes);
  }

  /** Holds every owner group's tiers to their capacities (see {@link tiersSweep}). */
  tiersSweep(tenant: string, dryRun: boolean, changes = new ChangeList()): Promise<TierOutcome> {
    return tiersSweep(this.#context, tenant, dryRun, changes);
  }

  /** Holds the owner groups of these memories to their capacities (see {@link enforceTiersFor}). */
  enforceTiersFor(
    tenant: string,
    changed: readonly MemoryRecord[],
    changes = new ChangeList(),
  ): Promise<TierOutcome> {
    return enforceTiersFor(this.#context, tenant, changed, changes);
  }

  /** Holds one owner group to its tier capacities (see {@link enforceGroup}). */
  enforceGroup(
    tenant: string,
    owner: TierGroupOwner,
    counts: Record<Tier, number>,
    options: { dryRun: boolean; changes?: ChangeList; examineMid?: boolean },
  ): Promise<TierOutcome> {
    return enforceGroup(this.#context, tenant, owner, counts, options);
  }

  /** Quality audit: counts, near duplicates, stale memories, full tiers, advice (see {@link audit}). */
  audit(tenant: string, request: AuditRequest): Promise<Omit<AuditReply, 'v'>> {
    return audit(this.#context, tenant, request);
  }
}
