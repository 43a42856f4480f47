import {
  type AuditReply,
  type AuditRequest,
  DefaultTierOverflow,
  type DuplicatePair,
  Limits,
  type MemoryFilter,
  type MemoryRecord,
  type RetentionPolicy,
  type StaleMemory,
  SWEEP_CHANGES_LISTED,
  type Sweep,
  type SweepChange,
  type SweepReport,
  type Tier,
  type TierCapacity,
  type TierOverflowPolicy,
} from '@membus/contracts';
import type { EmbedPort } from '../ports/embed-port.ts';
import { collect, listAll, type MemoryPort } from '../ports/memory-port.ts';
import { byHeatAscending, type TierGroupOwner, tierGroupKey } from './heat.ts';
import { retentionExpiry } from './retention.ts';
import { similarityClusters } from './vectors.ts';

const DAY_MS = 86_400_000;

/** The tag that marks a memory as permanent knowledge (USE-CASES §3). */
export const PERMANENT_TAG = 'permanent';

/**
 * Lasting knowledge — tagged `permanent`, or a pattern or preference — belongs in the long
 * tier: tier capacities never remove it and the importance rule never drops it.
 */
export function isLastingKnowledge(memory: MemoryRecord): boolean {
  return (
    memory.kind === 'pattern' || memory.kind === 'preference' || memory.tags.includes(PERMANENT_TAG)
  );
}

export interface ImportanceRule {
  /** Memories below this importance ... */
  below: number;
  /** ... and older than this many days are dropped. `below: 0` turns the rule off. */
  afterDays: number;
}

/** A change a pass made, as `membus_lifecycle_changes_total` counts it. */
export type LifecycleChange =
  | 'retention'
  | 'expired'
  | 'merged'
  | 'dropped'
  | 'promoted'
  | 'demoted'
  | 'archived'
  | 'deleted'
  | 'overflow_kept';

/** Which pass made a change: a sweep, or the handling of `memory.stored` events. */
export type ChangeSource = Sweep | 'store';

export interface MaintenanceOptions {
  memories: MemoryPort;
  embed: EmbedPort;
  retention: readonly RetentionPolicy[];
  capacity: (namespace: string | undefined) => TierCapacity;
  /** What a full tier does with its overflow (default: demote short and mid, keep long). */
  overflow?: (namespace: string | undefined) => TierOverflowPolicy;
  duplicateThreshold: (namespace: string | undefined) => number;
  importance: ImportanceRule;
  /** Keeps copies of memories an `archive` overflow policy removes from the index. */
  archive?: (tenant: string, records: readonly MemoryRecord[]) => Promise<void>;
  /** Changes made (never called for a dry run): for metrics. */
  onChanges?: (source: ChangeSource, changes: Partial<Record<LifecycleChange, number>>) => void;
  /** Most memories (newest first) one duplicate sweep or audit compares for near duplicates. */
  maxMemories?: number;
  /** Most memories of one owner, namespace and kind compared with each other (newest first). */
  duplicateWindow?: number;
  clock?: () => number;
}

export type SweepCounts = Omit<SweepReport, 'durationMs'>;

/** What holding one or more owner groups to their tier capacities did (or would do). */
export interface TierOutcome {
  /** Memories moved between tiers (promoted + demoted). */
  moves: number;
  promoted: number;
  demoted: number;
  /** Memories removed by an `archive` or `delete` overflow policy. */
  evicted: number;
  /** Of `evicted`, those archived. */
  archived: number;
  /** Memories past a capacity left in place (overflow policy `keep`, or lasting knowledge). */
  keptOver: number;
  /** Memories moved into a tier already past its capacity whose policy is `keep`. */
  arrivedOver: number;
}

const noTierChanges = (): TierOutcome => ({
  moves: 0,
  promoted: 0,
  demoted: 0,
  evicted: 0,
  archived: 0,
  keptOver: 0,
  arrivedOver: 0,
});

function addOutcome(total: TierOutcome, part: TierOutcome): void {
  for (const key of Object.keys(total) as (keyof TierOutcome)[]) total[key] += part[key];
}

