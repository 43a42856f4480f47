import { describe, expect, it } from 'vitest';
import { fuseHybrid, hybridLegDepth } from '../src/hybrid-fusion.ts';

const alpha = 0.5;

describe('fuseHybrid', () => {
  it('scores alpha · min-max normalised cosine + (1 − alpha) · normalised BM25', () => {
    const ranked = fuseHybrid(
      [
        { id: 'a', cosine: 0.6, keyword: 0.5 },
        { id: 'b', cosine: 0.2 },
        { id: 'c', cosine: 0.4, keyword: 1 },
      ],
      { alpha: 0.3, limit: 3 },
    );
    expect(ranked.map((item) => [item.id, Number(item.fused.toFixed(12))])).toEqual([
      ['c', 0.85],
      ['a', 0.65],
      ['b', 0],
    ]);
  });

  it('normalises negative cosines like any other', () => {
    const ranked = fuseHybrid(
      [
        { id: 'a', cosine: -0.4, keyword: 0.5 },
        { id: 'b', cosine: 0.6 },
      ],
      { alpha, limit: 2 },
    );
    expect(ranked.map((item) => [item.id, item.fused])).toEqual([
      ['b', 0.5],
      ['a', 0.25],
    ]);
  });

  it('counts a candidate the keyword leg missed as keyword 0, a lone cosine as the best', () => {
    const [fused] = fuseHybrid([{ id: 'a', cosine: 0.8 }], { alpha, limit: 1 });
    expect(fused?.fused).toBe(0.5);
  });

  it('lets a narrow band of cosines weigh as much as BM25 (a sentence model’s 0.80 vs 0.85)', () => {
    const ranked = fuseHybrid(
      [
        { id: 'dense-best', cosine: 0.85 },
        { id: 'weak-keyword', cosine: 0.8, keyword: 0.2 },
      ],
      { alpha, limit: 2 },
    );
    expect(ranked.map((item) => item.id)).toEqual(['dense-best', 'weak-keyword']);
  });

  it('ranks best first', () => {
    const ranked = fuseHybrid(
      [
        { id: 'dense-only', cosine: 0.9 },
        { id: 'both', cosine: 0.7, keyword: 0.6 },
        { id: 'keyword-only', cosine: 0.3, keyword: 1 },
        { id: 'neither', cosine: 0.1 },
      ],
      { alpha, limit: 4 },
    );
    expect(ranked.map((item) => item.id)).toEqual([
      'both',
      'keyword-only',
      'dense-only',
      'neither',
    ]);
  });

  it('breaks ties by id ascending', () => {
    const ranked = fuseHybrid(
      [
        { id: 'c', cosine: 0.5 },
        { id: 'a', cosine: 0.5 },
        { id: 'b', cosine: 0.5 },
      ],
      { alpha, limit: 3 },
    );
    expect(ranked.map((item) => item.id)).toEqual(['a', 'b', 'c']);
  });

  it('returns at most limit candidates', () => {
    const candidates = Array.from({ length: 10 }, (_, n) => ({ id: `m${n}`, cosine: n / 10 }));
    expect(fuseHybrid(candidates, { alpha, limit: 3 }).map((item) => item.id)).toEqual([
      'm9',
      'm8',
      'm7',
    ]);
  });

  it('returns nothing for limit 0', () => {
    expect(fuseHybrid([{ id: 'a', cosine: 1, keyword: 1 }], { alpha, limit: 0 })).toEqual([]);
  });

  it('keeps the fields a caller attached to a candidate', () => {
    const [fused] = fuseHybrid([{ id: 'a', cosine: 1, keyword: 1, slot: 7 }], { alpha, limit: 1 });
    expect(fused).toEqual({ id: 'a', cosine: 1, keyword: 1, slot: 7, fused: 1 });
  });

  it('with alpha 1 ranks by cosine alone', () => {
    const ranked = fuseHybrid(
      [
        { id: 'keyword', cosine: 0.2, keyword: 1 },
        { id: 'dense', cosine: 0.3 },
      ],
      { alpha: 1, limit: 2 },
    );
    expect(ranked.map((item) => item.id)).toEqual(['dense', 'keyword']);
  });

  it('with alpha 0 ranks by keyword alone', () => {
    const ranked = fuseHybrid(
      [
        { id: 'dense', cosine: 0.9 },
        { id: 'keyword', cosine: 0.1, keyword: 0.2 },
      ],
      { alpha: 0, limit: 2 },
    );
    expect(ranked.map((item) => item.id)).toEqual(['keyword', 'dense']);
  });
});

describe('hybridLegDepth', () => {
  it('looks as deep as the limit, at least 40 and at most 1,000', () => {
    expect([1, 10, 40, 50, 250, 1_000, 1_200].map(hybridLegDepth)).toEqual([
      40, 40, 40, 50, 250, 1_000, 1_000,
    ]);
  });
});
