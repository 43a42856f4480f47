/**
 * The in-memory BM25 keyword index. Over 400 lines on purpose: one data structure whose parts
 * share its term table and slot arrays (posting lists for rare terms, bitmaps for frequent ones,
 * the length column) and whose ranking walks pick between them per query; split up, every part
 * would reach into the others' arrays.
 */
import { STOP_WORDS, stemmedTerms } from '@membus/vector-index';
import { BoundedHeap } from './bounded-heap.ts';
import { grow } from './typed-arrays.ts';

/** A keyword match: the memory's slot and its BM25 score (higher is better). */
export interface KeywordHit {
  slot: number;
  score: number;
}

/** A keyword index as `exportState` gives it: typed arrays by name, and its terms by id. */
export interface KeywordState {
  terms: string[];
  arrays: {
    /** termCount, documents, totalLength, minLength, poolEnd, poolWaste. */
    counts: Float64Array<ArrayBuffer>;
    termWhere: Int32Array<ArrayBuffer>;
    termLengths: Int32Array<ArrayBuffer>;
    termMaxFrequencies: Uint16Array<ArrayBuffer>;
    soleSlot: Int32Array<ArrayBuffer>;
    soleFrequency: Uint16Array<ArrayBuffer>;
    /** Per list number: its entries (two per posting), −1 where the number holds no list. */
    listLengths: Int32Array<ArrayBuffer>;
    listData: Int32Array<ArrayBuffer>;
    freeLists: Int32Array<ArrayBuffer>;
    /** Per bitmap (from 1): its term id. */
    denseIds: Int32Array<ArrayBuffer>;
    /** Every bitmap, a slot word count each. */
    bits: Uint32Array<ArrayBuffer>;
    /** Per bitmap: the place of its repeats bitmap in `repeats`, −1 where it has none. */
    repeatOf: Int32Array<ArrayBuffer>;
    repeats: Uint32Array<ArrayBuffer>;
    docStart: Uint32Array<ArrayBuffer>;
    docTerms: Uint32Array<ArrayBuffer>;
    docLengths: Uint16Array<ArrayBuffer>;
    poolIds: Int32Array<ArrayBuffer>;
    poolFrequencies: Uint16Array<ArrayBuffer>;
  };
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
 * A term in at least this share of the slot capacity keeps a bitmap (a bit per slot, 1/8 byte)
 * instead of a posting list (6 bytes per posting): from 1/48 on the bitmap is the smaller; 1/32
 * leaves room for terms that hover around the line.
 */
const DENSE_SHARE = 1 / 32;
/**
 * Cost of scoring one candidate from its own term list (a scattered small array: ~0.3–1 µs) in
 * postings walked (~10 ns each, sequential).
 */
const TERM_LIST_COST = 30;
/** Words of the bitmaps between two looks at whether the threshold rose (see `enumerate`). */
const RECHECK_WORDS = 256;

/** A query term as one search ranks with it. */
interface QueryTerm {
  id: number;
  /** `idf · (k1 + 1)`: a posting's contribution is `weight · tf / (tf + norm)`. */
  weight: number;
  /** The largest frequency it was posted with. */
  most: number;
  /** The most it adds to any memory's score (largest frequency, shortest text). */
  bound: number;
}

/** One search's terms, split by how they are stored, each part in query order. */
interface QueryPlan {
  /** Terms with posting lists, walked into the score accumulators. */
  sparse: QueryTerm[];
  /** Terms with bitmaps, tested slot by slot. */
  dense: QueryTerm[];
  /** Per dense term, in the same order: its bitmap, its repeats bitmap, its weight. */
  denseBits: Uint32Array[];
  denseRepeats: (Uint32Array | undefined)[];
  denseWeights: Float64Array;
  sparsePostings: number;
  densePostings: number;
  /**
   * The frequent terms' bounds summed from 0 in query order, as `denseScore` sums a memory's
   * contributions: each bound is computed as a contribution is, so no score exceeds it, exactly.
   */
  denseTotal: number;
  /** `k1 · (1 − b)` and `k1 · b / average length`: a slot's norm is `base + lengthFactor · length`. */
  base: number;
  lengthFactor: number;
}

/**
 * An in-memory BM25 index over memory texts, by slot. A term in few memories keeps a posting
 * list of (slot, term frequency); a frequent term (at least `DENSE_SHARE` of the slots) keeps a
 * bitmap of the slots holding it, and a second one, allocated at first need, of those holding it
 * more than once (their frequency is read from the slot's own term list). Each slot keeps its
 * terms and frequencies too, for removal and for ranking a small candidate set.
 *
 * A search walks the rare terms' postings into score accumulators (cheap: their lists are
 * short), and ranks what the frequent terms add slot by slot from the bitmaps, without walking
 * them: the memories holding every frequent term are scored first (a word-wise AND), which sets
 * the score a memory must beat to enter the top `limit`; then, as in MaxScore (Turtle & Flood),
 * the lightest frequent terms whose bounds together stay under that score cannot lift a memory
 * in on their own, so only the memories holding one of the others are visited (a word-wise OR).
 * A filter's small candidate set is ranked member by member instead. Every path sums a memory's
 * score in the same order (rare terms, then frequent ones, each in query order), so a memory
 * scores the same whichever way it was found. The hits are exact: what the bounds skip cannot
 * rank.
 *
 * Why not SQLite FTS5 (the first keyword leg): FTS5 ranks by computing bm25() for every match
 * and walks whole posting lists to intersect a filter's key tokens, so a query whose words are
 * common cost 15–50 ms at 100k memories. Why not posting lists for every term (the second one):
 * a query of five words each in 10 % of the memories walked 50–77k postings (~2 ms at 100k,
 * ~30 ms at 1M); the bitmaps rank it by visiting one term's slots. The index is rebuilt from the
 * stored texts at open (nothing more to keep durable).
 *
 * Tokenisation and stop words are shared with the other keyword legs (`@membus/vector-index`, text-terms.ts):
 * FTS5's `porter unicode61 tokenchars '_'` — case-folded, diacritics removed,
 * letters/digits/underscore runs (so `ERR_CONNECTION_REFUSED` stays one term), Porter-stemmed.
 */
export class KeywordIndex {
  private readonly termIds = new Map<string, number>();
  private termCount = 0;
  /**
   * Per term id, where its postings are: 0 while it has at most one (in `soleSlot` and
   * `soleFrequency`: most terms of a store — numbers, names, ids — occur once, and a typed array
   * costs ~200 bytes of heap); `k > 0` for `lists[k]`, a posting list while it is rare; `-k` for
   * `bits[k]`, a bitmap once it is frequent (it stays so). Typed columns instead of four JS
   * arrays of references per term (8 bytes each, most of them undefined).
   */
  private termWhere = new Int32Array(1024);
  /** Posting lists by `termWhere`: slot and frequency interleaved (one typed array per term). */
  private readonly lists: (Int32Array | undefined)[] = [undefined];
  /** List numbers freed when their term turned frequent, for reuse. */
  private readonly freeLists: number[] = [];
  private soleSlot = new Int32Array(1024);
  private soleFrequency = new Uint16Array(1024);
  /** A sole posting as a one-entry list, for the walk. */
  private readonly solePosting = new Int32Array(2);
  /** Per frequent term, by `-termWhere`: a bit per slot holding it. */
  private readonly bits: Uint32Array[] = [new Uint32Array(0)];
  /** Per frequent term, by `-termWhere`: a bit per slot holding it more than once, once one does. */
  private readonly repeats: (Uint32Array | undefined)[] = [undefined];
  /** Term id of each bitmap, by `-termWhere`. */
  private readonly denseIds: number[] = [-1];
  /** Per term id: the memories holding it (its document frequency). */
  private termLengths = new Int32Array(1024);
  /** Per term id: the largest frequency it was ever posted with (an upper bound, for pruning). */
  private termMaxFrequencies = new Uint16Array(1024);

