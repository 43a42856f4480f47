import { STOP_WORDS, stemmedTerms } from '../../domain/text-terms.ts';
import { BoundedHeap } from './bounded-heap.ts';
import { grow } from './typed-arrays.ts';

/** A keyword match: the memory's slot and its BM25 score (higher is better). */
export interface KeywordHit {
  slot: number;
  score: number;
}

/** A set of slots to rank instead of walking posting lists (a filter's candidates). */
export interface KeywordCandidates {
  /** Upper bound of the number of slots `forEach` visits. */
  readonly size: number;
  forEach(visit: (slot: number) => void): void;
  /** Replaces `matches` for slots of this set (it may skip what membership already implies). */
  matches(slot: number): boolean;
  /** A membership test for the set, valid until the next search (for walking postings). */
  contains(): (slot: number) => boolean;
}

export interface KeywordSearch {
  /** The query text; its words are tokenised and stemmed like the memories' texts. */
  text: string;
  /** Only slots passing this are ranked (tenant, expiry, the full filter). */
  matches: (slot: number) => boolean;
  /** The filter's candidate set, when one is known; used when cheaper than the postings. */
  candidates?: KeywordCandidates;
  limit: number;
}

// BM25 parameters as in SQLite FTS5 and Lucene.
const K1 = 1.2;
const B = 0.75;
const MAX_QUERY_TERMS = 32;
/**
 * Cost of ranking one candidate on its own (its term list is a scattered small array: ~3 µs
 * with cold caches at 100k memories) in postings walked (~10 ns each, sequential). Measured on
 * the bench corpus at 100k, 1 % filter: 32 (the first guess) 3.1 ms p50, 300 1.7 ms.
 */
const CANDIDATE_COST = 300;

/**
 * An in-memory BM25 index over memory texts, by slot: posting lists of (slot, term frequency)
 * per stemmed term, and each slot's terms for removal and for ranking a small candidate set.
 *
 * Why not SQLite FTS5 (the first keyword leg): FTS5 ranks by computing bm25() for every match
 * and walks whole posting lists to intersect a filter's key tokens, so a query whose words are
 * common cost 15–50 ms at 100k memories. Here a filtered query ranks only its candidates from the
 * payload index, and an unfiltered one accumulates scores over typed arrays (~10 ns per posting).
 * The index is rebuilt from the stored texts at open (nothing more to keep durable).
 *
 * Tokenisation and stop words are shared with the other keyword legs (`domain/text-terms.ts`):
 * FTS5's `porter unicode61 tokenchars '_'` — case-folded, diacritics removed,
 * letters/digits/underscore runs (so `ERR_CONNECTION_REFUSED` stays one term), Porter-stemmed.
 */
export class KeywordIndex {
  private readonly termIds = new Map<string, number>();
  private termSlots: Int32Array[] = [];
  private termFrequencies: Uint16Array[] = [];
  private termLengths = new Int32Array(1024);

  private docTerms: (Int32Array | undefined)[] = [];
  private docFrequencies: (Uint16Array | undefined)[] = [];
  private docLengths = new Float64Array(1024);
  private documents = 0;
  private totalLength = 0;

  private scores = new Float64Array(1024);
  /** Per term id: its idf while a candidate set is ranked, else 0. */
  private queryWeights = new Float64Array(1024);
  private touched = new Int32Array(1024);
  private readonly stems = new Map<string, string>();

  /** Memories in the index. */
  get size(): number {
    return this.documents;
  }

