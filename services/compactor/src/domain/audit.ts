import {
  type AuditReply,
  type AuditRequest,
  DefaultTierOverflow,
  type DuplicatePair,
  type MemoryFilter,
  type StaleMemory,
  type Tier,
  type TierOverflowPolicy,
} from '@membus/contracts';
import { listAll } from '../ports/memory-port.ts';
import { tierGroupKey } from './heat.ts';
import { DAY_MS, type MaintenanceContext, shorten } from './maintenance-context.ts';
import { type Candidate, duplicateSampler, maxMemories } from './near-duplicates.ts';
import { TIERS } from './tier-capacity.ts';
import { similarityClusters } from './vectors.ts';

/** Near-duplicate pairs and stale memories an audit lists: at most this many ... */
const AUDIT_LISTED = 500;
/** ... and at most this many bytes of JSON each, so the reply stays far under the limit. */
const AUDIT_LIST_BYTES = 64 * 1024;

/**
 * Quality audit (USE-CASES §3): counts, near duplicates, stale memories, full tiers, advice.
 * Reads the tenant page by page, keeping only counts and the entries it lists: staleness
 * and tiers over the newest `maxMemories` memories, near duplicates among the newest 5,000
 * of them (at most 1,000 per owner, namespace and kind). The listed pairs and stale memories
 * are the first 500 and at most 64 KiB each.
 */
export async function audit(
  context: MaintenanceContext,
  tenant: string,
  request: AuditRequest,
): Promise<Omit<AuditReply, 'v'>> {
  const now = context.clock();
  const filter: MemoryFilter | undefined = request.namespace
    ? { namespace: request.namespace }
    : undefined;
  const stats = await context.options.memories.stats(tenant, filter);
  let stale: StaleMemory[] = [];
  let staleFound = 0;
  const byStaleness = (a: StaleMemory, b: StaleMemory) =>
    b.idleDays - a.idleDays || a.id.localeCompare(b.id);
  const groups = new Map<string, { namespace: string | undefined; counts: Record<Tier, number> }>();
  const sampler = duplicateSampler(context, Math.min(request.maxMemories, maxMemories(context)));
  let examined = 0;
  for await (const memory of listAll(context.options.memories, tenant, filter)) {
    if (examined >= request.maxMemories) break;
    examined++;
    const idleDays = (now - Date.parse(memory.lastAccessedAt ?? memory.createdAt)) / DAY_MS;
    if (idleDays >= request.staleDays) {
      staleFound++;
      stale.push({ id: memory.id, idleDays: Math.floor(idleDays), text: shorten(memory.text) });
      if (stale.length >= 2 * AUDIT_LISTED) stale = stale.sort(byStaleness).slice(0, AUDIT_LISTED);
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
    const capacity = context.options.capacity(group.namespace);
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
      overflow: context.options.overflow ?? (() => DefaultTierOverflow),
    }),
    examined,
  };
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
