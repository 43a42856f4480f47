/**
 * Hybrid search fusion, shared by every adapter with a keyword leg so that `hybrid` ranks the
 * same way on every backend.
 *
 * Both legs run under the same filter, each `hybridLegDepth(limit)` deep; every candidate of
 * either leg gets its cosine similarity and its BM25 score normalised by the best BM25 score of
 * the keyword leg. Both legs are then on one 0..1 scale: the cosine is min-max normalised over
 * the candidates (`(cosine − lowest) / (highest − lowest)`; 1 for all when they are equal), and
 * each candidate is ranked by the convex combination
 * `alpha · normalised cosine + (1 − alpha) · BM25 / best BM25` (0 for the keyword part when the
 * keyword leg did not find it), ties by memory id ascending.
 *
 * Why min-max: a sentence-embedding model's cosines sit in a narrow band (e5-small: about
 * 0.7–0.9), so the raw cosine barely moved the sum and BM25 decided alone — hybrid then did
 * worse than the dense leg alone (LOCOMO development split, eval/README.md).
 */

/**
 * Weight of the dense part (see eval/README.md). Recall@10 by alpha, hash / e5-small-v2 int8
 * embedder: project set 0.920 / 0.950 at 0.5, 0.920 / 0.970 at 0.6, 0.920 / 0.990 at 0.7;
 * LOCOMO development split 0.686 / 0.755, 0.650 / 0.757, 0.615 / 0.753. 0.6: hybrid beats
 * dense with the sentence model on both sets, at some cost to the hashing embedder on LOCOMO.
 */
export const DEFAULT_HYBRID_ALPHA = 0.6;

/** Deepest a hybrid leg looks, whatever the limit. */
const MAX_LEG_DEPTH = 1_000;

/**
 * How many candidates each hybrid leg fetches: at least 40, so fusion can promote what one leg
 * ranks lower. A query that re-ranks by recency and importance already asks for 5 × topK, so
 * the legs go no deeper than that: 4 × the limit gave the same eval scores (250 memories, every
 * mode and category) at twice the cost per hybrid query.
 */
export function hybridLegDepth(limit: number): number {
  return Math.min(MAX_LEG_DEPTH, Math.max(limit, 40));
}

/** One memory found by either leg. */
export interface HybridCandidate {
  /** Memory id; breaks ties (ascending). */
  id: string;
  /** Cosine similarity to the query vector (computed for every candidate). */
  cosine: number;
  /** BM25 score divided by the best of the keyword leg (0..1); absent when that leg missed it. */
  keyword?: number;
}

/** A candidate with its fused score. */
export type FusedCandidate<T extends HybridCandidate> = T & {
  /** `alpha · min-max normalised cosine + (1 − alpha) · (keyword ?? 0)`. */
  fused: number;
};

/** The `limit` best candidates by fused score, best first, ties by id ascending. */
export function fuseHybrid<T extends HybridCandidate>(
  candidates: Iterable<T>,
  options: { alpha: number; limit: number },
): FusedCandidate<T>[] {
  const { alpha } = options;
  const all = [...candidates];
  let lowest = Number.POSITIVE_INFINITY;
  let highest = Number.NEGATIVE_INFINITY;
  for (const { cosine } of all) {
    if (cosine < lowest) lowest = cosine;
    if (cosine > highest) highest = cosine;
  }
  const spread = highest - lowest;
  const scored: { candidate: T; fused: number }[] = [];
  for (const candidate of all)
    scored.push({
      candidate,
      fused:
        alpha * (spread > 0 ? (candidate.cosine - lowest) / spread : 1) +
        (1 - alpha) * (candidate.keyword ?? 0),
    });
  const byFused = (a: { candidate: T; fused: number }, b: { candidate: T; fused: number }) =>
    b.fused - a.fused ||
    (a.candidate.id < b.candidate.id ? -1 : a.candidate.id > b.candidate.id ? 1 : 0);
  // Only the kept candidates are copied with their fused score.
  return scored
    .sort(byFused)
    .slice(0, Math.max(0, options.limit))
    .map(({ candidate, fused }) => ({ ...candidate, fused }));
}
