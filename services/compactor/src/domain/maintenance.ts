import {
  type AuditReply,
  type AuditRequest,
  type DuplicatePair,
  Limits,
  type MemoryFilter,
  type MemoryRecord,
  type RetentionPolicy,
  type StaleMemory,
  type Sweep,
  type SweepReport,
  type Tier,
  type TierCapacity,
} from '@membus/contracts';
import type { EmbedPort } from '../ports/embed-port.ts';
import { collect, type MemoryPort } from '../ports/memory-port.ts';
import { byHeatAscending, tierGroupKey } from './heat.ts';
import { retentionExpiry } from './retention.ts';
import { similarityClusters } from './vectors.ts';

const DAY_MS = 86_400_000;

/** The tag that marks a memory as permanent knowledge (USE-CASES §3). */
export const PERMANENT_TAG = 'permanent';

/**
 * Lasting knowledge — tagged `permanent`, or a pattern or preference — belongs in the long
 * tier: tier capacities never evict it and the importance rule never drops it.
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

export interface MaintenanceOptions {
  memories: MemoryPort;
  embed: EmbedPort;
  retention: readonly RetentionPolicy[];
  capacity: (namespace: string | undefined) => TierCapacity;
  duplicateThreshold: (namespace: string | undefined) => number;
  importance: ImportanceRule;
  /** Most memories one duplicate sweep or audit examines. */
  maxMemories?: number;
  clock?: () => number;
}

export type SweepCounts = Omit<SweepReport, 'durationMs'>;