  /**
   * Per slot: its term ids and frequencies, `docTerms[slot] − 1` of them from `docStart[slot]` in
   * one pool of ids and one of frequencies (`docTerms` 0: the slot holds no text). A typed array
   * per slot cost ~200 bytes of heap beside its elements. A re-indexed or removed slot's entries
   * are left behind in the pools and counted in `poolWaste`; the pools are compacted when that
   * reaches half of them.
   */
  private docStart = new Uint32Array(1024);
  private docTerms = new Uint32Array(1024);
  private poolIds = new Int32Array(4096);
  private poolFrequencies = new Uint16Array(4096);
  private poolEnd = 0;
  private poolWaste = 0;
  /**
   * Term count per slot. 16 bits hold any text (at most 32,000 characters) and keep the array a
   * quarter of a Float64Array's size: searches read it at random.
   */
  private docLengths = new Uint16Array(1024);
  private documents = 0;
  private totalLength = 0;
  /** A lower bound of every indexed text's length (only decreases), for pruning. */
  private minLength = Number.POSITIVE_INFINITY;

  /** Score accumulators of the rare terms' walk, by slot (0 = not reached). */
  private scores = new Float64Array(1024);
  private touched = new Int32Array(1024);
  /**
   * Per term id: 1 + its place among the rare query terms while a candidate set is ranked from
   * its members' term lists, else 0.
   */
  private queryPositions = new Int32Array(1024);
  private readonly stems = new Map<string, string>();

  /** Memories in the index. */
  get size(): number {
    return this.documents;
  }

