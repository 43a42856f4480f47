import type { FilterPayload, IndexFilter } from '@membus/vector-index';
import { grow } from './typed-arrays.ts';

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

/**
 * Slots holding one value of a single-valued field (or one tenant): a typed array in no
 * particular order, with each member's position kept in a per-field column so that removal is a
 * swap with the last member. A `Set<number>` costs 20–40 bytes per member; this 4–8 plus the
 * 4-byte position.
 */
export class SlotList {
  slots: Int32Array;
  size = 0;

  constructor(capacity = 4) {
    this.slots = new Int32Array(capacity);
  }

  add(slot: number, positions: Int32Array): void {
    if (this.size === this.slots.length) this.slots = grow(this.slots, this.size + 1);
    positions[slot] = this.size;
    this.slots[this.size++] = slot;
  }

  remove(slot: number, positions: Int32Array): void {
    const at = positions[slot]!;
    if (at >= this.size || this.slots[at] !== slot) return;
    const last = this.slots[--this.size]!;
    this.slots[at] = last;
    positions[last] = at;
  }

  /** The one member, for a list of one. */
  only(): number {
    return this.slots[0]!;
  }
}

/** A set of candidate slots: a value's posting list, or a set (labels, ids). */
export type SlotSet = SlotList | ReadonlySet<number>;

/** A candidate set: the union of some slot sets, and an upper bound of its size. */
export interface CandidateSource {
  readonly sets: readonly SlotSet[];
  readonly size: number;
  /**
   * The filter field every member satisfies by construction (the set is that field's posting
   * list), so the per-slot check can skip it.
   */
  readonly covers?: CoveredField;
}

const SEPARATOR = '\u0000';
const emptySet: SlotSet = new SlotList(0);

/** Fields holding at most one value per memory (a list each, with a position column). */
const SINGLE_FIELDS = [
  'scope',
  'userId',
  'agentId',
  'sessionId',
  'namespace',
  'kind',
  'tier',
  'dedupKey',
] as const;
const FIELD_NUMBER: Record<IndexedField, number> = {
  scope: 0,
  userId: 1,
  agentId: 2,
  sessionId: 3,
  namespace: 4,
  kind: 5,
  tier: 6,
  dedupKey: 7,
  category: 8,
  tag: 9,
};

/** One tenant's memories: all of them, by id, and by field and value. */
interface TenantPostings {
  readonly slots: SlotList;
  /** Id → slot; the ids are the payloads' own strings. */
  readonly ids: Map<string, number>;
  /**
   * Per field (`FIELD_NUMBER`), value → its slots. The keys are the payloads' own strings (no key
   * string per memory). A value held by one slot maps to the slot itself: most dedup keys, and
   * many session ids, are a single memory's.
   */
  readonly fields: Map<string, Postings>[];
}

/**
 * Inverted indexes from (tenant, field, value) to slots, for candidate sets and cardinality
 * estimates; plus (tenant, id) to slot. Every posting list is a tenant's, so a candidate set
 * never leaves the tenant.
 */
export class PayloadIndex {
  private readonly tenants = new Map<string, TenantPostings>();
  /** Per slot: its position in its tenant's list. */
  private tenantPositions = new Int32Array(1024);
  /**
   * Per single-valued field (`FIELD_NUMBER`), per slot: its position in the list of its value,
   * while that value has a list.
   */
  private positions: Int32Array[] = SINGLE_FIELDS.map(() => new Int32Array(1024));
  /** Live slots per tenant, tier and kind, for the memory-count gauge. */
  private readonly tierKindCounts = new Map<string, number>();

  slotOf(tenant: string, id: string): number | undefined {
    return this.tenants.get(tenant)?.ids.get(id);
  }

  tenantSize(tenant: string): number {
    return this.tenants.get(tenant)?.slots.size ?? 0;
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
    for (const tenant of this.tenants.keys())
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
    if (slot >= this.tenantPositions.length) {
      this.tenantPositions = grow(this.tenantPositions, slot + 1);
      this.positions = this.positions.map((column) => grow(column, slot + 1));
    }
    let postings = this.tenants.get(payload.tenant);
    if (postings === undefined) {
      postings = {
        slots: new SlotList(),
        ids: new Map(),
        fields: Array.from({ length: LABEL_FIELDS_END }, () => new Map()),
      };
      this.tenants.set(payload.tenant, postings);
    }
    postings.ids.set(payload.id, slot);
    postings.slots.add(slot, this.tenantPositions);
    this.changeValues(postings, slot, payload, 1);
  }

