import { compileFilter, type FilterPayload, type IndexFilter } from '@membus/vector-index';
import { Dictionary } from './dictionary.ts';
import type { KeywordCandidates } from './keyword-index.ts';
import {
  type CandidateSource,
  type CoveredField,
  SlotList,
  type SlotPayload,
  type SlotSet,
} from './payload-index.ts';
import { grow } from './typed-arrays.ts';

/** Fields holding one short label per memory, each a column of `Dictionary` ids. */
const LABEL_FIELDS = [
  'scope',
  'kind',
  'tier',
  'userId',
  'agentId',
  'sessionId',
  'namespace',
] as const;
type LabelField = (typeof LABEL_FIELDS)[number];

const NO_LABELS: readonly string[] = Object.freeze([]);
const NO_METADATA: Readonly<Record<string, unknown>> = Object.freeze({});
const SEPARATOR = '\u0000';

/**
 * The in-memory side of each slot (a memory's place in the arena and the graph): its payload as
 * typed columns, the free slots, and the predicates and candidate iteration built from them.
 * Numbers are Float64 columns and labels (tenant, scope, kind, tier, owner ids, namespace, lists
 * of categories and tags) Uint32 ids into dictionaries; only the id, dedup key and metadata stay
 * references. An object per memory cost ~390 bytes at 1M (18 fields, boxed numbers), and reading
 * a candidate's tenant and expiry through it ~3 µs at 100k on this kind of VM (cache and TLB
 * misses). `view` and `payloadAt` give a slot's payload as an object where one is needed.
 */
export class SlotTable {
  /** Tenant label id per slot (0 = free slot). */
  tenant = new Int32Array(1024);
  /** Change sequence of the slot's row (monotonic across the store). */
  seq = new Float64Array(1024);
  /** Expiry, ms since epoch (infinity: none). */
  expiresAt = new Float64Array(1024);
  createdAt = new Float64Array(1024);
  /** Ranking inputs. */
  updatedAt = new Float64Array(1024);
  importance = new Float64Array(1024);
  /** Per slot: a `lists` id (0 = none). */
  categories = new Uint32Array(1024);
  tags = new Uint32Array(1024);
  /** Per label field, per slot: a `labels` id (0 = none). */
  labelColumns: Record<LabelField, Uint32Array> = {
    scope: new Uint32Array(1024),
    kind: new Uint32Array(1024),
    tier: new Uint32Array(1024),
    userId: new Uint32Array(1024),
    agentId: new Uint32Array(1024),
    sessionId: new Uint32Array(1024),
    namespace: new Uint32Array(1024),
  };
  /** Memory id per live slot (the payload index's keys are the same strings). */
  readonly ids: (string | undefined)[] = [];
  readonly dedupKeys: (string | undefined)[] = [];
  readonly metadata: (Readonly<Record<string, unknown>> | undefined)[] = [];
  /** Tenants and the label fields' values. */
  readonly labels = new Dictionary<string>();
  /** Distinct lists of categories or tags, shared frozen arrays. */
  readonly lists = new Dictionary<readonly string[]>();
  readonly freeSlots: number[] = [];
  nextSlot = 0;
  /** Counts slot writes, so that a search can tell whether slots moved while it awaited. */
  writes = 0;
  /** Marker per slot for de-duplicating unions of candidate sets. */
  private visitMarks = new Uint32Array(1024);
  private visitEpoch = 0;

  ensure(slot: number): void {
    if (slot < this.visitMarks.length) return;
    const length = slot + 1;
    this.visitMarks = grow(this.visitMarks, length);
    this.tenant = grow(this.tenant, length);
    this.seq = grow(this.seq, length);
    this.expiresAt = grow(this.expiresAt, length);
    this.createdAt = grow(this.createdAt, length);
    this.updatedAt = grow(this.updatedAt, length);
    this.importance = grow(this.importance, length);
    this.categories = grow(this.categories, length);
    this.tags = grow(this.tags, length);
    for (const field of LABEL_FIELDS)
      this.labelColumns[field] = grow(this.labelColumns[field], length);
  }

  /** A slot for a new memory: a freed one first. */
  allocate(): number {
    return this.freeSlots.pop() ?? this.nextSlot++;
  }

  /** True while the slot holds a memory. */
  isLive(slot: number): boolean {
    return (this.tenant[slot] ?? 0) !== 0;
  }