  /**
   * The index as typed arrays and its terms by id, to restore it without stemming every text
   * again (restart-snapshot.ts). Posting lists are written up to their length.
   */
  exportState(): KeywordState {
    const listLengths = new Int32Array(this.lists.length).fill(-1);
    let listEntries = 0;
    for (let id = 0; id < this.termCount; id++) {
      const where = this.termWhere[id]!;
      if (where <= 0 || this.lists[where] === undefined) continue;
      listLengths[where] = 2 * this.termLengths[id]!;
      listEntries += listLengths[where]!;
    }
    const listData = new Int32Array(listEntries);
    let at = 0;
    for (let number = 1; number < this.lists.length; number++) {
      const length = listLengths[number]!;
      if (length <= 0) continue;
      listData.set(this.lists[number]!.subarray(0, length), at);
      at += length;
    }
    const words = this.docLengths.length >>> 5;
    const dense = this.bits.length - 1;
    const bits = new Uint32Array(dense * words);
    const repeatOf = new Int32Array(dense).fill(-1);
    const present = this.repeats.filter((repeats) => repeats !== undefined).length;
    const repeats = new Uint32Array(present * words);
    let repeatAt = 0;
    for (let index = 1; index <= dense; index++) {
      bits.set(this.bits[index]!.subarray(0, words), (index - 1) * words);
      const own = this.repeats[index];
      if (own === undefined) continue;
      repeatOf[index - 1] = repeatAt;
      repeats.set(own.subarray(0, words), repeatAt * words);
      repeatAt++;
    }
    const terms: string[] = new Array(this.termCount);
    for (const [term, id] of this.termIds) terms[id] = term;
    return {
      terms,
      arrays: {
        counts: Float64Array.of(
          this.termCount,
          this.documents,
          this.totalLength,
          this.minLength,
          this.poolEnd,
          this.poolWaste,
        ),
        termWhere: this.termWhere.subarray(0, this.termCount),
        termLengths: this.termLengths.subarray(0, this.termCount),
        termMaxFrequencies: this.termMaxFrequencies.subarray(0, this.termCount),
        soleSlot: this.soleSlot.subarray(0, this.termCount),
        soleFrequency: this.soleFrequency.subarray(0, this.termCount),
        listLengths,
        listData,
        freeLists: Int32Array.from(this.freeLists),
        denseIds: Int32Array.from(this.denseIds.slice(1)),
        bits,
        repeatOf,
        repeats,
        docStart: this.docStart,
        docTerms: this.docTerms,
        docLengths: this.docLengths,
        poolIds: this.poolIds.subarray(0, this.poolEnd),
        poolFrequencies: this.poolFrequencies.subarray(0, this.poolEnd),
      },
    };
  }

  /**
   * Fills an empty index with what `exportState` gave (the arrays are taken, not copied); throws,
   * leaving the index empty, when the state does not hold together.
   */
  restoreState(state: KeywordState): void {
    const a = state.arrays;
    const [termCount, documents, totalLength, minLength, poolEnd, poolWaste] = a.counts;
    const slots = a.docLengths.length;
    const words = slots >>> 5;
    const dense = a.denseIds.length;
    let listEntries = 0;
    for (let number = 1; number < a.listLengths.length; number++)
      listEntries += Math.max(0, a.listLengths[number]!);
    const consistent =
      this.termCount === 0 &&
      this.documents === 0 &&
      a.counts.length === 6 &&
      termCount === state.terms.length &&
      [a.termWhere, a.termLengths, a.termMaxFrequencies, a.soleSlot, a.soleFrequency].every(
        (column) => column.length === termCount,
      ) &&
      a.docStart.length === slots &&
      a.docTerms.length === slots &&
      slots % 32 === 0 &&
      a.poolIds.length === poolEnd &&
      a.poolFrequencies.length === poolEnd &&
      a.bits.length === dense * words &&
      a.repeatOf.length === dense &&
      a.repeatOf.every((at) => at < 0 || (at + 1) * words <= a.repeats.length) &&
      a.listLengths.length >= 1 &&
      listEntries === a.listData.length;
    if (!consistent) throw new Error('the keyword index state does not hold together');
    const columns = Math.max(1024, termCount!);
    const column = <T extends Int32Array | Uint16Array>(values: T): T => {
      const full = new (values.constructor as new (length: number) => T)(columns);
      full.set(values);
      return full;
    };
    for (const [id, term] of state.terms.entries()) this.termIds.set(term, id);
    this.termCount = termCount!;
    this.termWhere = column(a.termWhere);
    this.termLengths = column(a.termLengths);
    this.termMaxFrequencies = column(a.termMaxFrequencies);
    this.soleSlot = column(a.soleSlot);
    this.soleFrequency = column(a.soleFrequency);
    this.queryPositions = new Int32Array(columns);
    let at = 0;
    for (let number = 1; number < a.listLengths.length; number++) {
      const length = a.listLengths[number]!;
      if (length < 0) this.lists[number] = undefined;
      else {
        this.lists[number] = a.listData.slice(at, at + length);
        at += length;
      }
    }
    for (const number of a.freeLists) this.freeLists.push(number);
    for (let position = 0; position < dense; position++) {
      this.bits.push(a.bits.subarray(position * words, (position + 1) * words));
      const repeatAt = a.repeatOf[position]!;
      this.repeats.push(
        repeatAt < 0 ? undefined : a.repeats.subarray(repeatAt * words, (repeatAt + 1) * words),
      );
      this.denseIds.push(a.denseIds[position]!);
    }
    this.docStart = a.docStart;
    this.docTerms = a.docTerms;
    this.docLengths = a.docLengths;
    // Exactly as long as their entries: the next `reserve` grows them.
    this.poolIds = a.poolIds;
    this.poolFrequencies = a.poolFrequencies;
    this.poolEnd = poolEnd!;
    this.poolWaste = poolWaste!;
    this.documents = documents!;
    this.totalLength = totalLength!;
    this.minLength = minLength!;
    this.scores = new Float64Array(slots);
    this.touched = new Int32Array(slots);
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
    const termCount = counts.size;
    const start = this.reserve(termCount);
    let at = start;
    for (const [id, count] of counts) {
      const frequency = Math.min(count, 0xffff);
      this.poolIds[at] = id;
      this.poolFrequencies[at] = frequency;
      at++;
      this.post(id, slot, frequency);
    }
    this.docStart[slot] = start;
    this.docTerms[slot] = termCount + 1;
    length = Math.min(length, 0xffff);
    this.docLengths[slot] = length;
    if (length < this.minLength) this.minLength = length;
    this.documents++;
    this.totalLength += length;
  }