  remove(slot: number, payload: SlotPayload): void {
    const postings = this.tenants.get(payload.tenant);
    if (postings === undefined) return;
    postings.ids.delete(payload.id);
    postings.slots.remove(slot, this.tenantPositions);
    this.changeValues(postings, slot, payload, -1);
    if (postings.slots.size === 0) this.tenants.delete(payload.tenant);
  }

  /**
   * The smallest candidate set the filter allows, from the indexed equality constraints.
   * Every slot that can match is in it; the full predicate still has to be checked.
   */
  candidates(tenant: string, filter: IndexFilter | undefined): CandidateSource {
    const tenantSet = this.tenants.get(tenant)?.slots ?? emptySet;
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
      const sets: SlotSet[] = [];
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
    const sets: SlotSet[] = [];
    let size = 0;
    const byValue = this.tenants.get(tenant)?.fields[FIELD_NUMBER[field]];
    if (byValue === undefined) return { sets, size };
    for (const value of new Set(values)) {
      const postings = byValue.get(value);
      if (postings === undefined) continue;
      const set = typeof postings === 'number' ? new Set([postings]) : postings;
      sets.push(set);
      size += set.size;
    }
    return { sets, size };
  }

  /** Adds the slot to the postings of each of its payload's values (`change` 1), or removes it. */
  private changeValues(
    postings: TenantPostings,
    slot: number,
    payload: SlotPayload,
    change: 1 | -1,
  ): void {
    this.forEachValue(payload, (field, value) => {
      const fieldNumber = FIELD_NUMBER[field];
      changePostings(
        postings.fields[fieldNumber]!,
        value,
        slot,
        this.positions[fieldNumber],
        change,
      );
    });
    this.countTierKind(payload, change);
  }

  private countTierKind(payload: SlotPayload, change: 1 | -1): void {
    const key = payload.tenant + SEPARATOR + payload.tier + SEPARATOR + payload.kind;
    const count = (this.tierKindCounts.get(key) ?? 0) + change;
    if (count === 0) this.tierKindCounts.delete(key);
    else this.tierKindCounts.set(key, count);
  }

  private forEachValue(
    payload: SlotPayload,
    visit: (field: IndexedField, value: string) => void,
  ): void {
    visit('scope', payload.scope);
    visit('kind', payload.kind);
    visit('tier', payload.tier);
    if (payload.userId !== undefined) visit('userId', payload.userId);
    if (payload.agentId !== undefined) visit('agentId', payload.agentId);
    if (payload.sessionId !== undefined) visit('sessionId', payload.sessionId);
    if (payload.namespace !== undefined) visit('namespace', payload.namespace);
    if (payload.dedupKey !== undefined) visit('dedupKey', payload.dedupKey);
    for (const category of new Set(payload.categories)) visit('category', category);
    for (const tag of new Set(payload.tags)) visit('tag', tag);
  }
}

/** Field numbers: the single-valued fields first, then the label fields. */
const LABEL_FIELDS_END = 10;

/**
 * The slots holding one value: the slot itself while it is the only one; a `SlotList` for a
 * single-valued field (positions in that field's column), a `Set` for a label (a memory may hold
 * several).
 */
type Postings = number | SlotList | Set<number>;

/** Adds `slot` to the postings of `value` (`change` 1) or removes it (-1). */
function changePostings(
  byValue: Map<string, Postings>,
  value: string,
  slot: number,
  positions: Int32Array | undefined,
  change: 1 | -1,
): void {
  const postings = byValue.get(value);
  if (change === 1) {
    if (postings === undefined) byValue.set(value, slot);
    else if (typeof postings !== 'number') {
      if (postings instanceof SlotList) postings.add(slot, positions!);
      else postings.add(slot);
    } else if (postings !== slot) {
      if (positions === undefined) byValue.set(value, new Set([postings, slot]));
      else {
        const list = new SlotList();
        list.add(postings, positions);
        list.add(slot, positions);
        byValue.set(value, list);
      }
    }
    return;
  }
  if (postings === undefined) return;
  if (typeof postings === 'number') {
    if (postings === slot) byValue.delete(value);
    return;
  }
  if (postings instanceof SlotList) {
    postings.remove(slot, positions!);
    if (postings.size === 1) byValue.set(value, postings.only());
    else if (postings.size === 0) byValue.delete(value);
    return;
  }
  postings.delete(slot);
  // Back to a single slot: the same members in the same order as the set would iterate.
  if (postings.size === 1) byValue.set(value, postings.values().next().value!);
  else if (postings.size === 0) byValue.delete(value);
}
