import { describe, expect, it } from 'vitest';
import {
  firstRank,
  hitAt1,
  type QuestionOutcome,
  recallAtK,
  reciprocalRank,
  score,
  scoreByCategory,
} from '../src/metrics.ts';

const ranked = ['a', 'b', 'c', 'd', 'e', 'f'];

describe('recallAtK', () => {
  it('is 1 when the only expected key is first', () => {
    expect(recallAtK(['a'], ranked, 1)).toBe(1);
  });
  it('is 0 when the expected key is ranked below k', () => {
    expect(recallAtK(['c'], ranked, 2)).toBe(0);
  });
  it('counts the fraction of expected keys inside the top k', () => {
    // b is in the top 3, e is not: 1 of 2.
    expect(recallAtK(['b', 'e'], ranked, 3)).toBe(0.5);
  });
  it('is 1/3 at k = 1 for three expected keys with one first', () => {
    expect(recallAtK(['a', 'x', 'y'], ranked, 1)).toBeCloseTo(1 / 3, 12);
  });
  it('counts a key listed twice in expected once', () => {
    expect(recallAtK(['a', 'a', 'z'], ranked, 5)).toBe(0.5);
  });
  it('is 0 for an empty ranking', () => {
    expect(recallAtK(['a'], [], 10)).toBe(0);
  });
});

describe('hitAt1', () => {
  it('is 1 when any expected key is first', () => {
    expect(hitAt1(['z', 'a'], ranked)).toBe(1);
  });
  it('is 0 when the first hit is not expected', () => {
    expect(hitAt1(['b'], ranked)).toBe(0);
  });
});

describe('reciprocalRank', () => {
  it('is 1/3 when the first expected key is third', () => {
    expect(reciprocalRank(['c', 'e'], ranked)).toBeCloseTo(1 / 3, 12);
  });
  it('is 0 when no expected key is ranked', () => {
    expect(reciprocalRank(['z'], ranked)).toBe(0);
  });
  it('gives the rank back through firstRank', () => {
    expect(firstRank(['e'], ranked)).toBe(5);
  });
});

describe('score', () => {
  // q1: expected a (rank 1) -> r@1 1, r@5 1, hit 1, rr 1
  // q2: expected c, x (c rank 3) -> r@1 0, r@5 0.5, r@10 0.5, hit 0, rr 1/3
  // q3: expected z (absent) -> all 0
  const outcomes: QuestionOutcome[] = [
    { id: 'q1', category: 'identifier', expected: ['a'], ranked },
    { id: 'q2', category: 'paraphrase', expected: ['c', 'x'], ranked },
    { id: 'q3', category: 'paraphrase', expected: ['z'], ranked },
  ];
  const overall = score(outcomes);

  it('averages recall@1 over questions', () => {
    expect(overall.recallAt1).toBeCloseTo(1 / 3, 12);
  });
  it('averages recall@5 over questions', () => {
    expect(overall.recallAt5).toBeCloseTo(1.5 / 3, 12);
  });
  it('averages hit@1 over questions', () => {
    expect(overall.hitAt1).toBeCloseTo(1 / 3, 12);
  });
  it('averages the reciprocal ranks into MRR', () => {
    expect(overall.mrr).toBeCloseTo((1 + 1 / 3 + 0) / 3, 12);
  });
  it('scores each category on its own questions', () => {
    expect(scoreByCategory(outcomes).get('paraphrase')?.mrr).toBeCloseTo(1 / 6, 12);
  });
  it('counts the questions of a category', () => {
    expect(scoreByCategory(outcomes).get('identifier')?.questions).toBe(1);
  });
  it('is all zeros for no questions', () => {
    expect(score([])).toEqual({
      questions: 0,
      recallAt1: 0,
      recallAt5: 0,
      recallAt10: 0,
      hitAt1: 0,
      mrr: 0,
    });
  });
});