  /** Removes a slot's text (no-op when the slot holds none). */
  remove(slot: number): void {
    if (slot >= this.docTerms.length || this.docTerms[slot] === 0) return;
    const start = this.docStart[slot]!;
    const termCount = this.docTerms[slot]! - 1;
    for (let index = start; index < start + termCount; index++) {
      const id = this.poolIds[index]!;
      const where = this.termWhere[id]!;
      if (where < 0) {
        const bits = this.bits[-where]!;
        const word = slot >>> 5;
        const bit = 1 << (slot & 31);
        if ((bits[word]! & bit) === 0) continue;
        bits[word] = bits[word]! & ~bit;
        const repeats = this.repeats[-where];
        if (repeats !== undefined) repeats[word] = repeats[word]! & ~bit;
        this.termLengths[id] = this.termLengths[id]! - 1;
        continue;
      }
      const length = this.termLengths[id]!;
      if (where === 0) {
        if (length === 1 && this.soleSlot[id] === slot) this.termLengths[id] = 0;
        continue;
      }
      const list = this.lists[where]!;
      let at = 0;
      while (at < length && list[2 * at] !== slot) at++;
      if (at === length) continue;
      // Order within a posting list does not matter: scores are sums.
      list[2 * at] = list[2 * (length - 1)]!;
      list[2 * at + 1] = list[2 * (length - 1) + 1]!;
      this.termLengths[id] = length - 1;
    }
    this.docTerms[slot] = 0;
    this.poolWaste += termCount;
    this.documents--;
    this.totalLength -= this.docLengths[slot]!;
    this.docLengths[slot] = 0;
  }

  /** The `limit` best BM25 matches of the query among the slots that pass `matches`. */
  search(request: KeywordSearch): KeywordHit[] {
    const limit = Math.max(0, Math.floor(request.limit));
    if (limit === 0 || this.documents === 0) return [];
    const plan = this.plan(request.text);
    if (plan === undefined) return [];
    const heap = new BoundedHeap<KeywordHit>(limit, better);
    const { matches, candidates } = request;
    const postings = plan.sparsePostings + plan.densePostings;
    // A candidate set is ranked member by member when that costs less than the postings would
    // (a member costs a bit test per frequent term and an accumulator read).
    if (candidates !== undefined && 4 * candidates.size < postings) {
      this.rankCandidates(plan, candidates, heap);
      return heap.sorted();
    }
    // A candidate set smaller than the postings and than half the index restricts the search to
    // its members (marking them costs one write each); a larger one (e.g. the whole tenant) is
    // left to `matches`.
    const restrict =
      candidates !== undefined &&
      candidates.size < postings &&
      2 * candidates.size < this.documents;
    const contains = restrict ? candidates.contains() : undefined;
    const check = restrict ? candidates.matches : matches;
    const touchedCount = this.walk(plan.sparse, plan, contains);
    try {
      // Every memory holding a rare term, scored in full.
      const dense = plan.dense.length > 0;
      const touched = this.touched;
      const scores = this.scores;
      for (let index = 0; index < touchedCount; index++) {
        const slot = touched[index]!;
        const score = dense ? scores[slot]! + this.denseScore(slot, plan) : scores[slot]!;
        if (enters(heap.worst, slot, score) && check(slot)) heap.push({ slot, score });
      }
      if (dense) this.rankDense(plan, heap, check, contains);
    } finally {
      this.clearScores(touchedCount);
    }
    return heap.sorted();
  }