  /** The slot's row sequence, for a live slot. */
  seqOf(slot: number): number | undefined {
    return this.isLive(slot) ? this.seq[slot] : undefined;
  }

  /** Writes a slot's payload into the columns (undefined: frees it). */
  set(slot: number, payload: SlotPayload | undefined): void {
    this.writes++;
    // The previous payload's dictionary uses are given back after the new one's are counted:
    // a value both hold keeps its id.
    const live = this.isLive(slot);
    const previousLabels = live
      ? [this.tenant[slot]!, ...LABEL_FIELDS.map((field) => this.labelColumns[field][slot]!)]
      : [];
    const previousLists = live ? [this.categories[slot]!, this.tags[slot]!] : [];
    if (payload === undefined) this.clear(slot);
    else this.write(slot, payload);
    for (const id of previousLabels) this.labels.release(id);
    for (const id of previousLists) this.lists.release(id);
  }

  /** A live slot's payload as a new object (for the payload index's removal), else undefined. */
  payloadAt(slot: number): SlotPayload | undefined {
    if (!this.isLive(slot)) return undefined;
    const view = new SlotView(this);
    view.slot = slot;
    return {
      tenant: this.labels.value(this.tenant[slot]!)!,
      seq: this.seq[slot]!,
      importance: this.importance[slot]!,
      id: view.id,
      scope: view.scope,
      userId: view.userId,
      agentId: view.agentId,
      sessionId: view.sessionId,
      namespace: view.namespace,
      kind: view.kind,
      tier: view.tier,
      categories: view.categories,
      tags: view.tags,
      createdAt: view.createdAt,
      updatedAt: view.updatedAt,
      expiresAt: view.expiresAt,
      dedupKey: view.dedupKey,
      metadata: view.metadata,
    };
  }

  /** A reusable view of one slot's payload at a time: set `slot`, read its fields. */
  view(): SlotView {
    return new SlotView(this);
  }

  label(field: LabelField, slot: number): string | undefined {
    return this.labels.value(this.labelColumns[field][slot]!);
  }

  list(field: 'categories' | 'tags', slot: number): readonly string[] {
    return this.lists.value(this[field][slot]!) ?? NO_LABELS;
  }

  private write(slot: number, payload: SlotPayload): void {
    const labels = this.labels;
    this.tenant[slot] = labels.use(payload.tenant, payload.tenant);
    for (const field of LABEL_FIELDS) {
      const value = payload[field];
      this.labelColumns[field][slot] = value === undefined ? 0 : labels.use(value, value);
    }
    this.categories[slot] = this.useList(payload.categories);
    this.tags[slot] = this.useList(payload.tags);
    this.seq[slot] = payload.seq;
    this.importance[slot] = payload.importance;
    this.createdAt[slot] = payload.createdAt;
    this.updatedAt[slot] = payload.updatedAt;
    this.expiresAt[slot] = payload.expiresAt ?? Number.POSITIVE_INFINITY;
    this.ids[slot] = payload.id;
    this.dedupKeys[slot] = payload.dedupKey;
    this.metadata[slot] = payload.metadata;
  }

  /** Marks a slot free (its dictionary uses are given back by `set`). */
  private clear(slot: number): void {
    this.tenant[slot] = 0;
    for (const field of LABEL_FIELDS) this.labelColumns[field][slot] = 0;
    this.categories[slot] = 0;
    this.tags[slot] = 0;
    this.ids[slot] = undefined;
    this.dedupKeys[slot] = undefined;
    this.metadata[slot] = undefined;
  }

  private useList(values: readonly string[]): number {
    if (values.length === 0) return 0;
    return this.lists.use(values.join(SEPARATOR), values);
  }

  /**
   * The full predicate for one request, by slot: live, same tenant, not expired, filter. A
   * filter field the candidate set already implies (`covers`) is not checked again; a filter
   * with nothing else left is answered from the typed columns alone. Valid until the next
   * write (the columns may be reallocated).
   */
  predicate(
    tenant: string,
    filter: IndexFilter | undefined,
    now: number,
    covers?: CoveredField,
  ): (slot: number) => boolean {
    const tenantNumber = this.labels.idOf(tenant) ?? -1;
    const tenants = this.tenant;
    const expiresAt = this.expiresAt;
    const rest = residualFilter(filter, covers);
    if (rest === undefined)
      return (slot) => tenants[slot] === tenantNumber && expiresAt[slot]! > now;
    const compiled = compileFilter(rest);
    const view = new SlotView(this);
    return (slot) => {
      if (tenants[slot] !== tenantNumber || !(expiresAt[slot]! > now)) return false;
      view.slot = slot;
      return compiled(view);
    };
  }

