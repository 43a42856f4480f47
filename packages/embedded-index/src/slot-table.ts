import { compileFilter, type IndexFilter } from '@membus/vector-index';
import type { KeywordCandidates } from './keyword-index.ts';
import {
  type CandidateSource,
  type CoveredField,
  SlotList,
  type SlotPayload,
  type SlotSet,
} from './payload-index.ts';
import { grow } from './typed-arrays.ts';

/**
 * The in-memory side of each slot (a memory's place in the arena and the graph): its payload,
 * typed columns of what every search checks per candidate, the free slots, and the predicates
 * and candidate iteration built from them.
 */
export class SlotTable {
  readonly payloads: (SlotPayload | undefined)[] = [];
  /**
   * Columns beside `payloads` for the checks every search makes per candidate (tenant and
   * expiry): typed-array reads instead of chasing a payload object and its strings, which cost
   * ~3 µs per candidate at 100k on this kind of VM (cache and TLB misses).
   */
  tenant = new Int32Array(1024);
  expiresAt = new Float64Array(1024);
  /** Ranking inputs per slot, for the same reason. */
  updatedAt = new Float64Array(1024);
  importance = new Float64Array(1024);
  readonly freeSlots: number[] = [];
  nextSlot = 0;
  /** Counts slot writes, so that a search can tell whether slots moved while it awaited. */
  writes = 0;
  /** Tenant → small integer for `tenant` (0 = free slot). */
  private readonly tenantNumbers = new Map<string, number>();
  /** Marker per slot for de-duplicating unions of candidate sets. */
  private visitMarks = new Uint32Array(1024);
  private visitEpoch = 0;

  ensure(slot: number): void {
    if (slot < this.visitMarks.length) return;
    this.visitMarks = grow(this.visitMarks, slot + 1);
    this.tenant = grow(this.tenant, slot + 1);
    this.expiresAt = grow(this.expiresAt, slot + 1);
    this.updatedAt = grow(this.updatedAt, slot + 1);
    this.importance = grow(this.importance, slot + 1);
  }

  /** A slot for a new memory: a freed one first. */
  allocate(): number {
    return this.freeSlots.pop() ?? this.nextSlot++;
  }

  set(slot: number, payload: SlotPayload | undefined): void {
    this.writes++;
    this.payloads[slot] = payload;
    if (payload === undefined) {
      this.tenant[slot] = 0;
      return;
    }
    let tenantNumber = this.tenantNumbers.get(payload.tenant);
    if (tenantNumber === undefined) {
      tenantNumber = this.tenantNumbers.size + 1;
      this.tenantNumbers.set(payload.tenant, tenantNumber);
    }
    this.tenant[slot] = tenantNumber;
    this.expiresAt[slot] = payload.expiresAt ?? Number.POSITIVE_INFINITY;
    this.updatedAt[slot] = payload.updatedAt;
    this.importance[slot] = payload.importance;
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
    const tenantNumber = this.tenantNumbers.get(tenant) ?? -1;
    const tenants = this.tenant;
    const expiresAt = this.expiresAt;
    const rest = residualFilter(filter, covers);
    if (rest === undefined)
      return (slot) => tenants[slot] === tenantNumber && expiresAt[slot]! > now;
    const compiled = compileFilter(rest);
    const payloads = this.payloads;
    return (slot) =>
      tenants[slot] === tenantNumber && expiresAt[slot]! > now && compiled(payloads[slot]!);
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