  /**
   * Ranks the memories holding frequent terms but none of the rare ones (those were scored from
   * the walk): first those holding every frequent term, which likely set a high threshold; then
   * only those that can still beat it — holding one of the terms it cannot do without (MaxScore's
   * essential terms) and every term whose absence alone would leave them below it.
   */
  private rankDense(
    plan: QueryPlan,
    heap: BoundedHeap<KeywordHit>,
    check: (slot: number) => boolean,
    contains: ((slot: number) => boolean) | undefined,
  ): void {
    const bitmaps = plan.denseBits;
    const words = this.docLengths.length >>> 5;
    const scores = this.scores;
    const lengths = this.docLengths;
    // The longest text that can still beat the worst kept hit (`longestEntering`): a memory
    // longer than that is passed over on one read instead of being scored. Kept up to date as the
    // kept hits improve; the tighter bound for texts longer than the shortest.
    let longest = 0xffff;
    let longestFor = Number.NEGATIVE_INFINITY;
    const tighten = () => {
      const worst = heap.worst;
      if (worst === undefined || worst.score <= longestFor) return;
      longestFor = worst.score;
      longest = longestEntering(plan, worst.score);
    };
    tighten();
    /** Scores the memories of a bitmap word's set bits that can still enter, lowest first. */
    const visitWord = (bits: number, word: number) => {
      let rest = bits;
      while (rest !== 0) {
        const lowest = rest & -rest;
        rest ^= lowest;
        const slot = (word << 5) | (31 - Math.clz32(lowest));
        if (lengths[slot]! > longest || scores[slot] !== 0) continue;
        if (contains !== undefined && !contains(slot)) continue;
        const score = this.denseScore(slot, plan);
        if (enters(heap.worst, slot, score) && check(slot)) {
          heap.push({ slot, score });
          tighten();
        }
      }
    };
    // No memory left to visit scores more than every frequent term's bound together
    // (`plan.denseTotal`), and a later slot enters on a tie only before the worst kept one: once
    // the kept hits beat that, the ranking is done (e.g. a query of words every memory holds).
    const settled = (word: number): boolean => {
      const worst = heap.worst;
      return (
        worst !== undefined &&
        (plan.denseTotal < worst.score ||
          (plan.denseTotal === worst.score && word * 32 > worst.slot))
      );
    };
    for (let word = 0; word < words; word++) {
      if (settled(word)) return;
      const all = allOf(bitmaps, word);
      if (all !== 0) visitWord(all, word);
    }
    if (bitmaps.length === 1) return;
    let threshold = Number.NEGATIVE_INFINITY;
    let needed: Needed = { anyOf: bitmaps, allOf: [] };
    for (let word = 0; word < words; word++) {
      if (word % RECHECK_WORDS === 0) {
        if (settled(word)) return;
        const worst = heap.worst?.score ?? Number.NEGATIVE_INFINITY;
        if (worst > threshold) {
          threshold = worst;
          needed = neededTerms(plan, threshold);
          // Nothing can reach it, or only memories holding every term: scored above.
          if (needed.anyOf.length === 0 || needed.allOf.length === bitmaps.length) return;
        }
      }
      let any = 0;
      for (let index = 0; index < needed.anyOf.length; index++) any |= needed.anyOf[index]![word]!;
      for (let index = 0; index < needed.allOf.length && any !== 0; index++)
        any &= needed.allOf[index]![word]!;
      if (any === 0) continue;
      // Those holding every term were scored above.
      const some = any & ~allOf(bitmaps, word);
      if (some !== 0) visitWord(some, word);
    }
  }

  /** Ranks a candidate set member by member (rare terms from the walk or the members' lists). */
  private rankCandidates(
    plan: QueryPlan,
    candidates: KeywordCandidates,
    heap: BoundedHeap<KeywordHit>,
  ): void {
    const { sparse } = plan;
    const dense = plan.dense.length > 0;
    // The rare terms' postings, walked whole, or each member's own term list: whichever is less.
    const walked = sparse.length > 0 && plan.sparsePostings <= candidates.size * TERM_LIST_COST;
    const touchedCount = walked ? this.walk(sparse, plan, undefined) : 0;
    const positions = this.queryPositions;
    const partial = new Float64Array(sparse.length);
    if (!walked)
      for (let index = 0; index < sparse.length; index++) positions[sparse[index]!.id] = index + 1;
    try {
      candidates.forEach((slot) => {
        const terms = this.docTerms[slot];
        if (terms === undefined || terms === 0) return;
        let score = 0;
        if (walked) score = this.scores[slot]!;
        else if (sparse.length > 0) {
          // Each rare term's contribution by its query position, summed in query order.
          partial.fill(0);
          const start = this.docStart[slot]!;
          const end = start + terms - 1;
          const ids = this.poolIds;
          const norm = plan.base + plan.lengthFactor * this.docLengths[slot]!;
          for (let index = start; index < end; index++) {
            const position = positions[ids[index]!]!;
            if (position === 0) continue;
            const frequency = this.poolFrequencies[index]!;
            partial[position - 1] = (sparse[position - 1]!.weight * frequency) / (frequency + norm);
          }
          for (let index = 0; index < partial.length; index++) score += partial[index]!;
        }
        if (dense) score += this.denseScore(slot, plan);
        if (score > 0 && enters(heap.worst, slot, score) && candidates.matches(slot))
          heap.push({ slot, score });
      });
    } finally {
      if (walked) this.clearScores(touchedCount);
      else for (const term of sparse) positions[term.id] = 0;
    }
  }

