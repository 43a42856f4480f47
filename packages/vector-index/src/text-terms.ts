/**
 * How memory texts and query texts become keyword terms, shared by every keyword leg (the
 * embedded BM25 index and the Qdrant sparse vectors), so that a query matches the same words
 * on every backend.
 *
 * Tokenisation follows SQLite FTS5's `porter unicode61 tokenchars '_'`: NFKD-decomposed with
 * the combining marks removed (diacritics folded), lowercased, split into runs of letters,
 * digits and underscores (so `ERR_CONNECTION_REFUSED` stays one term), each run Porter-stemmed.
 */
import { stemmer } from 'stemmer';

/**
 * Stemmed words too common to rank by. Keyword legs skip them as terms but still count them
 * towards a text's length, as BM25 over the full text does.
 */
export const STOP_WORDS: ReadonlySet<string> = new Set(
  'a an and are as at be but by for from has have how i if in into is it its of on or our so that the their then there these this to was we were what when where which who why will with you your'
    .split(' ')
    .map((word) => stemmer(word)),
);

const TOKEN = /[\p{L}\p{N}_]+/gu;
const MARKS = /\p{M}+/gu;
/** A stem cache is cleared when it reaches this many words (bounds memory on odd inputs). */
const STEM_CACHE_LIMIT = 200_000;

/**
 * The stemmed terms of a text, in order, stop words included (callers skip them with
 * `STOP_WORDS` after counting the length). `stems`, when given, caches word → stem across calls.
 */
export function* stemmedTerms(text: string, stems?: Map<string, string>): Generator<string> {
  const folded = text.normalize('NFKD').replace(MARKS, '').toLowerCase();
  for (const [word] of folded.matchAll(TOKEN)) {
    let stem = stems?.get(word);
    if (stem === undefined) {
      stem = stemmer(word);
      if (stems !== undefined) {
        if (stems.size >= STEM_CACHE_LIMIT) stems.clear();
        stems.set(word, stem);
      }
    }
    yield stem;
  }
}
