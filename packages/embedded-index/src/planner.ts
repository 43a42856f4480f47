import { BoundedHeap } from './bounded-heap.ts';
import { type ExactScanner, type Scored, scoredBetter } from './exact-scan.ts';
import type { GraphMaintainer } from './graph-maintainer.ts';
import type { CandidateSource } from './payload-index.ts';
import type { SlotTable } from './slot-table.ts';
import type { VectorArena } from './vector-arena.ts';

export interface PlannerOptions {
  /** Candidate sets up to this size are always scanned exactly. */
  exactScanThreshold: number;
  /**
   * Above the threshold an exact scan costs ~C (candidates), a filtered graph search
   * ~ratio × N / C, so the scan is chosen while C² ≤ ratio × N. 0: only the threshold decides.
   */
  annCostRatio: number;
}

/**
 * The graph ranks by int8 codes: its best `RESCORE × limit` are scored exactly (from the float32
 * vectors) and the best `limit` of those kept. Recall@10 on the bench corpus at 1M: see
 * decision 002.
 */
export const RESCORE = 4;
/**
 * A filtered graph search asks usearch (no filter predicate) for RESCORE × limit ÷ selectivity ×
 * FILTER_MARGIN points and filters them here; fewer than `limit` matches fall back to the exact scan.
 */
export const FILTER_MARGIN = 2;

/** What a dense search found, and how (`exact`, `ann` or `ann+exact-fallback`). */
export interface DensePlan {
  scored: Scored[];
  plan: string;
}

/**
 * The dense leg's planner: an exact scan of a small candidate set, or the filtered graph plus
 * an exact scan of the tail (memories not in the graph yet), falling back to the exact scan
 * when a selective filter left the graph short of matches.
 */
export class DensePlanner {
  constructor(
    private readonly options: PlannerOptions,
    private readonly arena: VectorArena,
    private readonly slots: SlotTable,
    private readonly graph: GraphMaintainer,
    private readonly scanner: ExactScanner,
  ) {}

  /**
   * The best `limit` memories for `query` among `candidates`: `matches` is the full predicate,
   * `candidateMatches` the same without what membership in `candidates` already implies.
   */
  search(
    candidates: CandidateSource,
    query: Float32Array,
    matches: (slot: number) => boolean,
    candidateMatches: (slot: number) => boolean,
    limit: number,
    liveCount: number,
  ): DensePlan {
    const tail = this.graph.tail;
    const indexed = liveCount - tail.size;
    if (
      candidates.size <= this.options.exactScanThreshold ||
      candidates.size * candidates.size <= this.options.annCostRatio * indexed ||
      !this.graph.available ||
      indexed <= 0
    )
      return {
        scored: this.scanner.scan(candidates, candidateMatches, query, limit),
        plan: 'exact',
      };

    const heap = new BoundedHeap<Scored>(limit, scoredBetter);
    let found = 0;
    const ids = this.slots.ids;
    const keep = RESCORE * limit;
    const selectivity = Math.min(1, candidates.size / indexed);
    const k =
      selectivity >= 1 ? keep : Math.min(indexed, Math.ceil((keep / selectivity) * FILTER_MARGIN));
    for (const slot of this.graph.search(query, k, keep, matches)) {
      const id = ids[slot];
      if (id === undefined) continue;
      heap.push({ slot, score: this.arena.dot(slot, query), id });
      found++;
    }
    found += this.scanner.scanInto(
      heap,
      (visit) => {
        for (const slot of tail) visit(slot);
      },
      matches,
      query,
    );
    if (found < limit && candidates.size > found) {
      // The graph may have missed matches a selective filter left unreachable.
      return {
        scored: this.scanner.scan(candidates, candidateMatches, query, limit),
        plan: 'ann+exact-fallback',
      };
    }
    return { scored: heap.sorted(), plan: 'ann' };
  }
}