  /**
   * Walks the rare terms' postings (of members only, with `contains`) into `scores`, in query
   * order; the slots reached go to `touched`. Returns how many.
   */
  private walk(
    sparse: readonly QueryTerm[],
    plan: QueryPlan,
    contains: ((slot: number) => boolean) | undefined,
  ): number {
    const scores = this.scores;
    const touched = this.touched;
    const lengths = this.docLengths;
    const { base, lengthFactor } = plan;
    let touchedCount = 0;
    for (const { id, weight } of sparse) {
      const where = this.termWhere[id]!;
      let postings = this.lists[where];
      if (where === 0 || postings === undefined) {
        postings = this.solePosting;
        postings[0] = this.soleSlot[id]!;
        postings[1] = this.soleFrequency[id]!;
      }
      const end = 2 * this.termLengths[id]!;
      for (let at = 0; at < end; at += 2) {
        const slot = postings[at]!;
        if (contains !== undefined && !contains(slot)) continue;
        const frequency = postings[at + 1]!;
        const previous = scores[slot]!;
        if (previous === 0) touched[touchedCount++] = slot;
        scores[slot] =
          previous + (weight * frequency) / (frequency + (base + lengthFactor * lengths[slot]!));
      }
    }
    return touchedCount;
  }

  private clearScores(touchedCount: number): void {
    const scores = this.scores;
    const touched = this.touched;
    for (let index = 0; index < touchedCount; index++) scores[touched[index]!] = 0;
  }

  /** What the frequent query terms add to a slot's score, in query order. */
  private denseScore(slot: number, plan: QueryPlan): number {
    const { denseBits, denseRepeats, denseWeights } = plan;
    const word = slot >>> 5;
    const bit = 1 << (slot & 31);
    const norm = plan.base + plan.lengthFactor * this.docLengths[slot]!;
    let score = 0;
    for (let index = 0; index < denseBits.length; index++) {
      if ((denseBits[index]![word]! & bit) === 0) continue;
      const repeats = denseRepeats[index];
      const frequency =
        repeats !== undefined && (repeats[word]! & bit) !== 0
          ? this.frequencyIn(slot, plan.dense[index]!.id)
          : 1;
      score += (denseWeights[index]! * frequency) / (frequency + norm);
    }
    return score;
  }

  /** A term's frequency in a slot's text, from the slot's own term list. */
  private frequencyIn(slot: number, id: number): number {
    const terms = this.docTerms[slot]!;
    if (terms === 0) return 0;
    const start = this.docStart[slot]!;
    const end = start + terms - 1;
    const ids = this.poolIds;
    for (let index = start; index < end; index++)
      if (ids[index] === id) return this.poolFrequencies[index]!;
    return 0;
  }

  /** The query's terms known to the index, with their weights and bounds, or undefined. */
  private plan(text: string): QueryPlan | undefined {
    const averageLength = this.totalLength / this.documents || 1;
    const base = K1 * (1 - B);
    const lengthFactor = (K1 * B) / averageLength;
    const shortest = Number.isFinite(this.minLength) ? this.minLength : 0;
    const plan: QueryPlan = {
      sparse: [],
      dense: [],
      denseBits: [],
      denseRepeats: [],
      denseWeights: new Float64Array(0),
      sparsePostings: 0,
      densePostings: 0,
      denseTotal: 0,
      base,
      lengthFactor,
    };
    let count = 0;
    for (const term of new Set(this.terms(text))) {
      if (STOP_WORDS.has(term)) continue;
      const id = this.termIds.get(term);
      if (id === undefined) continue;
      const frequency = this.termLengths[id]!;
      if (frequency === 0) continue;
      // FTS5's idf, floored so a term in most documents still counts a little.
      const idf = Math.max(Math.log((this.documents - frequency + 0.5) / (frequency + 0.5)), 1e-6);
      const weight = idf * (K1 + 1);
      const most = this.termMaxFrequencies[id]!;
      const bound = (weight * most) / (most + (base + lengthFactor * shortest));
      if (this.termWhere[id]! >= 0) {
        plan.sparse.push({ id, weight, most, bound });
        plan.sparsePostings += frequency;
      } else {
        plan.dense.push({ id, weight, most, bound });
        plan.densePostings += frequency;
      }
      if (++count === MAX_QUERY_TERMS) break;
    }
    if (count === 0) return undefined;
    plan.denseBits = plan.dense.map((term) => this.bits[-this.termWhere[term.id]!]!);
    plan.denseRepeats = plan.dense.map((term) => this.repeats[-this.termWhere[term.id]!]);
    plan.denseWeights = Float64Array.from(plan.dense, (term) => term.weight);
    for (const term of plan.dense) plan.denseTotal += term.bound;
    return plan;
  }

