import {
  DefaultTierOverflow,
  Limits,
  type MemoryFilter,
  type MemoryRecord,
  type Tier,
} from '@membus/contracts';
import { collect, listAll } from '../ports/memory-port.ts';
import { byHeatAscending, type TierGroupOwner, tierGroupKey } from './heat.ts';
import {
  ChangeList,
  type ChangeSource,
  isLastingKnowledge,
  isNotFound,
  type MaintenanceContext,
  tally,
} from './maintenance-context.ts';

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

export const noTierChanges = (): TierOutcome => ({
  moves: 0,
  promoted: 0,
  demoted: 0,
  evicted: 0,
  archived: 0,
  keptOver: 0,
  arrivedOver: 0,
});

export function addOutcome(total: TierOutcome, part: TierOutcome): void {
  for (const key of Object.keys(total) as (keyof TierOutcome)[]) total[key] += part[key];
}

export const TIERS: readonly Tier[] = ['short', 'mid', 'long'];
const NEXT_TIER: Record<Tier, Tier | undefined> = { short: 'mid', mid: 'long', long: undefined };

export function tallyTiers(
  context: MaintenanceContext,
  source: ChangeSource,
  dryRun: boolean,
  outcome: TierOutcome,
): void {
  tally(context, source, dryRun, {
    promoted: outcome.promoted,
    demoted: outcome.demoted,
    archived: outcome.archived,
    deleted: outcome.evicted - outcome.archived,
    overflow_kept: outcome.arrivedOver,
  });
}

/**
 * Holds every owner group's tiers to their capacities (see {@link enforceGroup}). One pass
 * over the tenant counts each group's tiers (only counts are kept); only groups past a
 * capacity are then listed, tier by tier.
 */
export async function tiersSweep(
  context: MaintenanceContext,
  tenant: string,
  dryRun: boolean,
  changes = new ChangeList(),
): Promise<TierOutcome> {
  const groups = new Map<
    string,
    { owner: TierGroupOwner; counts: Record<Tier, number>; lastingInMid: boolean }
  >();
  for await (const memory of listAll(context.options.memories, tenant)) {
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
    const capacity = context.options.capacity(group.owner.namespace);
    if (!group.lastingInMid && TIERS.every((tier) => group.counts[tier] <= capacity[tier]))
      continue;
    addOutcome(
      total,
      await enforceGroup(context, tenant, group.owner, group.counts, {
        dryRun,
        changes,
        examineMid: group.lastingInMid,
      }),
    );
  }
  tallyTiers(context, 'tiers', dryRun, total);
  return total;
}

/**
 * Holds the owner groups these (new) memories belong to to their capacities; each group's
 * tier counts come from `memory.stats`, so a group within its capacities is not listed.
 */
export async function enforceTiersFor(
  context: MaintenanceContext,
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
    const stats = await context.options.memories.stats(tenant, ownerFilter(owner));
    const counts = {
      short: stats.byTier.short ?? 0,
      mid: stats.byTier.mid ?? 0,
      long: stats.byTier.long ?? 0,
    };
    addOutcome(
      total,
      await enforceGroup(context, tenant, owner, counts, { dryRun: false, changes }),
    );
  }
  tallyTiers(context, 'store', false, total);
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
export async function enforceGroup(
  context: MaintenanceContext,
  tenant: string,
  owner: TierGroupOwner,
  counts: Record<Tier, number>,
  options: { dryRun: boolean; changes?: ChangeList; examineMid?: boolean },
): Promise<TierOutcome> {
  const key = tierGroupKey(owner);
  const capacity = context.options.capacity(owner.namespace);
  const policy = (context.options.overflow ?? (() => DefaultTierOverflow))(owner.namespace);
  const now = context.clock();
  const listTier = async (tier: Tier) =>
    (
      await collect(context.options.memories, tenant, { ...ownerFilter(owner), tiers: [tier] })
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
        await context.options.memories.update(tenant, move.memory.id, {
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
          if (!context.options.archive)
            throw new Error('an archive overflow policy needs an archive to keep copies in');
          await context.options.archive(
            tenant,
            chunk.map((removal) => removal.memory),
          );
        }
        removedIds = new Set(
          await context.options.memories.delete(
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

function demoteReason(tier: Tier, capacity: number): string {
  return `tier capacity: ${tier} holds ${capacity} per owner and namespace; overflow moved to ${NEXT_TIER[tier]} (TIER_OVERFLOW ${tier}=demote)`;
}

function overflowReason(tier: Tier, capacity: number, how: 'archive' | 'delete'): string {
  return how === 'archive'
    ? `tier capacity: ${tier} holds ${capacity} per owner and namespace; overflow archived by the compactor (TIER_OVERFLOW ${tier}=archive)`
    : `tier capacity: ${tier} holds ${capacity} per owner and namespace; overflow deleted (TIER_OVERFLOW ${tier}=delete)`;
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

function ownerFilter(owner: TierGroupOwner): MemoryFilter {
  return {
    scopes: [owner.scope],
    ...(owner.scope === 'user' && owner.userId ? { userId: owner.userId } : {}),
    ...(owner.scope === 'agent' && owner.agentId ? { agentId: owner.agentId } : {}),
    ...(owner.scope === 'session' && owner.sessionId ? { sessionId: owner.sessionId } : {}),
    ...(owner.namespace ? { namespace: owner.namespace } : {}),
  };
}
