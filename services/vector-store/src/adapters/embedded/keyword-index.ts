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
  /** Per term id: the largest frequency it was ever posted with (an upper bound, for pruning). */
  private termMaxFrequencies = new Uint16Array(1024);

  private docTerms: (Int32Array | undefined)[] = [];
  private docFrequencies: (Uint16Array | undefined)[] = [];
  /**
   * Term count per slot. 16 bits hold any text (at most 32,000 characters) and keep the array a
   * quarter of a Float64Array's size: the walk reads it at random, once per posting.
   */
  private docLengths = new Uint16Array(1024);
  private documents = 0;
  private totalLength = 0;
  /** A lower bound of every indexed text's length (only decreases), for pruning. */
  private minLength = Number.POSITIVE_INFINITY;

  private scores = new Float64Array(1024);
  /** Per term id: its idf while a candidate set is ranked, else 0. */
  private queryWeights = new Float64Array(1024);
  private touched = new Int32Array(1024);
  /** Scores of `touched` slots, in its order (see `completeTail`). */
  private gathered = new Float64Array(1024);
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
    length = Math.min(length, 0xffff);
    this.docLengths[slot] = length;
    if (length < this.minLength) this.minLength = length;
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
          if (score > 0 && enters(heap.worst, slot, score) && candidates.matches(slot))
            heap.push({ slot, score });
        });
      } finally {
        for (const id of query.ids) weights[id] = 0;
      }
      return heap.sorted();
    }

    // Walking the postings. A candidate set smaller than the walk and than half the index
    // restricts it to its members (marking them costs one write each); a larger one (e.g. the
    // whole tenant, which a query whose words are common can out-number) is left to `matches`.
    const restrict =
      candidates !== undefined &&
      candidates.size < query.postings &&
      2 * candidates.size < this.documents;
    const contains = restrict ? candidates.contains() : undefined;
    const check = restrict ? candidates.matches : matches;
    const scores = this.scores;
    const touched = this.touched;
    const lengths = this.docLengths;
    const lengthFactor = (K1 * B) / averageLength;
    const base = K1 * (1 - B);
    // Terms that weigh little (under half the heaviest) go last, lightest last, where pruning
    // may skip them (see `completeTail`); the others keep the query's order, which measured
    // faster than sorting them all.
    const weighed = query.ids.map((id, index) => ({
      id,
      idf: query.idfs[index]!,
      bound: this.contributionBound(id, query.idfs[index]!, base, lengthFactor),
    }));
    const heaviest = Math.max(...weighed.map((term) => term.bound));
    const terms = [
      ...weighed.filter((term) => 2 * term.bound >= heaviest),
      ...weighed.filter((term) => 2 * term.bound < heaviest).sort((a, b) => b.bound - a.bound),
    ];
    const tailBounds = new Float64Array(terms.length + 1);
    const tailPostings = new Float64Array(terms.length + 1);
    for (let index = terms.length - 1; index >= 0; index--) {
      tailBounds[index] = tailBounds[index + 1]! + terms[index]!.bound;
      tailPostings[index] = tailPostings[index + 1]! + this.termLengths[terms[index]!.id]!;
    }
    let touchedCount = 0;
    let walkedBound = 0;
    for (let index = 0; index < terms.length; index++) {
      // Stop walking when the terms left can only reorder what was found (pruning, as in
      // MaxScore). Worth trying when their postings outnumber the memories found so far and
      // they weigh less than half a walked term on average (else too many found memories stay
      // within their reach, and the attempt costs a pass over the found for nothing).
      if (
        2 * index * tailBounds[index]! < walkedBound &&
        tailPostings[index]! >= 2 * touchedCount &&
        touchedCount >= limit
      ) {
        const hits = this.completeTail(
          terms.slice(index),
          tailBounds[index]!,
          tailPostings[index]!,
          touchedCount,
          limit,
          check,
          base,
          lengthFactor,
        );
        if (hits !== undefined) return hits;
      }
      const { id, idf } = terms[index]!;
      const weight = idf * (K1 + 1); // as `completeTail` computes it, for equal sums
      const slots = this.termSlots[id]!;
      const frequencies = this.termFrequencies[id]!;
      const length = this.termLengths[id]!;
      if (contains === undefined) {
        for (let at = 0; at < length; at++) {
          const slot = slots[at]!;
          const frequency = frequencies[at]!;
          const previous = scores[slot]!;
          if (previous === 0) touched[touchedCount++] = slot;
          scores[slot] =
            previous + (weight * frequency) / (frequency + base + lengthFactor * lengths[slot]!);
        }
      } else {
        for (let at = 0; at < length; at++) {
          const slot = slots[at]!;
          if (!contains(slot)) continue;
          const frequency = frequencies[at]!;
          const previous = scores[slot]!;
          if (previous === 0) touched[touchedCount++] = slot;
          scores[slot] =
            previous + (weight * frequency) / (frequency + base + lengthFactor * lengths[slot]!);
        }
      }
      walkedBound += terms[index]!.bound;
    }
    for (let index = 0; index < touchedCount; index++) {
      const slot = touched[index]!;
      const score = scores[slot]!;
      scores[slot] = 0;
      if (enters(heap.worst, slot, score) && check(slot)) heap.push({ slot, score });
    }
    return heap.sorted();
  }

  /**
   * Ends a posting walk early: the memories found so far (`touched`, scored on the walked terms)
   * hold `limit` that pass `check` and score above `tailBound` — the most the terms still to
   * walk can add — so no memory outside them can rank. Only those within `tailBound` of the
   * `limit`-th best can still reach it; each gets the remaining terms' scores from its own term
   * list. Undefined (nothing changed) when that is not so, or when those memories are too many
   * to be cheaper than walking `tailPostings`. The found memories' scores are cleared when it
   * returns hits, and left as they were for the walk to go on when it does not.
   */
  private completeTail(
    tail: readonly { id: number; idf: number }[],
    tailBound: number,
    tailPostings: number,
    touchedCount: number,
    limit: number,
    check: (slot: number) => boolean,
    base: number,
    lengthFactor: number,
  ): KeywordHit[] | undefined {
    const scores = this.scores;
    const touched = this.touched;
    // One scattered pass moves the found memories' scores into `gathered` (in `touched` order)
    // and clears them; the passes below are sequential.
    const gathered = this.gathered;
    for (let index = 0; index < touchedCount; index++) {
      const slot = touched[index]!;
      gathered[index] = scores[slot]!;
      scores[slot] = 0;
    }
    const found = new BoundedHeap<KeywordHit>(limit, better);
    for (let index = 0; index < touchedCount; index++) {
      const score = gathered[index]!;
      const slot = touched[index]!;
      if (enters(found.worst, slot, score) && check(slot)) found.push({ slot, score });
    }
    const threshold = found.worst?.score;
    // Sums of bounds round differently from sums of scores: keep a hair of slack.
    const slack = tailBound * (1 + 1e-12);
    const budget = tailPostings / CANDIDATE_COST;
    const near: number[] = [];
    if (found.size === limit && threshold !== undefined && threshold > slack) {
      const floor = threshold * (1 - 1e-12) - slack;
      for (let index = 0; index < touchedCount && near.length <= budget; index++)
        if (gathered[index]! >= floor) near.push(index);
    }
    if (near.length === 0 || near.length > budget) {
      // Not cheaper than the walk: the scores go back for it to go on.
      for (let index = 0; index < touchedCount; index++) scores[touched[index]!] = gathered[index]!;
      return undefined;
    }
    const heap = new BoundedHeap<KeywordHit>(limit, better);
    for (const index of near) {
      const slot = touched[index]!;
      const terms = this.docTerms[slot]!;
      const frequencies = this.docFrequencies[slot]!;
      const length = this.docLengths[slot]!;
      let score = gathered[index]!;
      // The tail's terms in walk order, so that sums equal the full walk's.
      for (const { id, idf } of tail) {
        const at = terms.indexOf(id);
        if (at < 0) continue;
        const frequency = frequencies[at]!;
        score += (idf * (K1 + 1) * frequency) / (frequency + base + lengthFactor * length);
      }
      if (enters(heap.worst, slot, score) && check(slot)) heap.push({ slot, score });
    }
    return heap.sorted();
  }

  /** The most one term can add to a memory's score (largest frequency, shortest text). */
  private contributionBound(id: number, idf: number, base: number, lengthFactor: number): number {
    const frequency = this.termMaxFrequencies[id]!;
    const shortest = Number.isFinite(this.minLength) ? this.minLength : 0;
    return (idf * (frequency * (K1 + 1))) / (frequency + base + lengthFactor * shortest);
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
        this.termMaxFrequencies = grow(this.termMaxFrequencies, id + 1);
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
    if (frequency > this.termMaxFrequencies[id]!) this.termMaxFrequencies[id] = frequency;
    this.termLengths[id] = length + 1;
  }

  private ensureSlot(slot: number): void {
    if (slot < this.docLengths.length) return;
    this.docLengths = grow(this.docLengths, slot + 1);
    this.scores = grow(this.scores, slot + 1);
    this.touched = grow(this.touched, slot + 1);
    this.gathered = grow(this.gathered, slot + 1);
  }
}

const better = (a: KeywordHit, b: KeywordHit): boolean =>
  a.score > b.score || (a.score === b.score && a.slot < b.slot);

/**
 * Whether a hit would enter a heap whose worst kept hit is `worst` (undefined: not full), as
 * `better` orders them; asked before allocating the hit or checking its filter. BM25 scores tie
 * often (same term counts, same length), and ties with a later slot cannot enter.
 */
const enters = (worst: KeywordHit | undefined, slot: number, score: number): boolean =>
  worst === undefined || score > worst.score || (score === worst.score && slot < worst.slot);