  private terms(text: string): Generator<string> {
    // The word → stem cache stays small: most words of a large store (numbers, ids) occur once.
    if (this.stems.size >= STEM_CACHE_LIMIT) this.stems.clear();
    return stemmedTerms(text, this.stems);
  }

  private termId(term: string): number {
    let id = this.termIds.get(term);
    if (id === undefined) {
      id = this.termCount++;
      // A long word is a slice of its text's string: kept as the key, it would keep the text.
      this.termIds.set(term.length < SLICED_LENGTH ? term : flat(term), id);
      if (id >= this.termLengths.length) {
        this.termWhere = growColumn(this.termWhere, id + 1);
        this.termLengths = growColumn(this.termLengths, id + 1);
        this.termMaxFrequencies = growColumn(this.termMaxFrequencies, id + 1);
        this.soleSlot = growColumn(this.soleSlot, id + 1);
        this.soleFrequency = growColumn(this.soleFrequency, id + 1);
        this.queryPositions = growColumn(this.queryPositions, id + 1);
      }
    }
    return id;
  }

  private post(id: number, slot: number, frequency: number): void {
    if (frequency > this.termMaxFrequencies[id]!) this.termMaxFrequencies[id] = frequency;
    const length = this.termLengths[id]!;
    this.termLengths[id] = length + 1;
    const where = this.termWhere[id]!;
    if (where < 0) {
      this.setBit(-where, slot, frequency);
      return;
    }
    let list = this.lists[where];
    if (where === 0 || list === undefined) {
      if (length === 0) {
        this.soleSlot[id] = slot;
        this.soleFrequency[id] = frequency;
        return;
      }
      // The second posting: the sole one moves into a list.
      list = new Int32Array(8);
      list[0] = this.soleSlot[id]!;
      list[1] = this.soleFrequency[id]!;
      const number = this.freeLists.pop() ?? this.lists.length;
      this.lists[number] = list;
      this.termWhere[id] = number;
    }
    if (2 * length === list.length) {
      list = grow(list, 2 * length + 2);
      this.lists[this.termWhere[id]!] = list;
    }
    list[2 * length] = slot;
    list[2 * length + 1] = frequency;
    if (length + 1 >= this.docLengths.length * DENSE_SHARE) this.toBitmap(id);
  }

  /** Moves a term that turned frequent from its posting list to a bitmap. */
  private toBitmap(id: number): void {
    const where = this.termWhere[id]!;
    const list = where > 0 ? this.lists[where] : undefined;
    const length = this.termLengths[id]!;
    const dense = this.bits.length;
    this.bits.push(new Uint32Array(this.docLengths.length >>> 5));
    this.repeats.push(undefined);
    this.denseIds.push(id);
    this.termWhere[id] = -dense;
    if (list === undefined) {
      if (length === 1) this.setBit(dense, this.soleSlot[id]!, this.soleFrequency[id]!);
    } else {
      for (let at = 0; at < length; at++) this.setBit(dense, list[2 * at]!, list[2 * at + 1]!);
      this.lists[where] = undefined;
      this.freeLists.push(where);
    }
  }

  private setBit(dense: number, slot: number, frequency: number): void {
    const word = slot >>> 5;
    const bit = 1 << (slot & 31);
    const bits = this.bits[dense]!;
    bits[word] = bits[word]! | bit;
    if (frequency > 1) {
      let repeats = this.repeats[dense];
      if (repeats === undefined) {
        repeats = new Uint32Array(bits.length);
        this.repeats[dense] = repeats;
      }
      repeats[word] = repeats[word]! | bit;
    }
  }

  /** Where `count` more pool entries start (after compacting or growing the pools). */
  private reserve(count: number): number {
    if (this.poolWaste > 1024 && 2 * this.poolWaste >= this.poolEnd) this.compact(count);
    const end = this.poolEnd + count;
    if (end > this.poolIds.length) {
      this.poolIds = growColumn(this.poolIds, end);
      this.poolFrequencies = growColumn(this.poolFrequencies, end);
    }
    this.poolEnd = end;
    return end - count;
  }