  forEachCandidate(source: CandidateSource, visit: (slot: number) => void): void {
    if (source.sets.length === 1) {
      forEachSlot(source.sets[0]!, visit);
      return;
    }
    const epoch = this.nextVisitEpoch();
    const marks = this.visitMarks;
    for (const set of source.sets)
      forEachSlot(set, (slot) => {
        if (marks[slot] === epoch) return;
        marks[slot] = epoch;
        visit(slot);
      });
  }

  /** A candidate source as the keyword index iterates it (each slot once). */
  candidateIterator(
    source: CandidateSource,
    matches: (slot: number) => boolean,
  ): KeywordCandidates {
    return {
      size: source.size,
      forEach: (visit) => this.forEachCandidate(source, visit),
      matches,
      contains: () => {
        // Marks every member with a fresh epoch (forEachCandidate bumps it for unions only).
        const epoch = this.nextVisitEpoch();
        const marks = this.visitMarks;
        for (const set of source.sets)
          forEachSlot(set, (slot) => {
            marks[slot] = epoch;
          });
        return (slot) => marks[slot] === epoch;
      },
    };
  }

  /** A marker value no slot carries yet in `visitMarks`. */
  private nextVisitEpoch(): number {
    this.visitEpoch++;
    if (this.visitEpoch === 0xffffffff) {
      this.visitMarks.fill(0);
      this.visitEpoch = 1;
    }
    return this.visitEpoch;
  }
}

/** Calls `visit` with each member of a slot set. */
function forEachSlot(set: SlotSet, visit: (slot: number) => void): void {
  if (set instanceof SlotList) {
    const slots = set.slots;
    const size = set.size;
    for (let at = 0; at < size; at++) visit(slots[at]!);
  } else for (const slot of set) visit(slot);
}

/** The filter without the field the candidate set implies; undefined when nothing is left. */
function residualFilter(
  filter: IndexFilter | undefined,
  covers: CoveredField | undefined,
): IndexFilter | undefined {
  if (filter === undefined) return undefined;
  let rest: IndexFilter | undefined;
  for (const [key, value] of Object.entries(filter)) {
    if (value === undefined || key === covers) continue;
    rest ??= {};
    (rest as Record<string, unknown>)[key] = value;
  }
  return rest;
}

/**
 * One slot's payload read from the table's columns, for a compiled filter (one view per
 * predicate, moved from slot to slot) or a one-off object. Valid until the next write.
 */
export class SlotView implements FilterPayload {
  slot = 0;

  constructor(private readonly table: SlotTable) {}

  get id(): string {
    return this.table.ids[this.slot]!;
  }
  get scope(): string {
    return this.table.label('scope', this.slot)!;
  }
  get kind(): string {
    return this.table.label('kind', this.slot)!;
  }
  get tier(): string {
    return this.table.label('tier', this.slot)!;
  }
  get userId(): string | undefined {
    return this.table.label('userId', this.slot);
  }
  get agentId(): string | undefined {
    return this.table.label('agentId', this.slot);
  }
  get sessionId(): string | undefined {
    return this.table.label('sessionId', this.slot);
  }
  get namespace(): string | undefined {
    return this.table.label('namespace', this.slot);
  }
  get categories(): readonly string[] {
    return this.table.list('categories', this.slot);
  }
  get tags(): readonly string[] {
    return this.table.list('tags', this.slot);
  }
  get createdAt(): number {
    return this.table.createdAt[this.slot]!;
  }
  get updatedAt(): number {
    return this.table.updatedAt[this.slot]!;
  }
  get expiresAt(): number | undefined {
    const expiresAt = this.table.expiresAt[this.slot]!;
    return expiresAt === Number.POSITIVE_INFINITY ? undefined : expiresAt;
  }
  get dedupKey(): string | undefined {
    return this.table.dedupKeys[this.slot];
  }
  get metadata(): Readonly<Record<string, unknown>> {
    return this.table.metadata[this.slot] ?? NO_METADATA;
  }
}
