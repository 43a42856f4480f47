import type { FilterPayload, IndexFilter } from '@membus/vector-index';

/** What the in-memory index keeps per slot: the filterable payload, its tenant and version. */
export interface SlotPayload extends FilterPayload {
  readonly tenant: string;
  /** Change sequence of the row (monotonic across the store). */
  readonly seq: number;
  /** The record's importance (ranking input). */
  readonly importance: number;
}

type IndexedField =
  | 'scope'
  | 'userId'
  | 'agentId'
  | 'sessionId'
  | 'namespace'
  | 'kind'
  | 'tier'
  | 'category'
  | 'tag'
  | 'dedupKey';

/** Filter fields whose constraint a candidate set implies by itself. */
export type CoveredField =
  | 'ids'
  | 'scopes'
  | 'userId'
  | 'agentId'
  | 'sessionId'
  | 'namespace'
  | 'dedupKey'
  | 'kinds'
  | 'tiers';

/** A candidate set: the union of some slot sets, and an upper bound of its size. */
export interface CandidateSource {
  readonly sets: readonly ReadonlySet<number>[];
  readonly size: number;
  /**
   * The filter field every member satisfies by construction (the set is that field's posting
   * list), so the per-slot check can skip it.
   */
  readonly covers?: CoveredField;
}

const SEPARATOR = '\u0000';
const emptySet: ReadonlySet<number> = new Set();

/**
 * Inverted indexes from (tenant, field, value) to slots, for candidate sets and cardinality
 * estimates; plus (tenant, id) to slot. Every key starts with the tenant, so a candidate set
 * never leaves the tenant.
 */
export class PayloadIndex {
  private readonly byTenant = new Map<string, Set<number>>();
  /**
   * A value held by one slot maps to the slot itself, not a one-member Set (~150 bytes): most
   * dedup keys, and many session ids, are a single memory's.
   */
  private readonly byField = new Map<string, Postings>();
  /** Tenant → id → slot; the ids are the payloads' own strings (no per-memory key string). */
  private readonly byId = new Map<string, Map<string, number>>();
  /** Live slots per tenant, tier and kind, for the memory-count gauge. */
  private readonly tierKindCounts = new Map<string, number>();

  slotOf(tenant: string, id: string): number | undefined {
    return this.byId.get(tenant)?.get(id);
  }

  tenantSize(tenant: string): number {
    return this.byTenant.get(tenant)?.size ?? 0;
  }

  /**
   * Slots per tenant for every (tier, kind) pair asked, zeros included, from counters kept on
   * add/remove (a scrape costs nothing however many memories there are). Slots whose memory
   * expired but is not deleted yet are counted.
   */
  countByTierAndKind<TierValue extends string, KindValue extends string>(
    tiers: readonly TierValue[],
    kinds: readonly KindValue[],
  ): { tenant: string; tier: TierValue; kind: KindValue; count: number }[] {
    const counts: { tenant: string; tier: TierValue; kind: KindValue; count: number }[] = [];
    for (const tenant of this.byTenant.keys())
      for (const tier of tiers)
        for (const kind of kinds)
          counts.push({
            tenant,
            tier,
            kind,
            count: this.tierKindCounts.get(tenant + SEPARATOR + tier + SEPARATOR + kind) ?? 0,
          });
    return counts;
  }

  add(slot: number, payload: SlotPayload): void {
    let ids = this.byId.get(payload.tenant);
    if (ids === undefined) {
      ids = new Map();
      this.byId.set(payload.tenant, ids);
    }
    ids.set(payload.id, slot);
    let tenantSlots = this.byTenant.get(payload.tenant);
    if (tenantSlots === undefined) {
      tenantSlots = new Set();
      this.byTenant.set(payload.tenant, tenantSlots);
    }
    tenantSlots.add(slot);
    this.forEachKey(payload, (key) => addTo(this.byField, key, slot));
    this.countTierKind(payload, 1);
  }

  remove(slot: number, payload: SlotPayload): void {
    const ids = this.byId.get(payload.tenant);
    ids?.delete(payload.id);
    if (ids?.size === 0) this.byId.delete(payload.tenant);
    const tenantSlots = this.byTenant.get(payload.tenant);
    tenantSlots?.delete(slot);
    if (tenantSlots?.size === 0) this.byTenant.delete(payload.tenant);
    this.forEachKey(payload, (key) => removeFrom(this.byField, key, slot));
    this.countTierKind(payload, -1);
  }

