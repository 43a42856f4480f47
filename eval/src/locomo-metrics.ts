/**
 * The LOCOMO measure: evidence recall@k (the share of a question's evidence turns among the
 * top k hits, averaged over questions) and hit@k (the share of questions with any evidence
 * turn in the top k), overall and per category; query latency percentiles.
 */
import { recallAtK } from './metrics.ts';

export const RECALL_KS = [1, 5, 10, 20] as const;

/** One question's evidence and the turn ids its hits hold, best first. */
export interface EvidenceOutcome {
  category: string;
  evidence: readonly string[];
  ranked: readonly string[];
}

export interface EvidenceScores {
  questions: number;
  recallAt1: number;
  recallAt5: number;
  recallAt10: number;
  recallAt20: number;
  hitAt10: number;
}

/** 1 when any evidence turn is in the first `k` ranked, else 0. */
export function hitAtK(evidence: readonly string[], ranked: readonly string[], k: number): number {
  const top = new Set(ranked.slice(0, k));
  return evidence.some((id) => top.has(id)) ? 1 : 0;
}

/** Averages over the outcomes; all zeros for none. */
export function evidenceScores(outcomes: readonly EvidenceOutcome[]): EvidenceScores {
  const n = outcomes.length;
  const mean = (metric: (outcome: EvidenceOutcome) => number) =>
    n === 0 ? 0 : outcomes.reduce((sum, outcome) => sum + metric(outcome), 0) / n;
  const recall = (k: number) => mean((o) => recallAtK(o.evidence, o.ranked, k));
  return {
    questions: n,
    recallAt1: recall(1),
    recallAt5: recall(5),
    recallAt10: recall(10),
    recallAt20: recall(20),
    hitAt10: mean((o) => hitAtK(o.evidence, o.ranked, 10)),
  };
}

/** Scores per category, in `order` (categories with no question left out). */
export function evidenceScoresByCategory(
  outcomes: readonly EvidenceOutcome[],
  order: readonly string[],
): Record<string, EvidenceScores> {
  const scores: Record<string, EvidenceScores> = {};
  for (const category of order) {
    const group = outcomes.filter((outcome) => outcome.category === category);
    if (group.length > 0) scores[category] = evidenceScores(group);
  }
  return scores;
}

/** The p-th percentile (0..100) by nearest rank; NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}