/** The changes one sweep report lists: the first {@link SWEEP_CHANGES_LISTED}, then a count. */
export class ChangeList {
  readonly listed: SweepChange[] = [];
  omitted = 0;

  add(change: SweepChange): void {
    if (this.listed.length < SWEEP_CHANGES_LISTED) this.listed.push(change);
    else this.omitted++;
  }
}

/** Near-duplicate pairs and stale memories an audit lists: at most this many ... */
const AUDIT_LISTED = 500;
/** ... and at most this many bytes of JSON each, so the reply stays far under the limit. */
const AUDIT_LIST_BYTES = 64 * 1024;
/** Memories per retention / duplicate step (one embed batch). */
const STEP = Limits.embedBatch;
const TIERS: readonly Tier[] = ['short', 'mid', 'long'];
const NEXT_TIER: Record<Tier, Tier | undefined> = { short: 'mid', mid: 'long', long: undefined };

interface Candidate {
  id: string;
  namespace: string | undefined;
  occurrences: number;
  createdAt: string;
  text: string;
  vector: Float32Array;
}

/**
 * A bounded sample for near-duplicate detection: the first `limit` memories offered (newest
 * first), each owner group and kind holding at most `window` of them; texts are embedded a
 * batch at a time and only vectors and shortened texts are kept.
 */
class DuplicateSampler {
  readonly windows = new Map<string, Candidate[]>();
  readonly #counts = new Map<string, number>();
  #pending: { key: string; memory: MemoryRecord }[] = [];
  sampled = 0;

  constructor(
    readonly embed: EmbedPort,
    readonly limit: number,
    readonly window: number,
  ) {}

  async add(memory: MemoryRecord): Promise<void> {
    if (this.sampled >= this.limit) return;
    const key = `${tierGroupKey(memory)}|${memory.kind}`;
    const count = this.#counts.get(key) ?? 0;
    if (count >= this.window) return;
    this.#counts.set(key, count + 1);
    this.sampled++;
    this.#pending.push({ key, memory });
    if (this.#pending.length >= STEP) await this.flush();
  }

  async flush(): Promise<void> {
    const pending = this.#pending;
    this.#pending = [];
    if (pending.length === 0) return;
    const vectors = await this.embed.embed(pending.map(({ memory }) => memory.text));
    pending.forEach(({ key, memory }, index) => {
      const window = this.windows.get(key) ?? [];
      this.windows.set(key, window);
      window.push({
        id: memory.id,
        namespace: memory.namespace,
        occurrences: memory.occurrences,
        createdAt: memory.createdAt,
        text: shorten(memory.text),
        vector: vectors[index] as Float32Array,
      });
    });
  }
}

/** Retention, expiry, near-duplicate merging, tier capacities, importance rules and audits. */
export class Maintenance {
  readonly #options: MaintenanceOptions;
  readonly #clock: () => number;

  constructor(options: MaintenanceOptions) {
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
  }

  /** Runs sweeps in a fixed order (retention before expiry, merging before tiers). */
  async sweep(tenant: string, sweeps: readonly Sweep[], dryRun: boolean): Promise<SweepReport> {
    const started = this.#clock();
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
      this.#tally('retention', dryRun, { retention: report.retentionApplied });
    }
    if (wanted.has('expire')) {
      const expired = await this.#options.memories.expire(tenant, dryRun);
      report.expired = expired.expired;
      for (const id of expired.ids)
        changes.add({ id, action: 'expired', reason: 'past its expiry' });
      changes.omitted += Math.max(0, expired.expired - expired.ids.length);
      this.#tally('expire', dryRun, { expired: expired.expired });
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
    return { ...report, durationMs: this.#clock() - started };
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
    this.#tally('store', false, { retention: retentionApplied });
    const tiers = options.tiers ? await this.enforceTiersFor(tenant, created) : noTierChanges();
    return { retentionApplied, tiers };
  }

  /** Gives new memories the expiry their retention policy asks for; returns how many changed. */
  async applyRetention(
    tenant: string,
    memories: readonly MemoryRecord[],
    dryRun = false,
  ): Promise<number> {
    let applied = 0;
    for (const memory of memories) {
      const expiresAt = retentionExpiry(this.#options.retention, memory);
      if (expiresAt === undefined) continue;
      applied++;
      if (dryRun) continue;
      try {
        await this.#options.memories.update(tenant, memory.id, {
          expiresAt,
          reason: 'retention policy (RETENTION_POLICIES)',
        });
      } catch (error) {
        // Deleted or merged meanwhile: nothing left to expire.
        if (!isNotFound(error)) throw error;
        applied--;
      }
    }
    return applied;
  }

