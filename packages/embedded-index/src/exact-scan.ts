import { BoundedHeap } from './bounded-heap.ts';
import type { CandidateSource } from './payload-index.ts';
import type { SlotTable } from './slot-table.ts';
import { grow } from './typed-arrays.ts';
import type { VectorArena } from './vector-arena.ts';

/** A slot with its similarity to the query. */
export interface Scored {
  slot: number;
  score: number;
  id: string;
}

/** Higher score first; ties by id, so that results do not depend on slot order. */
export const scoredBetter = (a: Scored, b: Scored): boolean =>
  a.score > b.score || (a.score === b.score && a.id < b.id);

/** Exact top-k by cosine over a set of slots, from the vector arena. */
export class ExactScanner {
  /** An exact scan's matching slots and their similarities (reused between scans). */
  private scanSlots = new Int32Array(1024);
  private scanScores = new Float64Array(1024);

  constructor(
    private readonly arena: VectorArena,
    private readonly slots: SlotTable,
  ) {}

  /** The best `limit` candidates that pass `matches`. */
  scan(
    candidates: CandidateSource,
    matches: (slot: number) => boolean,
    query: Float32Array,
    limit: number,
  ): Scored[] {
    const heap = new BoundedHeap<Scored>(limit, scoredBetter);
    this.scanInto(heap, (visit) => this.slots.forEachCandidate(candidates, visit), matches, query);
    return heap.sorted();
  }

  /**
   * Scores the visited slots that pass `matches` into `heap`: matches first, then their
   * similarities in one batch (see VectorArena.dotMany). Returns how many matched.
   */
  scanInto(
    heap: BoundedHeap<Scored>,
    visitSlots: (visit: (slot: number) => void) => void,
    matches: (slot: number) => boolean,
    query: Float32Array,
  ): number {
    let count = 0;
    visitSlots((slot) => {
      if (!matches(slot)) return;
      if (count === this.scanSlots.length) {
        this.scanSlots = grow(this.scanSlots, count + 1);
        this.scanScores = grow(this.scanScores, count + 1);
      }
      this.scanSlots[count++] = slot;
    });
    const slots = this.scanSlots;
    const scores = this.scanScores;
    this.arena.dotMany(slots, count, query, scores);
    const payloads = this.slots.payloads;
    for (let at = 0; at < count; at++) {
      const score = scores[at]!;
      const worst = heap.worst;
      if (worst !== undefined && score < worst.score) continue;
      const slot = slots[at]!;
      heap.push({ slot, score, id: payloads[slot]!.id });
    }
    return count;
  }
}
