import { Limits, type MemoryRecord, type Tier } from '@membus/contracts';
import { listAll } from '../ports/memory-port.ts';
import {
  ChangeList,
  DAY_MS,
  isLastingKnowledge,
  isNotFound,
  type MaintenanceContext,
  STEP,
  tally,
} from './maintenance-context.ts';
import { retentionExpiry } from './retention.ts';

/** Gives new memories the expiry their retention policy asks for; returns how many changed. */
export async function applyRetention(
  context: MaintenanceContext,
  tenant: string,
  memories: readonly MemoryRecord[],
  dryRun = false,
): Promise<number> {
  let applied = 0;
  for (const memory of memories) {
    const expiresAt = retentionExpiry(context.options.retention, memory);
    if (expiresAt === undefined) continue;
    applied++;
    if (dryRun) continue;
    try {
      await context.options.memories.update(tenant, memory.id, {
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
export async function retentionSweep(
  context: MaintenanceContext,
  tenant: string,
  dryRun: boolean,
): Promise<number> {
  let applied = 0;
  let batch: MemoryRecord[] = [];
  for await (const memory of listAll(context.options.memories, tenant)) {
    batch.push(memory);
    if (batch.length < STEP) continue;
    applied += await applyRetention(context, tenant, batch, dryRun);
    batch = [];
  }
  return applied + (await applyRetention(context, tenant, batch, dryRun));
}

/**
 * Drops memories under the importance threshold once they are older than `afterDays`; the
 * long tier and lasting knowledge (tagged `permanent`, patterns, preferences) are exempt.
 * Each drop is a DELETE with the rule as its reason.
 */
export async function importanceSweep(
  context: MaintenanceContext,
  tenant: string,
  dryRun: boolean,
  changes = new ChangeList(),
): Promise<number> {
  const rule = context.options.importance;
  if (rule.below <= 0) return 0;
  const cutoffMs = context.clock() - rule.afterDays * DAY_MS;
  const cutoff = new Date(cutoffMs).toISOString();
  const doomed: { id: string; tier: Tier }[] = [];
  for await (const memory of listAll(context.options.memories, tenant, {
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
        ...(await context.options.memories.delete(
          tenant,
          dropped.slice(start, start + Limits.ids),
          reason,
        )),
      );
    dropped = deleted;
  }
  for (const id of dropped)
    changes.add({ id, action: 'dropped', ...optionalTier('from', tiers.get(id)), reason });
  tally(context, 'importance', dryRun, { dropped: dropped.length });
  return dropped.length;
}

function optionalTier(key: 'from' | 'to', tier: Tier | undefined): { from?: Tier; to?: Tier } {
  return tier === undefined ? {} : { [key]: tier };
}