  /**
   * Applies retention to every memory (catches up on stores made while the compactor was
   * down), page by page.
   */
  async retentionSweep(tenant: string, dryRun: boolean): Promise<number> {
    let applied = 0;
    let batch: MemoryRecord[] = [];
    for await (const memory of listAll(this.#options.memories, tenant)) {
      batch.push(memory);
      if (batch.length < STEP) continue;
      applied += await this.applyRetention(tenant, batch, dryRun);
      batch = [];
    }
    return applied + (await this.applyRetention(tenant, batch, dryRun));
  }

  /**
   * Drops memories under the importance threshold once they are older than `afterDays`; the
   * long tier and lasting knowledge (tagged `permanent`, patterns, preferences) are exempt.
   * Each drop is a DELETE with the rule as its reason.
   */
  async importanceSweep(
    tenant: string,
    dryRun: boolean,
    changes = new ChangeList(),
  ): Promise<number> {
    const rule = this.#options.importance;
    if (rule.below <= 0) return 0;
    const cutoffMs = this.#clock() - rule.afterDays * DAY_MS;
    const cutoff = new Date(cutoffMs).toISOString();
    const doomed: { id: string; tier: Tier }[] = [];
    for await (const memory of listAll(this.#options.memories, tenant, {
      createdAt: { lt: cutoff },
    }))
      if (
        memory.importance < rule.below &&
        Date.parse(memory.createdAt) < cutoffMs &&
        memory.tier !== 'long' &&
        !isLastingKnowledge(memory)
      )
        doomed.push({ id: memory.id, tier: memory.tier });
    const reason = `importance rule: importance below ${rule.below} and older than ${rule.afterDays} days (IMPORTANCE_DROP_BELOW)`;
    const tiers = new Map(doomed.map(({ id, tier }) => [id, tier]));
    let dropped: string[] = doomed.map(({ id }) => id);
    if (!dryRun) {
      const deleted: string[] = [];
      for (let start = 0; start < dropped.length; start += Limits.ids)
        deleted.push(
          ...(await this.#options.memories.delete(
            tenant,
            dropped.slice(start, start + Limits.ids),
            reason,
          )),
        );
      dropped = deleted;
    }
    for (const id of dropped)
      changes.add({ id, action: 'dropped', ...optionalTier('from', tiers.get(id)), reason });
    this.#tally('importance', dryRun, { dropped: dropped.length });
    return dropped.length;
  }

