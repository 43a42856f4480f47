import { STOP_WORDS, stemmedTerms } from '@membus/vector-index';
import { describe, expect, it } from 'vitest';
import {
  AVERAGE_TEXT_LENGTH,
  BM25_B,
  BM25_K1,
  documentSparseVector,
  MAX_QUERY_TERMS,
  querySparseVector,
  termIndex,
} from '../src/adapters/qdrant/sparse-text-vector.ts';

// The Qdrant adapter's keyword leg is BM25 encoded as sparse vectors; the encoding is pure and
// tested here without a server. The conformance suite (qdrant-vector-index.test.ts) runs the
// keyword and hybrid cases against a real Qdrant when one is available.

/** BM25's term-frequency saturation for a term seen `frequency` times in a text of `length` terms. */
function saturation(frequency: number, length: number): number {
  return (
    (frequency * (BM25_K1 + 1)) /
    (frequency + BM25_K1 * (1 - BM25_B + (BM25_B * length) / AVERAGE_TEXT_LENGTH))
  );
}

describe('termIndex', () => {
  it('is FNV-1a (32 bits) of the UTF-8 bytes', () => {
    // Published FNV-1a test vectors.
    expect([termIndex(''), termIndex('a'), termIndex('foobar')]).toEqual([
      0x811c9dc5, 0xe40c292c, 0xbf9cf968,
    ]);
  });

  it('gives the same index on every call', () => {
    expect(termIndex('deploi')).toBe(termIndex('deploi'));
  });

  it('is an unsigned 32-bit integer for any text', () => {
    const indices = ['ünïcödé', '部署', 'err_connection_refus', 'x'.repeat(500)].map(termIndex);
    expect(
      indices.every((index) => Number.isInteger(index) && index >= 0 && index <= 0xffff_ffff),
    ).toBe(true);
  });
});

describe('documentSparseVector', () => {
  it('is deterministic', () => {
    const text = 'Deploy to production failed twice; the deploy was rolled back';
    expect(documentSparseVector(text)).toEqual(documentSparseVector(text));
  });

  it('has one value per unique index, indices ascending', () => {
    const { indices, values } = documentSparseVector(
      'cache warmup cache eviction warmup cache latency',
    );
    expect([
      values.length,
      new Set(indices).size,
      indices.every((index, at) => at === 0 || (indices[at - 1] as number) < index),
    ]).toEqual([indices.length, indices.length, true]);
  });

  it('weighs a term by BM25 term-frequency saturation over the text length', () => {
    expect(documentSparseVector('deploy deploy deploy')).toEqual({
      indices: [termIndex('deploi')],
      values: [saturation(3, 3)],
    });
  });

  it('saturates: more occurrences weigh more, never more than k1 + 1', () => {
    const weights = [1, 2, 4, 64].map(
      (count) => documentSparseVector(Array(count).fill('cache').join(' ')).values[0] as number,
    );
    expect([
      weights.every((weight, at) => at === 0 || (weights[at - 1] as number) < weight),
      (weights[3] as number) < BM25_K1 + 1,
    ]).toEqual([true, true]);
  });

  it('weighs a term in a longer text less', () => {
    const short = documentSparseVector('cache eviction');
    const long = documentSparseVector(`cache ${'eviction '.repeat(40)}`);
    const at = (vector: { indices: number[]; values: number[] }) =>
      vector.values[vector.indices.indexOf(termIndex('cach'))];
    expect([at(short), at(long)]).toEqual([saturation(1, 2), saturation(1, 41)]);
  });

  it('drops stop words but counts them towards the length', () => {
    expect(documentSparseVector('the deploy of the')).toEqual({
      indices: [termIndex('deploi')],
      values: [saturation(1, 4)],
    });
  });

  it('keeps identifiers whole', () => {
    expect(documentSparseVector('ERR_CONNECTION_REFUSED').indices).toEqual([
      termIndex([...stemmedTerms('ERR_CONNECTION_REFUSED')][0] as string),
    ]);
  });

  it('folds case and diacritics', () => {
    expect(documentSparseVector('Café CRÈME')).toEqual(documentSparseVector('cafe creme'));
  });

  it('is empty for a text without terms', () => {
    expect(documentSparseVector(' — the, of! ')).toEqual({ indices: [], values: [] });
  });
});

describe('querySparseVector', () => {
  it('holds each distinct stemmed term once, with value 1', () => {
    expect(querySparseVector('Deploying deploys DEPLOYED')).toEqual({
      indices: [termIndex('deploi')],
      values: [1],
    });
  });

  it('drops stop words', () => {
    expect(querySparseVector('what is the VPN').indices).toEqual([termIndex('vpn')]);
  });

  it('matches the document terms of the same words', () => {
    const document = documentSparseVector('Build failed: ERR_CONNECTION_REFUSED while deploying');
    const query = querySparseVector('deployed err_connection_refused');
    expect(query.indices.every((index) => document.indices.includes(index))).toBe(true);
  });

  it('does not match a part of an identifier', () => {
    const document = documentSparseVector('ERR_CONNECTION_REFUSED');
    expect(
      querySparseVector('connection').indices.some((index) => document.indices.includes(index)),
    ).toBe(false);
  });

  it(`uses at most the first ${MAX_QUERY_TERMS} distinct terms`, () => {
    const words = Array.from({ length: MAX_QUERY_TERMS + 8 }, (_, n) => `term${n}`);
    expect(querySparseVector(words.join(' ')).indices).toEqual(
      [...stemmedTerms(words.slice(0, MAX_QUERY_TERMS).join(' '))]
        .map(termIndex)
        .sort((a, b) => a - b),
    );
  });

  it('is empty for a query of stop words only', () => {
    expect(querySparseVector('what is the')).toEqual({ indices: [], values: [] });
  });
});

describe('shared text terms', () => {
  it('stems, folds and splits as the embedded keyword index', () => {
    expect([...stemmedTerms('Rolled back the Café deployments; ERR_X-42')]).toEqual([
      'roll',
      'back',
      'the',
      'cafe',
      'deploy',
      'err_x',
      '42',
    ]);
  });

  it('lists stop words by their stem', () => {
    expect([STOP_WORDS.has('the'), STOP_WORDS.has('deploy')]).toEqual([true, false]);
  });
});
