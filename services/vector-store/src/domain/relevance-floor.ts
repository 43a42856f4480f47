/**
 * The relevance floor: a text query whose best hit is unrelated to it returns no hits.
 *
 * Fused (hybrid) and keyword scores are relative to the result (min-max, BM25 / best BM25), so
 * the best of them is always high; only the cosine between the query and a memory is absolute,
 * and where it sits depends on the model (e5-small-v2's cosines lie in about 0.7–0.9, the
 * hashing model's in about 0–0.6). So the floor is a lowest best cosine per embedding model,
 * calibrated on the LOCOMO development split (`pnpm eval --locomo`, eval/README.md): the
 * related questions are the split's questions asked of their conversation's user, the unrelated
 * ones the same questions asked of another conversation's user and off-topic questions
 * (eval/src/locomo-floor.ts).
 *
 * A request's `minScore` replaces the floor (`minScore: 0` turns it off). Keyword queries have
 * no floor (no absolute score; a memory sharing no term with the query is never a hit), nor do
 * queries by vector (the caller's vector may come from any model).
 */

/**
 * Lowest best-hit cosine of a related query, by the `embeddingModel` memories record. A model
 * not listed has no floor.
 *
 * e5-small-v2 int8 (best cosine of related questions: p1 0.794, p50 0.854; of questions about
 * another conversation: p50 0.771, p95 0.807; of off-topic ones: p50 0.779, p95 0.816): 0.79,
 * the highest floor that keeps the hits of 99 % of the related questions (99.6 %), returns none
 * for 81 % of the questions about another conversation and 68 % of the off-topic ones.
 *
 * The hashing model (`local-hash-v1-*`) has none: its cosine counts shared words, so a
 * paraphrase looks as unrelated as an off-topic question. The floor that keeps 99 % of the
 * LOCOMO questions (0.22) would drop the project set's hybrid recall@10 from 0.920 to 0.810
 * (its paraphrase questions share few words with their memories).
 */
export const RELEVANCE_FLOORS: Readonly<Record<string, number>> = {
  'e5-small-v2-int8': 0.79,
};

/** How many candidates the floor judges at least (the calibration's topK). */
export const FLOOR_CANDIDATES = 20;

const HIGHEST_FLOOR = Math.max(...Object.values(RELEVANCE_FLOORS));

/** The default floor for memories embedded by `model`, if it has one. */
export function relevanceFloor(model: string): number | undefined {
  return Object.hasOwn(RELEVANCE_FLOORS, model) ? RELEVANCE_FLOORS[model] : undefined;
}

/** A hit as the floor sees it: its cosine to the query and the model of its memory's vector. */
export interface FloorCandidate {
  /** Cosine similarity to the query; absent when the query had no vector. */
  dense?: number | undefined;
  /** The model of the memory's vector. */
  model(): string;
}

/**
 * Whether the query is unrelated to everything the search found: the best cosine among the
 * hits is below the floor of the model that embedded that hit's memory. False when no hit has a
 * cosine or that model has no floor.
 */
export function belowRelevanceFloor(hits: readonly FloorCandidate[]): boolean {
  let best: FloorCandidate | undefined;
  for (const hit of hits)
    if (hit.dense !== undefined && (best?.dense === undefined || hit.dense > best.dense))
      best = hit;
  if (best?.dense === undefined) return false;
  // Above every floor: no need to read which model embedded it.
  if (best.dense >= HIGHEST_FLOOR) return false;
  const floor = relevanceFloor(best.model());
  return floor !== undefined && best.dense < floor;
}