  /**
   * Merges near duplicates within each scope owner, namespace and kind: the memory with the
   * most occurrences (then the oldest) stays and absorbs the others. Looks at the newest
   * `maxMemories` (default 5,000) memories of the tenant, at most `duplicateWindow` (default
   * 1,000) of each owner, namespace and kind: bounded in memory and time on a tenant of any size.
   */
  async duplicateSweep(
    tenant: string,
    dryRun: boolean,
    changes = new ChangeList(),
  ): Promise<{ clusters: number; memories: number }> {
    const sampler = this.#sampler(this.#maxMemories);
    for await (const memory of listAll(this.#options.memories, tenant)) {
      if (sampler.sampled >= sampler.limit) break;
      await sampler.add(memory);
    }
    await sampler.flush();
    let clusters = 0;
    let memories = 0;
    for (const window of sampler.windows.values()) {
      if (window.length < 2) continue;
      const threshold = this.#options.duplicateThreshold(window[0]?.namespace);
      for (const cluster of similarityClusters(
        window.map((candidate) => candidate.vector),
        threshold,
      )) {
        const members = cluster.map((index) => window[index] as Candidate);
        members.sort(
          (a, b) =>
            b.occurrences - a.occurrences ||
            a.createdAt.localeCompare(b.createdAt) ||
            a.id.localeCompare(b.id),
        );
        const [target, ...sources] = members as [Candidate, ...Candidate[]];
        clusters++;
        const reason = `near duplicate of ${target.id}`;
        let merged = sources.map((source) => source.id);
        if (!dryRun) {
          merged = [];
          for (let start = 0; start < sources.length; start += Limits.ids) {
            try {
              const reply = await this.#options.memories.merge(tenant, {
                targetId: target.id,
                sourceIds: sources.slice(start, start + Limits.ids).map((source) => source.id),
              });
              merged.push(...reply.merged);
            } catch (error) {
              if (!isNotFound(error)) throw error;
            }
          }
        }
        memories += merged.length;
        for (const id of merged) changes.add({ id, action: 'merged', reason });
      }
    }
    this.#tally('duplicates', dryRun, { merged: memories });
    return { clusters, memories };
  }

  /**
   * Holds every owner group's tiers to their capacities (see {@link enforceGroup}). One pass
   * over the tenant counts each group's tiers (only counts are kept); only groups past a
   * capacity are then listed, tier by tier.
   */
  async tiersSweep(
    tenant: string,
    dryRun: boolean,
    changes = new ChangeList(),
  ): Promise<TierOutcome> {
    const groups = new Map<
      string,
      { owner: TierGroupOwner; counts: Record<Tier, number>; lastingInMid: boolean }
    >();
    for await (const memory of listAll(this.#options.memories, tenant)) {
      const key = tierGroupKey(memory);
      let group = groups.get(key);
      if (!group) {
        group = {
          owner: ownerOf(memory),
          counts: { short: 0, mid: 0, long: 0 },
          lastingInMid: false,
        };
        groups.set(key, group);
      }
      group.counts[memory.tier]++;
      if (memory.tier === 'mid' && isLastingKnowledge(memory)) group.lastingInMid = true;
    }
    const total = noTierChanges();
    for (const group of groups.values()) {
      const capacity = this.#options.capacity(group.owner.namespace);
      if (!group.lastingInMid && TIERS.every((tier) => group.counts[tier] <= capacity[tier]))
        continue;
      addOutcome(
        total,
        await this.enforceGroup(tenant, group.owner, group.counts, {
          dryRun,
          changes,
          examineMid: group.lastingInMid,
        }),
      );
    }
    this.#tallyTiers('tiers', dryRun, total);
    return total;
  }

  /**
   * Holds the owner groups these (new) memories belong to to their capacities; each group's
   * tier counts come from `memory.stats`, so a group within its capacities is not listed.
   */
  async enforceTiersFor(
    tenant: string,
    changed: readonly MemoryRecord[],
    changes = new ChangeList(),
  ): Promise<TierOutcome> {
    const total = noTierChanges();
    const seen = new Set<string>();
    for (const memory of changed) {
      const key = tierGroupKey(memory);
      if (seen.has(key)) continue;
      seen.add(key);
      const owner = ownerOf(memory);
      // Counts over the owner filter: for a group without a namespace they include the
      // owner's namespaced memories too, so they can only be too high (then a list decides).
      const stats = await this.#options.memories.stats(tenant, ownerFilter(owner));
      const counts = {
        short: stats.byTier.short ?? 0,
        mid: stats.byTier.mid ?? 0,
        long: stats.byTier.long ?? 0,
      };
      addOutcome(total, await this.enforceGroup(tenant, owner, counts, { dryRun: false, changes }));
    }
    this.#tallyTiers('store', false, total);
    return total;
  }

  /**
   * Holds one owner group (scope, owner id, namespace) to its tier capacities. A full tier's
   * overflow follows the namespace's overflow policy: `demote` moves it to the next tier
   * (short -> mid -> long; UPDATE with the reason in its history), `keep` leaves it (counted),
   * `archive` / `delete` remove it (DELETE with the reason; archive keeps a copy first).
   * - short: the oldest go first; lasting knowledge among them is promoted to long;
   * - mid: the coldest go first (heat: importance, accesses, recency); lasting knowledge
   *   found in mid moves to long;
   * - long: the last tier (`keep` by default); under `archive` / `delete` the coldest that
   *   are not lasting knowledge go; lasting knowledge is never removed by a capacity.
   * `counts` are the group's tier sizes (or upper bounds of them): a tier is listed only when
   * it may be past its capacity.
   */
  async enforceGroup(
    tenant: string,
    owner: TierGroupOwner,
    counts: Record<Tier, number>,
    options: { dryRun: boolean; changes?: ChangeList; examineMid?: boolean },
  ): Promise<TierOutcome> {
    const key = tierGroupKey(owner);
    const capacity = this.#options.capacity(owner.namespace);
    const policy = (this.#options.overflow ?? (() => DefaultTierOverflow))(owner.namespace);
    const now = this.#clock();
    const listTier = async (tier: Tier) =>
      (
        await collect(this.#options.memories, tenant, { ...ownerFilter(owner), tiers: [tier] })
      ).filter((memory) => tierGroupKey(memory) === key);
    type Placed = { memory: MemoryRecord; from: Tier };
    const moves: (Placed & { to: Tier; action: 'promoted' | 'demoted'; reason: string })[] = [];
    const removals: (Placed & { how: 'archive' | 'delete'; reason: string })[] = [];
    const outcome = noTierChanges();
    const toLong: (Placed & { action: 'promoted' | 'demoted'; reason: string })[] = [];
    const promote = (placed: Placed) =>
      toLong.push({
        ...placed,
        action: 'promoted',
        reason: 'lasting knowledge (pattern, preference or permanent) belongs in the long tier',
      });

    // short: the oldest past the capacity.
    let toMid: MemoryRecord[] = [];
    if (counts.short > capacity.short) {
      const short = (await listTier('short')).sort(
        (a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id),
      );
      for (const memory of short.slice(capacity.short)) {
        if (isLastingKnowledge(memory)) promote({ memory, from: 'short' });
        else if (policy.short === 'demote') toMid.push(memory);
        else if (policy.short === 'keep') outcome.keptOver++;
        else
          removals.push({
            memory,
            from: 'short',
            how: policy.short,
            reason: overflowReason('short', capacity.short, policy.short),
          });
      }
    }

    // mid: the coldest past the capacity, among what stays in mid and what arrives from short.
    if (counts.mid + toMid.length > capacity.mid || options.examineMid) {
      const mid: Placed[] = [];
      for (const memory of counts.mid > 0 ? await listTier('mid') : []) {
        if (isLastingKnowledge(memory)) promote({ memory, from: 'mid' });
        else mid.push({ memory, from: 'mid' });
      }
      mid.push(...toMid.map((memory) => ({ memory, from: 'short' as const })));
      mid.sort((a, b) => byHeatAscending(now)(a.memory, b.memory));
      const over = Math.max(0, mid.length - capacity.mid);
      for (const [index, placed] of mid.entries()) {
        const overflowing = index < over;
        if (overflowing && policy.mid === 'demote')
          toLong.push({ ...placed, action: 'demoted', reason: demoteReason('mid', capacity.mid) });
        else if (overflowing && (policy.mid === 'archive' || policy.mid === 'delete'))
          removals.push({
            ...placed,
            how: policy.mid,
            reason: overflowReason('mid', capacity.mid, policy.mid),
          });
        else {
          if (overflowing) outcome.keptOver++;
          if (placed.from === 'short')
            moves.push({
              ...placed,
              to: 'mid',
              action: 'demoted',
              reason: demoteReason('short', capacity.short),
            });
        }
      }
      toMid = [];
    }
    for (const memory of toMid)
      moves.push({
        memory,
        from: 'short',
        to: 'mid',
        action: 'demoted',
        reason: demoteReason('short', capacity.short),
      });

    // long: the last tier.
    const arriving = (placed: (typeof toLong)[number]) => moves.push({ ...placed, to: 'long' });
    if (counts.long + toLong.length <= capacity.long) toLong.forEach(arriving);
    else if (policy.long === 'keep') {
      const over = counts.long + toLong.length - capacity.long;
      outcome.keptOver += over;
      outcome.arrivedOver += Math.min(over, toLong.length);
      toLong.forEach(arriving);
    } else {
      const how = policy.long;
      const long = await listTier('long');
      const over = long.length + toLong.length - capacity.long;
      const pool: (Placed & { incoming?: (typeof toLong)[number] })[] = [
        ...long
          .filter((memory) => !isLastingKnowledge(memory))
          .map((memory) => ({ memory, from: 'long' as const })),
        ...toLong
          .filter((placed) => !isLastingKnowledge(placed.memory))
          .map((placed) => ({ memory: placed.memory, from: placed.from, incoming: placed })),
      ].sort((a, b) => byHeatAscending(now)(a.memory, b.memory));
      const victims = pool.slice(0, Math.max(0, over));
      outcome.keptOver += Math.max(0, over - victims.length);
      const removed = new Set(victims.map((placed) => placed.memory.id));
      for (const placed of victims)
        removals.push({
          memory: placed.memory,
          from: placed.from,
          how,
          reason: overflowReason('long', capacity.long, how),
        });
      for (const placed of toLong) if (!removed.has(placed.memory.id)) arriving(placed);
    }

    // Moves first, then removals (an archived copy before its delete).
    const changes = options.changes ?? new ChangeList();
    for (const move of moves) {
      if (!options.dryRun) {
        try {
          await this.#options.memories.update(tenant, move.memory.id, {
            tier: move.to,
            reason: move.reason,
          });
        } catch (error) {
          // Deleted or merged meanwhile: nothing left to move.
          if (!isNotFound(error)) throw error;
          continue;
        }
      }
      outcome[move.action]++;
      outcome.moves++;
      changes.add({
        id: move.memory.id,
        action: move.action,
        from: move.from,
        to: move.to,
        reason: move.reason,
      });
    }
    const byReason = new Map<string, typeof removals>();
    for (const removal of removals)
      byReason.set(removal.reason, [...(byReason.get(removal.reason) ?? []), removal]);
    for (const [reason, group] of byReason) {
      const how = group[0]?.how as 'archive' | 'delete';
      for (let start = 0; start < group.length; start += Limits.ids) {
        const chunk = group.slice(start, start + Limits.ids);
        let removedIds = new Set(chunk.map((removal) => removal.memory.id));
        if (!options.dryRun) {
          if (how === 'archive') {
            if (!this.#options.archive)
              throw new Error('an archive overflow policy needs an archive to keep copies in');
            await this.#options.archive(
              tenant,
              chunk.map((removal) => removal.memory),
            );
          }
          removedIds = new Set(
            await this.#options.memories.delete(
              tenant,
              chunk.map((removal) => removal.memory.id),
              reason,
            ),
          );
        }
        for (const removal of chunk) {
          if (!removedIds.has(removal.memory.id)) continue;
          outcome.evicted++;
          if (how === 'archive') outcome.archived++;
          changes.add({
            id: removal.memory.id,
            action: how === 'archive' ? 'archived' : 'deleted',
            from: removal.from,
            reason,
          });
        }
      }
    }
    return outcome;
  }

  /**
   * Quality audit (USE-CASES §3): counts, near duplicates, stale memories, full tiers, advice.
   * Reads the tenant page by page, keeping only counts and the entries it lists: staleness
   * and tiers over the newest `maxMemories` memories, near duplicates among the newest 5,000
   * of them (at most 1,000 per owner, namespace and kind). The listed pairs and stale memories
   * are the first 500 and at most 64 KiB each.
   */
  async audit(tenant: string, request: AuditRequest): Promise<Omit<AuditReply, 'v'>> {
    const now = this.#clock();
    const filter: MemoryFilter | undefined = request.namespace
      ? { namespace: request.namespace }
      : undefined;
    const stats = await this.#options.memories.stats(tenant, filter);
    let stale: StaleMemory[] = [];
    let staleFound = 0;
    const byStaleness = (a: StaleMemory, b: StaleMemory) =>
      b.idleDays - a.idleDays || a.id.localeCompare(b.id);
    const groups = new Map<
      string,
      { namespace: string | undefined; counts: Record<Tier, number> }
    >();
    const sampler = this.#sampler(Math.min(request.maxMemories, this.#maxMemories));
    let examined = 0;
    for await (const memory of listAll(this.#options.memories, tenant, filter)) {
      if (examined >= request.maxMemories) break;
      examined++;
      const idleDays = (now - Date.parse(memory.lastAccessedAt ?? memory.createdAt)) / DAY_MS;
      if (idleDays >= request.staleDays) {
        staleFound++;
        stale.push({ id: memory.id, idleDays: Math.floor(idleDays), text: shorten(memory.text) });
        if (stale.length >= 2 * AUDIT_LISTED)
          stale = stale.sort(byStaleness).slice(0, AUDIT_LISTED);
      }
      const key = tierGroupKey(memory);
      let group = groups.get(key);
      if (!group) {
        group = { namespace: memory.namespace, counts: { short: 0, mid: 0, long: 0 } };
        groups.set(key, group);
      }
      group.counts[memory.tier]++;
      await sampler.add(memory);
    }
    await sampler.flush();
    stale.sort(byStaleness);

    let duplicates: DuplicatePair[] = [];
    let duplicatesFound = 0;
    const bySimilarity = (a: DuplicatePair, b: DuplicatePair) => b.similarity - a.similarity;
    for (const window of sampler.windows.values()) {
      if (window.length < 2) continue;
      similarityClusters(
        window.map((candidate) => candidate.vector),
        request.duplicateThreshold,
        (a, b, similarity) => {
          const first = window[a] as Candidate;
          const second = window[b] as Candidate;
          duplicatesFound++;
          duplicates.push({
            ids: [first.id, second.id],
            similarity: Math.round(similarity * 10_000) / 10_000,
            text: first.text,
          });
          if (duplicates.length >= 2 * AUDIT_LISTED)
            duplicates = duplicates.sort(bySimilarity).slice(0, AUDIT_LISTED);
        },
      );
    }
    duplicates.sort(bySimilarity);

    const overCapacity: Record<string, number> = {};
    for (const group of groups.values()) {
      const capacity = this.#options.capacity(group.namespace);
      for (const tier of TIERS) {
        const over = group.counts[tier] - capacity[tier];
        if (over > 0) overCapacity[tier] = (overCapacity[tier] ?? 0) + over;
      }
    }
    return {
      total: stats.total,
      byCategory: stats.byCategory,
      byNamespace: stats.byNamespace,
      byTier: stats.byTier,
      byKind: stats.byKind,
      duplicates: boundedList(duplicates),
      stale: boundedList(stale),
      duplicatesFound,
      staleFound,
      overCapacity,
      recommendations: recommend({
        total: stats.total,
        examined,
        duplicates: duplicatesFound,
        stale: staleFound,
        overCapacity,
        request,
        overflow: this.#options.overflow ?? (() => DefaultTierOverflow),
      }),
      examined,
    };
  }

  get #maxMemories(): number {
    return this.#options.maxMemories ?? 5_000;
  }

  #sampler(limit: number): DuplicateSampler {
    return new DuplicateSampler(this.#options.embed, limit, this.#options.duplicateWindow ?? 1_000);
  }

  #tally(
    source: ChangeSource,
    dryRun: boolean,
    changes: Partial<Record<LifecycleChange, number>>,
  ): void {
    if (dryRun || !this.#options.onChanges) return;
    if (Object.values(changes).some((count) => (count ?? 0) > 0))
      this.#options.onChanges(source, changes);
  }

  #tallyTiers(source: ChangeSource, dryRun: boolean, outcome: TierOutcome): void {
    this.#tally(source, dryRun, {
      promoted: outcome.promoted,
      demoted: outcome.demoted,
      archived: outcome.archived,
      deleted: outcome.evicted - outcome.archived,
      overflow_kept: outcome.arrivedOver,
    });
  }
}

