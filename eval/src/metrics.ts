/** Ranking metrics for the retrieval evaluation: recall@k, hit@1 and MRR. */

/** One question's outcome: the keys it expects and the keys retrieval returned, best first. */
export interface QuestionOutcome {
  id: string;
  category: string;
  expected: readonly string[];
  ranked: readonly string[];
}

/** Averages over a set of questions (each metric in 0..1). */
export interface Scores {
  questions: number;
  recallAt1: number;
  recallAt5: number;
  recallAt10: number;
  hitAt1: number;
  mrr: number;
}

/** Fraction of the expected keys found in the first `k` ranked keys. */
export function recallAtK(
  expected: readonly string[],
  ranked: readonly string[],
  k: number,
): number {
  if (expected.length === 0) return 0;
  const top = new Set(ranked.slice(0, k));
  const wanted = new Set(expected);
  let found = 0;
  for (const key of wanted) if (top.has(key)) found++;
  return found / wanted.size;
}

/** 1 when the first ranked key is expected, else 0. */
export function hitAt1(expected: readonly string[], ranked: readonly string[]): number {
  const first = ranked[0];
  return first !== undefined && expected.includes(first) ? 1 : 0;
}

/** 1 / rank of the first expected key in the ranking (rank from 1); 0 when none is ranked. */
export function reciprocalRank(expected: readonly string[], ranked: readonly string[]): number {
  const wanted = new Set(expected);
  const index = ranked.findIndex((key) => wanted.has(key));
  return index === -1 ? 0 : 1 / (index + 1);
}

/** Rank (from 1) of the first expected key, or undefined when none is ranked. */
export function firstRank(
  expected: readonly string[],
  ranked: readonly string[],
): number | undefined {
  const rank = reciprocalRank(expected, ranked);
  return rank === 0 ? undefined : Math.round(1 / rank);
}

/** Every metric averaged over the outcomes; all zeros for an empty set. */
export function score(outcomes: readonly QuestionOutcome[]): Scores {
  const n = outcomes.length;
  const mean = (metric: (outcome: QuestionOutcome) => number) =>
    n === 0 ? 0 : outcomes.reduce((sum, outcome) => sum + metric(outcome), 0) / n;
  return {
    questions: n,
    recallAt1: mean((o) => recallAtK(o.expected, o.ranked, 1)),
    recallAt5: mean((o) => recallAtK(o.expected, o.ranked, 5)),
    recallAt10: mean((o) => recallAtK(o.expected, o.ranked, 10)),
    hitAt1: mean((o) => hitAt1(o.expected, o.ranked)),
    mrr: mean((o) => reciprocalRank(o.expected, o.ranked)),
  };
}

/** Scores per category, categories in first-seen order. */
export function scoreByCategory(outcomes: readonly QuestionOutcome[]): Map<string, Scores> {
  const groups = new Map<string, QuestionOutcome[]>();
  for (const outcome of outcomes) {
    const group = groups.get(outcome.category) ?? [];
    group.push(outcome);
    groups.set(outcome.category, group);
  }
  return new Map([...groups].map(([category, group]) => [category, score(group)]));
}