const zeroCounts = (): SweepCounts => ({
  expired: 0,
  retentionApplied: 0,
  clustersMerged: 0,
  memoriesMerged: 0,
  tierMoves: 0,
  evicted: 0,
  droppedUnimportant: 0,
});

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
    const counts = zeroCounts();
    const wanted = new Set(sweeps);
    if (wanted.has('retention'))
      counts.retentionApplied = await this.retentionSweep(tenant, dryRun);
    if (wanted.has('expire'))
      counts.expired = (await this.#options.memories.expire(tenant, dryRun)).expired;
    if (wanted.has('importance'))
      counts.droppedUnimportant = await this.importanceSweep(tenant, dryRun);
    if (wanted.has('duplicates')) {
      const merged = await this.duplicateSweep(tenant, dryRun);
      counts.clustersMerged = merged.clusters;
      counts.memoriesMerged = merged.memories;
    }
    if (wanted.has('tiers')) {
      const tiers = await this.enforceTiers(
        tenant,
        await collect(this.#options.memories, tenant),
        dryRun,
      );
      counts.tierMoves = tiers.moves;
      counts.evicted = tiers.evicted;
    }
    return { ...counts, durationMs: this.#clock() - started };
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
        await this.#options.memories.update(tenant, memory.id, { expiresAt });
      } catch (error) {
        // Deleted or merged meanwhile: nothing left to expire.
        if (!isNotFound(error)) throw error;
        applied--;
      }
    }
    return applied;
  }

  /** Applies retention to every memory (catches up on stores made while the compactor was down). */
  async retentionSweep(tenant: string, dryRun: boolean): Promise<number> {
    return this.applyRetention(tenant, await collect(this.#options.memories, tenant), dryRun);
  }

  /**
   * Drops memories under the importance threshold once they are older than `afterDays`; the
   * long tier and lasting knowledge (tagged `permanent`, patterns, preferences) are exempt.
   */
  async importanceSweep(tenant: string, dryRun: boolean): Promise<number> {
    const rule = this.#options.importance;
    if (rule.below <= 0) return 0;
    const cutoffMs = this.#clock() - rule.afterDays * DAY_MS;
    const cutoff = new Date(cutoffMs).toISOString();
    const candidates = await collect(this.#options.memories, tenant, { createdAt: { lt: cutoff } });
    const doomed = candidates
      .filter(
        (memory) =>
          memory.importance < rule.below &&
          Date.parse(memory.createdAt) < cutoffMs &&
          memory.tier !== 'long' &&
          !isLastingKnowledge(memory),
      )
      .map((memory) => memory.id);
    if (dryRun) return doomed.length;
    let dropped = 0;
    for (let start = 0; start < doomed.length; start += Limits.ids)
      dropped += (
        await this.#options.memories.delete(tenant, doomed.slice(start, start + Limits.ids))
      ).length;
    return dropped;
  }

  /**
   * Merges near duplicates within each scope owner, namespace and kind: the memory with the
   * most occurrences (then the oldest) stays and absorbs the others.
   */
  async duplicateSweep(
    tenant: string,
    dryRun: boolean,
  ): Promise<{ clusters: number; memories: number }> {
    const records = await collect(this.#options.memories, tenant, undefined, this.#maxMemories);
    let clusters = 0;
    let memories = 0;
    for (const group of groupBy(records, (memory) => `${tierGroupKey(memory)}|${memory.kind}`)) {
      if (group.length < 2) continue;
      const vectors = await this.#embedAll(group.map((memory) => memory.text));
      const threshold = this.#options.duplicateThreshold(group[0]?.namespace);
      for (const cluster of similarityClusters(vectors, threshold)) {
        const members = cluster.map((index) => group[index] as MemoryRecord);
        members.sort(
          (a, b) =>
            b.occurrences - a.occurrences ||
            a.createdAt.localeCompare(b.createdAt) ||
            a.id.localeCompare(b.id),
        );
        const [target, ...sources] = members as [MemoryRecord, ...MemoryRecord[]];
        clusters++;
        if (dryRun) {
          memories += sources.length;
          continue;
        }
        try {
          const reply = await this.#options.memories.merge(tenant, {
            targetId: target.id,
            sourceIds: sources.map((memory) => memory.id),
          });
          memories += reply.merged.length;
        } catch (error) {
          if (!isNotFound(error)) throw error;
        }
      }
    }
    return { clusters, memories };
  }

  /**
   * Holds each scope owner's and namespace's tiers to their capacities. The rule:
   * - short-term overflow (oldest first) is promoted: lasting knowledge to long, the rest to mid;
   * - lasting knowledge found in mid (e.g. demoted by an earlier version) moves back to long;
   * - mid-term overflow is evicted, coldest first (heat: importance, accesses, recency);
   * - the long tier is never changed: its overflow is only reported by {@link audit} with a
   *   recommendation, never demoted or deleted.
   * So lasting knowledge (tagged `permanent`, patterns, preferences) is never evicted.
   */
  async enforceTiers(
    tenant: string,
    records: readonly MemoryRecord[],
    dryRun: boolean,
  ): Promise<{ moves: number; evicted: number }> {
    let moves = 0;
    let evicted = 0;
    const now = this.#clock();
    for (const group of groupBy(records, tierGroupKey)) {
      const capacity = this.#options.capacity(group[0]?.namespace);
      const inTier = (tier: Tier) => group.filter((memory) => memory.tier === tier);
      const promoted = inTier('short')
        .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id))
        .slice(capacity.short);
      const toLong = [...promoted, ...inTier('mid')].filter(isLastingKnowledge);
      const toMid = promoted.filter((memory) => !isLastingKnowledge(memory));
      const mid = [...inTier('mid').filter((memory) => !isLastingKnowledge(memory)), ...toMid].sort(
        byHeatAscending(now),
      );
      const evict = mid.slice(0, Math.max(0, mid.length - capacity.mid));
      const evictIds = new Set(evict.map((memory) => memory.id));
      const moving = [
        ...toMid
          .filter((memory) => !evictIds.has(memory.id))
          .map((memory): [MemoryRecord, Tier] => [memory, 'mid']),
        ...toLong.map((memory): [MemoryRecord, Tier] => [memory, 'long']),
      ];
      moves += moving.length;
      evicted += evict.length;
      if (dryRun) continue;
      for (const [memory, tier] of moving) {
        try {
          await this.#options.memories.update(tenant, memory.id, { tier });
        } catch (error) {
          if (!isNotFound(error)) throw error;
        }
      }
      for (let start = 0; start < evict.length; start += Limits.ids)
        await this.#options.memories.delete(
          tenant,
          evict.slice(start, start + Limits.ids).map((memory) => memory.id),
        );
    }
    return { moves, evicted };
  }

  /** Enforces tiers for the owner groups these (new) memories belong to. */
  async enforceTiersFor(
    tenant: string,
    changed: readonly MemoryRecord[],
  ): Promise<{ moves: number; evicted: number }> {
    const total = { moves: 0, evicted: 0 };
    const seen = new Set<string>();
    for (const memory of changed) {
      const key = tierGroupKey(memory);
      if (seen.has(key)) continue;
      seen.add(key);
      const group = (await collect(this.#options.memories, tenant, ownerFilter(memory))).filter(
        (record) => tierGroupKey(record) === key,
      );
      const result = await this.enforceTiers(tenant, group, false);
      total.moves += result.moves;
      total.evicted += result.evicted;
    }
    return total;
  }

  /** Quality audit (USE-CASES §3): counts, near duplicates, stale memories, advice. */
  async audit(tenant: string, request: AuditRequest): Promise<Omit<AuditReply, 'v'>> {
    const now = this.#clock();
    const filter: MemoryFilter | undefined = request.namespace
      ? { namespace: request.namespace }
      : undefined;
    const stats = await this.#options.memories.stats(tenant, filter);
    const records = await collect(this.#options.memories, tenant, filter, request.maxMemories);
    const stale: StaleMemory[] = [];
    for (const memory of records) {
      const idleDays = (now - Date.parse(memory.lastAccessedAt ?? memory.createdAt)) / DAY_MS;
      if (idleDays >= request.staleDays)
        stale.push({ id: memory.id, idleDays: Math.floor(idleDays), text: shorten(memory.text) });
    }
    stale.sort((a, b) => b.idleDays - a.idleDays || a.id.localeCompare(b.id));
    const duplicates: DuplicatePair[] = [];
    const overCapacity: Record<string, number> = {};
    for (const group of groupBy(records, tierGroupKey)) {
      const capacity = this.#options.capacity(group[0]?.namespace);
      for (const tier of ['short', 'mid', 'long'] as const) {
        const over = group.filter((memory) => memory.tier === tier).length - capacity[tier];
        if (over > 0) overCapacity[tier] = (overCapacity[tier] ?? 0) + over;
      }
      for (const kindGroup of groupBy(group, (memory) => memory.kind)) {
        if (kindGroup.length < 2) continue;
        const vectors = await this.#embedAll(kindGroup.map((memory) => memory.text));
        similarityClusters(vectors, request.duplicateThreshold, (a, b, similarity) => {
          const first = kindGroup[a] as MemoryRecord;
          const second = kindGroup[b] as MemoryRecord;
          duplicates.push({
            ids: [first.id, second.id],
            similarity: Math.round(similarity * 10_000) / 10_000,
            text: shorten(first.text),
          });
        });
      }
    }
    duplicates.sort((a, b) => b.similarity - a.similarity);
    return {
      total: stats.total,
      byCategory: stats.byCategory,
      byNamespace: stats.byNamespace,
      byTier: stats.byTier,
      byKind: stats.byKind,
      duplicates: duplicates.slice(0, 500),
      stale: stale.slice(0, 500),
      overCapacity,
      recommendations: recommend(
        stats.total,
        records.length,
        duplicates,
        stale,
        overCapacity,
        request,
      ),
      examined: records.length,
    };
  }

  get #maxMemories(): number {
    return this.#options.maxMemories ?? 5_000;
  }

  async #embedAll(texts: readonly string[]): Promise<Float32Array[]> {
    const vectors: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += Limits.embedBatch)
      vectors.push(
        ...(await this.#options.embed.embed(texts.slice(start, start + Limits.embedBatch))),
      );
    return vectors;
  }
}