function demoteReason(tier: Tier, capacity: number): string {
  return `tier capacity: ${tier} holds ${capacity} per owner and namespace; overflow moved to ${NEXT_TIER[tier]} (TIER_OVERFLOW ${tier}=demote)`;
}

function overflowReason(tier: Tier, capacity: number, how: 'archive' | 'delete'): string {
  return how === 'archive'
    ? `tier capacity: ${tier} holds ${capacity} per owner and namespace; overflow archived by the compactor (TIER_OVERFLOW ${tier}=archive)`
    : `tier capacity: ${tier} holds ${capacity} per owner and namespace; overflow deleted (TIER_OVERFLOW ${tier}=delete)`;
}

function optionalTier(key: 'from' | 'to', tier: Tier | undefined): { from?: Tier; to?: Tier } {
  return tier === undefined ? {} : { [key]: tier };
}

/** The first entries whose JSON stays within {@link AUDIT_LIST_BYTES} (and {@link AUDIT_LISTED}). */
function boundedList<T>(entries: readonly T[]): T[] {
  const listed: T[] = [];
  let bytes = 0;
  for (const entry of entries) {
    if (listed.length >= AUDIT_LISTED) break;
    bytes += Buffer.byteLength(JSON.stringify(entry)) + 1;
    if (bytes > AUDIT_LIST_BYTES) break;
    listed.push(entry);
  }
  return listed;
}

