/**
 * BM25 as Qdrant sparse vectors: the keyword leg of the Qdrant adapter. A pure module, unit-tested
 * without a server.
 *
 * A memory's text becomes one sparse vector in the collection's `text` sparse vector (created
 * with `modifier: 'idf'`):
 *
 * - index = a stable 32-bit hash (FNV-1a over the UTF-8 bytes) of each stemmed term, terms and
 *   stop words exactly as the embedded index makes them (`@membus/vector-index`); two terms
 *   whose hashes collide count as one term (their frequencies add up);
 * - value = BM25's term-frequency saturation `tf·(k1+1) / (tf + k1·(1 − b + b·len/avgLen))`
 *   with k1 1.2, b 0.75, `len` the number of terms of the text (stop words included, as in the
 *   embedded index) and a fixed `avgLen` (see `AVERAGE_TEXT_LENGTH`).
 *
 * A query becomes the hashes of its distinct non-stop terms, each with value 1. Qdrant scores a
 * sparse query by dot product and, with the `idf` modifier, multiplies each query element by
 * its IDF over the collection, `ln((N − n + 0.5)/(n + 0.5) + 1)`, so the score is
 * Σ idf(term) · saturation(term, memory): BM25.
 *
 * Differences from the embedded index's BM25, by construction: the IDF is Qdrant's (the
 * `+ 1` inside the log keeps it positive, where the embedded one floors it at 1e-6) and is
 * computed over the whole collection (all tenants; the embedded index also counts every
 * tenant), and the length normalisation uses a fixed average instead of the live one, because
 * a stored value cannot follow a statistic that changes with every write.
 */
import { STOP_WORDS, stemmedTerms } from '@membus/vector-index';

/** Name of the sparse vector in the collection. */
export const SPARSE_VECTOR_NAME = 'text';

/** BM25 term-frequency saturation, as in SQLite FTS5 and Lucene. */
export const BM25_K1 = 1.2;
/** BM25 length normalisation strength. */
export const BM25_B = 0.75;
/**
 * The average text length (in terms, stop words included) the length normalisation assumes.
 * Fixed, not measured: values are written once per memory. 24 is close to the mean of the
 * labelled eval set's memories (22.7 terms over 250 memories, `eval/data/retrieval.json`); a
 * memory is usually one to three sentences.
 */
export const AVERAGE_TEXT_LENGTH = 24;
/**
 * A query uses at most its first this many distinct terms (the embedded index has the same cap,
 * counted over the terms it knows).
 */
export const MAX_QUERY_TERMS = 32;

/** Qdrant's sparse vector: unique indices (u32) and one value per index. */
export interface SparseTextVector {
  indices: number[];
  values: number[];
}

const encoder = new TextEncoder();

/** FNV-1a, 32 bits, over the UTF-8 bytes of a term: the term's sparse index (0 … 2³² − 1). */
export function termIndex(term: string): number {
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(term)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The sparse vector stored for a memory's text; indices ascending. Empty for no terms. */
export function documentSparseVector(text: string): SparseTextVector {
  const counts = new Map<number, number>();
  let length = 0;
  for (const term of stemmedTerms(text)) {
    length++;
    if (STOP_WORDS.has(term)) continue;
    const index = termIndex(term);
    counts.set(index, (counts.get(index) ?? 0) + 1);
  }
  const norm = BM25_K1 * (1 - BM25_B + (BM25_B * length) / AVERAGE_TEXT_LENGTH);
  const indices = [...counts.keys()].sort((a, b) => a - b);
  return {
    indices,
    values: indices.map((index) => {
      const frequency = counts.get(index) as number;
      return (frequency * (BM25_K1 + 1)) / (frequency + norm);
    }),
  };
}

/** The sparse query for a query text: its distinct non-stop terms, value 1; indices ascending. */
export function querySparseVector(text: string): SparseTextVector {
  const terms = new Set<string>();
  for (const term of stemmedTerms(text)) {
    if (STOP_WORDS.has(term)) continue;
    terms.add(term);
    if (terms.size === MAX_QUERY_TERMS) break;
  }
  const indices = [...new Set([...terms].map(termIndex))].sort((a, b) => a - b);
  return { indices, values: indices.map(() => 1) };
}
