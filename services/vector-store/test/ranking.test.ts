import { describe, expect, it } from 'vitest';
import { candidateCount, combineScore, recencyScore } from '../src/domain/ranking.ts';

const hour = 3_600_000;

describe('recencyScore', () => {
  it('is 1 for a memory updated now', () => {
    expect(recencyScore(1_000, 1_000, 24)).toBe(1);
  });
  it('halves after one half-life', () => {
    expect(recencyScore(0, 24 * hour, 24)).toBeCloseTo(0.5, 12);
  });
  it('quarters after two half-lives', () => {
    expect(recencyScore(0, 48 * hour, 24)).toBeCloseTo(0.25, 12);
  });
  it('treats a future timestamp as now', () => {
    expect(recencyScore(10 * hour, 0, 24)).toBe(1);
  });
});

describe('combineScore', () => {
  it('is the relevance alone with default weights', () => {
    expect(
      combineScore(
        { relevance: 0.8, recency: 0.1, importance: 0.9 },
        { relevance: 1, recency: 0, importance: 0 },
      ),
    ).toBe(0.8);
  });
  it('lets a recent memory overtake a slightly more relevant old one when recency is weighted', () => {
    const weights = { relevance: 1, recency: 0.3, importance: 0 };
    const old = combineScore({ relevance: 0.82, recency: 0.01, importance: 0.5 }, weights);
    const recent = combineScore({ relevance: 0.78, recency: 0.95, importance: 0.5 }, weights);
    expect(recent > old).toBe(true);
  });
});

describe('candidateCount', () => {
  it('fetches exactly topK when only relevance counts', () => {
    expect(candidateCount(10, { relevance: 1, recency: 0, importance: 0 })).toBe(10);
  });
  it('over-fetches when recency or importance can reorder hits', () => {
    expect(candidateCount(10, { relevance: 1, recency: 0.2, importance: 0 })).toBe(50);
  });
});
