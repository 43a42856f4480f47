import type { RankingWeights, ScoreParts } from '@membus/contracts';

export const DEFAULT_WEIGHTS: RankingWeights = { relevance: 1, recency: 0, importance: 0 };

/** 1 now, 0.5 one half-life ago, approaching 0 with age; future times count as now. */
export function recencyScore(updatedAtMs: number, nowMs: number, halfLifeHours: number): number {
  const ageHours = Math.max(0, nowMs - updatedAtMs) / 3_600_000;
  return 0.5 ** (ageHours / halfLifeHours);
}

/** The final score: a weighted sum of relevance, recency and importance. */
export function combineScore(parts: ScoreParts, weights: RankingWeights): number {
  return (
    weights.relevance * parts.relevance +
    weights.recency * parts.recency +
    weights.importance * parts.importance
  );
}

/** Only relevance counts: the index order is the final order, no over-fetch needed. */
export function isRelevanceOnly(weights: RankingWeights): boolean {
  return weights.recency === 0 && weights.importance === 0;
}

/** How many candidates to fetch so re-ranking by recency/importance can still find the best topK. */
export function candidateCount(topK: number, weights: RankingWeights): number {
  return isRelevanceOnly(weights) ? topK : Math.min(1_000, Math.max(topK * 5, 50));
}