  /** Copies the slots' term lists into fresh pools without what removals left behind. */
  private compact(room: number): void {
    const live = this.poolEnd - this.poolWaste;
    let size = 4096;
    while (size < 1.5 * (live + room)) size *= 2;
    const ids = new Int32Array(size);
    const frequencies = new Uint16Array(size);
    let end = 0;
    for (let slot = 0; slot < this.docTerms.length; slot++) {
      const terms = this.docTerms[slot]!;
      if (terms === 0) continue;
      const start = this.docStart[slot]!;
      ids.set(this.poolIds.subarray(start, start + terms - 1), end);
      frequencies.set(this.poolFrequencies.subarray(start, start + terms - 1), end);
      this.docStart[slot] = end;
      end += terms - 1;
    }
    this.poolIds = ids;
    this.poolFrequencies = frequencies;
    this.poolEnd = end;
    this.poolWaste = 0;
  }

  private ensureSlot(slot: number): void {
    if (slot < this.docLengths.length) return;
    this.docLengths = grow(this.docLengths, slot + 1);
    this.docStart = grow(this.docStart, slot + 1);
    this.docTerms = grow(this.docTerms, slot + 1);
    this.scores = grow(this.scores, slot + 1);
    this.touched = grow(this.touched, slot + 1);
    const words = this.docLengths.length >>> 5;
    for (let dense = 1; dense < this.bits.length; dense++) {
      this.bits[dense] = grow(this.bits[dense]!, words);
      const repeats = this.repeats[dense];
      if (repeats !== undefined) this.repeats[dense] = grow(repeats, words);
    }
  }
}

/** Words in the stem cache before it is cleared (text-terms.ts's own limit is 200,000). */
const STEM_CACHE_LIMIT = 16_384;
/** From this length V8 makes a substring a slice that references its whole parent string. */
const SLICED_LENGTH = 13;

/**
 * Above this length the pools and term columns grow by a quarter instead of doubling: doubled,
 * half of a large one would be unused (~50 bytes per memory at 1M).
 */
const LARGE_COLUMN = 1 << 20;

/** A copy of `column` at least `atLeast` long, the tail zeroed. */
function growColumn<T extends Int32Array | Uint16Array>(column: T, atLeast: number): T {
  if (column.length < LARGE_COLUMN) return grow(column, atLeast);
  let length = column.length;
  while (length < atLeast) length = Math.ceil(length * 1.25);
  const next = new (column.constructor as new (length: number) => T)(length);
  next.set(column);
  return next;
}

/** A copy of a string that references no other string. */
function flat(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

/** What a memory must hold to reach a threshold: one term of `anyOf`, and every term of `allOf`. */
interface Needed {
  anyOf: Uint32Array[];
  allOf: Uint32Array[];
}

/**
 * The frequent terms a memory holding none of the rare ones needs to reach `threshold`: one of
 * all but the lightest terms whose bounds sum below it (MaxScore's essential terms; none when
 * all of them together stay below), and every term whose bound is more than the others' can
 * make up for. Sums of bounds round differently from sums of scores: a hair of slack keeps a
 * term that might just reach it.
 */
function neededTerms(plan: QueryPlan, threshold: number): Needed {
  const below = (sum: number) => sum * (1 + 1e-9) < threshold;
  const terms = plan.dense.map((term, index) => ({
    bound: term.bound,
    bits: plan.denseBits[index]!,
  }));
  const total = terms.reduce((sum, term) => sum + term.bound, 0);
  if (below(total)) return { anyOf: [], allOf: [] };
  const byBound = [...terms].sort((a, b) => a.bound - b.bound);
  let sum = 0;
  let first = 0;
  while (first < byBound.length && below(sum + byBound[first]!.bound))
    sum += byBound[first++]!.bound;
  return {
    anyOf: byBound.slice(first).map((term) => term.bits),
    allOf: terms.filter((term) => below(total - term.bound)).map((term) => term.bits),
  };
}

/**
 * What the frequent query terms add at most to a memory of `length` terms, computed and summed as
 * `denseScore` computes and sums a memory's contributions (with each term's largest frequency),
 * so that no such memory's score exceeds it, exactly.
 */
function boundAt(plan: QueryPlan, length: number): number {
  const norm = plan.base + plan.lengthFactor * length;
  let total = 0;
  for (const { weight, most } of plan.dense) total += (weight * most) / (most + norm);
  return total;
}

/**
 * The longest text whose bound (`boundAt`) still reaches `threshold`, or −1: a longer memory
 * scores below it and cannot enter (the bound only falls as texts grow longer).
 */
function longestEntering(plan: QueryPlan, threshold: number): number {
  if (boundAt(plan, 0xffff) >= threshold) return 0xffff;
  let reaches = -1;
  let below = 0xffff;
  while (below - reaches > 1) {
    const middle = (reaches + below) >>> 1;
    if (boundAt(plan, middle) >= threshold) reaches = middle;
    else below = middle;
  }
  return reaches;
}

/** The bits of a word set in every bitmap. */
function allOf(bitmaps: readonly Uint32Array[], word: number): number {
  let all = bitmaps[0]![word]!;
  for (let index = 1; index < bitmaps.length && all !== 0; index++) all &= bitmaps[index]![word]!;
  return all;
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