function recommend(
  total: number,
  examined: number,
  duplicates: readonly DuplicatePair[],
  stale: readonly StaleMemory[],
  overCapacity: Record<string, number>,
  request: AuditRequest,
): string[] {
  const advice: string[] = [];
  if (total === 0) return ['No memories yet: nothing to improve.'];
  if (duplicates.length > 0)
    advice.push(
      `Merge ${duplicates.length} near-duplicate pair(s) (similarity >= ${request.duplicateThreshold}): run the "duplicates" sweep; occurrences and tags are kept.`,
    );
  if (stale.length > 0)
    advice.push(
      `${stale.length} memory(ies) were not recalled for ${request.staleDays}+ days: delete them, lower their importance, or give them a retention policy.`,
    );
  const over = Object.entries(overCapacity).filter(([tier]) => tier !== 'long');
  if (over.length > 0)
    advice.push(
      `Tiers over capacity (${over.map(([tier, count]) => `${tier} +${count}`).join(', ')}): run the "tiers" sweep or raise the capacity for that namespace.`,
    );
  const longOver = overCapacity.long ?? 0;
  if (longOver > 0)
    advice.push(
      `Long-term tier over capacity (long +${longOver}): lasting knowledge is never evicted; raise the long capacity for that namespace or delete what is obsolete.`,
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

function groupBy<T>(items: readonly T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const name = key(item);
    const group = groups.get(name);
    if (group) group.push(item);
    else groups.set(name, [item]);
  }
  return [...groups.values()];
}

function ownerFilter(memory: MemoryRecord): MemoryFilter {
  return {
    scopes: [memory.scope],
    ...(memory.scope === 'user' && memory.userId ? { userId: memory.userId } : {}),
    ...(memory.scope === 'agent' && memory.agentId ? { agentId: memory.agentId } : {}),
    ...(memory.scope === 'session' && memory.sessionId ? { sessionId: memory.sessionId } : {}),
    ...(memory.namespace ? { namespace: memory.namespace } : {}),
  };
}

function isNotFound(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { code?: unknown }).code === 'NOT_FOUND'
  );
}