  /** Indexes (or re-indexes) the text of a slot. */
  set(slot: number, text: string): void {
    this.remove(slot);
    const counts = new Map<number, number>();
    let length = 0;
    for (const term of this.terms(text)) {
      length++;
      if (STOP_WORDS.has(term)) continue;
      const id = this.termId(term);
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    this.ensureSlot(slot);
    const terms = new Int32Array(counts.size);
    const frequencies = new Uint16Array(counts.size);
    let position = 0;
    for (const [id, count] of counts) {
      terms[position] = id;
      frequencies[position] = Math.min(count, 0xffff);
      this.post(id, slot, frequencies[position]!);
      position++;
    }
    this.docTerms[slot] = terms;
    this.docFrequencies[slot] = frequencies;
    this.docLengths[slot] = length;
    this.documents++;
    this.totalLength += length;
  }

  /** Removes a slot's text (no-op when the slot holds none). */
  remove(slot: number): void {
    const terms = this.docTerms[slot];
    if (terms === undefined) return;
    for (const id of terms) {
      const slots = this.termSlots[id]!;
      const length = this.termLengths[id]!;
      const at = slots.subarray(0, length).indexOf(slot);
      if (at < 0) continue;
      // Order within a posting list does not matter: scores are sums.
      slots[at] = slots[length - 1]!;
      this.termFrequencies[id]![at] = this.termFrequencies[id]![length - 1]!;
      this.termLengths[id] = length - 1;
    }
    this.docTerms[slot] = undefined;
    this.docFrequencies[slot] = undefined;
    this.documents--;
    this.totalLength -= this.docLengths[slot]!;
    this.docLengths[slot] = 0;
  }

  /** The `limit` best BM25 matches of the query among the slots that pass `matches`. */
  search(request: KeywordSearch): KeywordHit[] {
    const limit = Math.max(0, Math.floor(request.limit));
    if (limit === 0 || this.documents === 0) return [];
    const query = this.queryTerms(request.text);
    if (query.ids.length === 0) return [];
    const averageLength = this.totalLength / this.documents || 1;
    const heap = new BoundedHeap<KeywordHit>(limit, better);
    const { matches, candidates } = request;

    // Ranking a candidate set costs a pass over each candidate's terms (scattered small arrays);
    // walking the postings costs one sequential step per posting plus a predicate call per
    // distinct match (see CANDIDATE_COST).
    if (candidates !== undefined && candidates.size * CANDIDATE_COST < query.postings) {
      const weights = this.queryWeights;
      for (let index = 0; index < query.ids.length; index++)
        weights[query.ids[index]!] = query.idfs[index]!;
      try {
        candidates.forEach((slot) => {
          const terms = this.docTerms[slot];
          if (terms === undefined) return;
          const frequencies = this.docFrequencies[slot]!;
          const norm = K1 * (1 - B + (B * this.docLengths[slot]!) / averageLength);
          let score = 0;
          for (let index = 0; index < terms.length; index++) {
            const idf = weights[terms[index]!]!;
            if (idf === 0) continue;
            const frequency = frequencies[index]!;
            score += (idf * (frequency * (K1 + 1))) / (frequency + norm);
          }
          if (score > 0 && candidates.matches(slot)) heap.push({ slot, score });
        });
      } finally {
        for (const id of query.ids) weights[id] = 0;
      }
      return heap.sorted();
    }

    // Walking the postings. A candidate set smaller than the walk restricts it to its members
    // (marking them costs one write each); a larger one (e.g. the whole tenant) is left to
    // `matches`.
    const restrict = candidates !== undefined && candidates.size < query.postings;
    const contains = restrict ? candidates.contains() : undefined;
    const check = restrict ? candidates.matches : matches;
    const scores = this.scores;
    const touched = this.touched;
    let touchedCount = 0;
    const lengthFactor = (K1 * B) / averageLength;
    const base = K1 * (1 - B);
    for (let index = 0; index < query.ids.length; index++) {
      const id = query.ids[index]!;
      const idf = query.idfs[index]!;
      const slots = this.termSlots[id]!;
      const frequencies = this.termFrequencies[id]!;
      const length = this.termLengths[id]!;
      for (let at = 0; at < length; at++) {
        const slot = slots[at]!;
        if (contains !== undefined && !contains(slot)) continue;
        const frequency = frequencies[at]!;
        const previous = scores[slot]!;
        if (previous === 0) touched[touchedCount++] = slot;
        scores[slot] =
          previous +
          (idf * (frequency * (K1 + 1))) /
            (frequency + base + lengthFactor * this.docLengths[slot]!);
      }
    }
    for (let index = 0; index < touchedCount; index++) {
      const slot = touched[index]!;
      const score = scores[slot]!;
      scores[slot] = 0;
      const worst = heap.worst;
      if (worst !== undefined && score < worst.score) continue;
      if (check(slot)) heap.push({ slot, score });
    }
    return heap.sorted();
  }

  /** Query terms known to the index, with their BM25 idf and total posting length. */
  private queryTerms(text: string): { ids: number[]; idfs: number[]; postings: number } {
    const ids: number[] = [];
    const idfs: number[] = [];
    let postings = 0;
    for (const term of new Set(this.terms(text))) {
      if (STOP_WORDS.has(term)) continue;
      const id = this.termIds.get(term);
      if (id === undefined) continue;
      const frequency = this.termLengths[id]!;
      if (frequency === 0) continue;
      // FTS5's idf, floored so a term in most documents still counts a little.
      const idf = Math.log((this.documents - frequency + 0.5) / (frequency + 0.5));
      ids.push(id);
      idfs.push(Math.max(idf, 1e-6));
      postings += frequency;
      if (ids.length === MAX_QUERY_TERMS) break;
    }
    return { ids, idfs, postings };
  }

  private terms(text: string): Generator<string> {
    return stemmedTerms(text, this.stems);
  }

  private termId(term: string): number {
    let id = this.termIds.get(term);
    if (id === undefined) {
      id = this.termSlots.length;
      this.termIds.set(term, id);
      this.termSlots.push(new Int32Array(4));
      this.termFrequencies.push(new Uint16Array(4));
      if (id >= this.termLengths.length) {
        this.termLengths = grow(this.termLengths, id + 1);
        this.queryWeights = grow(this.queryWeights, id + 1);
      }
    }
    return id;
  }

  private post(id: number, slot: number, frequency: number): void {
    const length = this.termLengths[id]!;
    let slots = this.termSlots[id]!;
    if (length === slots.length) {
      slots = grow(slots, length + 1);
      this.termSlots[id] = slots;
      this.termFrequencies[id] = grow(this.termFrequencies[id]!, length + 1);
    }
    slots[length] = slot;
    this.termFrequencies[id]![length] = frequency;
    this.termLengths[id] = length + 1;
  }

  private ensureSlot(slot: number): void {
    if (slot < this.docLengths.length) return;
    this.docLengths = grow(this.docLengths, slot + 1);
    this.scores = grow(this.scores, slot + 1);
    this.touched = grow(this.touched, slot + 1);
  }
}

const better = (a: KeywordHit, b: KeywordHit): boolean =>
  a.score > b.score || (a.score === b.score && a.slot < b.slot);