  /**
   * The smallest candidate set the filter allows, from the indexed equality constraints.
   * Every slot that can match is in it; the full predicate still has to be checked.
   */
  candidates(tenant: string, filter: IndexFilter | undefined): CandidateSource {
    const tenantSet = this.byTenant.get(tenant) ?? emptySet;
    let best: CandidateSource = { sets: [tenantSet], size: tenantSet.size };
    if (filter === undefined) return best;
    const consider = (source: CandidateSource): void => {
      if (source.size < best.size) best = source;
    };
    if (filter.ids !== undefined) {
      const slots = new Set<number>();
      for (const id of filter.ids) {
        const slot = this.slotOf(tenant, id);
        if (slot !== undefined) slots.add(slot);
      }
      consider({ sets: [slots], size: slots.size, covers: 'ids' });
    }
    const one = (field: IndexedField & CoveredField, value: string | undefined): void => {
      if (value !== undefined) consider({ ...this.union(tenant, field, [value]), covers: field });
    };
    one('userId', filter.userId);
    one('agentId', filter.agentId);
    one('sessionId', filter.sessionId);
    one('namespace', filter.namespace);
    one('dedupKey', filter.dedupKey);
    if (filter.scopes !== undefined)
      consider({ ...this.union(tenant, 'scope', filter.scopes), covers: 'scopes' });
    if (filter.anyOf !== undefined) {
      // The union of each selector's smallest set (overlaps are visited once).
      const sets: ReadonlySet<number>[] = [];
      let size = 0;
      for (const selector of filter.anyOf) {
        let pick = this.union(tenant, 'scope', [selector.scope]);
        for (const [field, value] of [
          ['userId', selector.userId],
          ['agentId', selector.agentId],
          ['sessionId', selector.sessionId],
        ] as const) {
          if (value === undefined) continue;
          const owned = this.union(tenant, field, [value]);
          if (owned.size < pick.size) pick = owned;
        }
        sets.push(...pick.sets);
        size += pick.size;
      }
      consider({ sets, size });
    }
    if (filter.kinds !== undefined)
      consider({ ...this.union(tenant, 'kind', filter.kinds), covers: 'kinds' });
    if (filter.tiers !== undefined)
      consider({ ...this.union(tenant, 'tier', filter.tiers), covers: 'tiers' });
    for (const [field, match] of [
      ['category', filter.categories],
      ['tag', filter.tags],
    ] as const) {
      if (match === undefined) continue;
      if (match.any !== undefined) consider(this.union(tenant, field, match.any));
      for (const label of match.all ?? []) consider(this.union(tenant, field, [label]));
    }
    return best;
  }

  private union(tenant: string, field: IndexedField, values: readonly string[]): CandidateSource {
    const sets: ReadonlySet<number>[] = [];
    let size = 0;
    for (const value of new Set(values)) {
      const postings = this.byField.get(fieldKey(tenant, field, value));
      if (postings === undefined) continue;
      const set = typeof postings === 'number' ? new Set([postings]) : postings;
      sets.push(set);
      size += set.size;
    }
    return { sets, size };
  }

  private countTierKind(payload: SlotPayload, change: 1 | -1): void {
    const key = payload.tenant + SEPARATOR + payload.tier + SEPARATOR + payload.kind;
    const count = (this.tierKindCounts.get(key) ?? 0) + change;
    if (count === 0) this.tierKindCounts.delete(key);
    else this.tierKindCounts.set(key, count);
  }

  private forEachKey(payload: SlotPayload, visit: (key: string) => void): void {
    const tenant = payload.tenant;
    visit(fieldKey(tenant, 'scope', payload.scope));
    visit(fieldKey(tenant, 'kind', payload.kind));
    visit(fieldKey(tenant, 'tier', payload.tier));
    if (payload.userId !== undefined) visit(fieldKey(tenant, 'userId', payload.userId));
    if (payload.agentId !== undefined) visit(fieldKey(tenant, 'agentId', payload.agentId));
    if (payload.sessionId !== undefined) visit(fieldKey(tenant, 'sessionId', payload.sessionId));
    if (payload.namespace !== undefined) visit(fieldKey(tenant, 'namespace', payload.namespace));
    if (payload.dedupKey !== undefined) visit(fieldKey(tenant, 'dedupKey', payload.dedupKey));
    for (const category of new Set(payload.categories))
      visit(fieldKey(tenant, 'category', category));
    for (const tag of new Set(payload.tags)) visit(fieldKey(tenant, 'tag', tag));
  }
}

function fieldKey(tenant: string, field: IndexedField, value: string): string {
  return tenant + SEPARATOR + field + SEPARATOR + value;
}

/** The slots holding one value: the slot itself while it is the only one. */
type Postings = number | Set<number>;

function addTo(map: Map<string, Postings>, key: string, slot: number): void {
  const postings = map.get(key);
  if (postings === undefined) map.set(key, slot);
  else if (typeof postings !== 'number') postings.add(slot);
  else if (postings !== slot) map.set(key, new Set([postings, slot]));
}

function removeFrom(map: Map<string, Postings>, key: string, slot: number): void {
  const postings = map.get(key);
  if (postings === undefined) return;
  if (typeof postings === 'number') {
    if (postings === slot) map.delete(key);
    return;
  }
  postings.delete(slot);
  // Back to a single slot: the same members in the same order as the set would iterate.
  if (postings.size === 1) map.set(key, postings.values().next().value!);
  else if (postings.size === 0) map.delete(key);
}