function ownerOf(memory: MemoryRecord): TierGroupOwner {
  return {
    scope: memory.scope,
    ...(memory.userId !== undefined ? { userId: memory.userId } : {}),
    ...(memory.agentId !== undefined ? { agentId: memory.agentId } : {}),
    ...(memory.sessionId !== undefined ? { sessionId: memory.sessionId } : {}),
    ...(memory.namespace !== undefined ? { namespace: memory.namespace } : {}),
  };
}

function recommend(audit: {
  total: number;
  examined: number;
  duplicates: number;
  stale: number;
  overCapacity: Record<string, number>;
  request: AuditRequest;
  overflow: (namespace: string | undefined) => TierOverflowPolicy;
}): string[] {
  const { total, examined, duplicates, stale, overCapacity, request } = audit;
  const advice: string[] = [];
  if (total === 0) return ['No memories yet: nothing to improve.'];
  if (duplicates > 0)
    advice.push(
      `Merge ${duplicates} near-duplicate pair(s) (similarity >= ${request.duplicateThreshold}): run the "duplicates" sweep; occurrences and tags are kept.`,
    );
  if (stale > 0)
    advice.push(
      `${stale} memory(ies) were not recalled for ${request.staleDays}+ days: delete them, lower their importance, or give them a retention policy.`,
    );
  const over = Object.entries(overCapacity).filter(([tier]) => tier !== 'long');
  if (over.length > 0)
    advice.push(
      `Tiers over capacity (${over.map(([tier, count]) => `${tier} +${count}`).join(', ')}): run the "tiers" sweep (it moves the overflow to the next tier) or raise the capacity for that namespace.`,
    );
  const longOver = overCapacity.long ?? 0;
  if (longOver > 0)
    advice.push(
      `Long-term tier over capacity (long +${longOver}): the last tier's overflow is kept (TIER_OVERFLOW long=keep by default) and lasting knowledge is never removed; raise the long capacity for that namespace, delete what is obsolete, or set TIER_OVERFLOW long to archive or delete.`,
    );
  if (examined < total)
    advice.push(
      `Only ${examined} of ${total} memories were examined: raise maxMemories or audit per namespace.`,
    );
  if (advice.length === 0)
    advice.push('Memory looks healthy: no duplicates, stale memories or full tiers.');
  return advice;
}

function shorten(text: string): string {
  return text.length <= 200 ? text : `${text.slice(0, 197)}...`;
}

function ownerFilter(owner: TierGroupOwner): MemoryFilter {
  return {
    scopes: [owner.scope],
    ...(owner.scope === 'user' && owner.userId ? { userId: owner.userId } : {}),
    ...(owner.scope === 'agent' && owner.agentId ? { agentId: owner.agentId } : {}),
    ...(owner.scope === 'session' && owner.sessionId ? { sessionId: owner.sessionId } : {}),
    ...(owner.namespace ? { namespace: owner.namespace } : {}),
  };
}

function isNotFound(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { code?: unknown }).code === 'NOT_FOUND'
  );
}
