import { STOP_WORDS, stemmedTerms } from '@membus/vector-index';
import { seededRandom } from '@membus/vector-index/testing';
import { describe, expect, it, vi } from 'vitest';
import { KeywordIndex } from '../src/keyword-index.ts';

const everything = () => true;

const asPair = (hit: { slot: number; score: number }) => [hit.slot, hit.score.toFixed(9)];

/**
 * The reference: BM25 (k1 1.2, b 0.75, FTS5's idf floored at 1e-6) of every text against the
 * query, computed directly, best first, ties by slot; [slot, score to 9 places].
 */
function bm25(
  texts: readonly (string | undefined)[],
  query: string,
  options: { limit: number; keep?: (slot: number) => boolean },
): [number, string][] {
  return reference(texts)(query, options);
}

/** `bm25` over texts tokenised once, for many queries. */
function reference(texts: readonly (string | undefined)[]) {
  const documents = texts.flatMap((text, slot) => {
    if (text === undefined) return [];
    const terms = [...stemmedTerms(text)];
    const counts = new Map<string, number>();
    for (const term of terms)
      if (!STOP_WORDS.has(term)) counts.set(term, (counts.get(term) ?? 0) + 1);
    return [{ slot, length: terms.length, counts }];
  });
  const average = documents.reduce((sum, doc) => sum + doc.length, 0) / documents.length;
  return (
    query: string,
    { limit, keep = () => true }: { limit: number; keep?: (slot: number) => boolean },
  ): [number, string][] => {
    const words = [...new Set(stemmedTerms(query))].filter((term) => !STOP_WORDS.has(term));
    const idf = new Map(
      words.map((term) => {
        const frequency = documents.filter((doc) => doc.counts.has(term)).length;
        const value = Math.log((documents.length - frequency + 0.5) / (frequency + 0.5));
        return [term, Math.max(value, 1e-6)] as const;
      }),
    );
    return documents
      .filter((doc) => keep(doc.slot))
      .map((doc) => {
        let score = 0;
        for (const term of words) {
          const frequency = doc.counts.get(term) ?? 0;
          score +=
            (idf.get(term)! * frequency * 2.2) /
            (frequency + 1.2 * (0.25 + (0.75 * doc.length) / average));
        }
        return { slot: doc.slot, score };
      })
      .filter((doc) => doc.score > 0)
      .sort((a, b) => b.score - a.score || a.slot - b.slot)
      .slice(0, limit)
      .map((doc) => [doc.slot, doc.score.toFixed(9)]);
  };
}

function indexOf(texts: readonly string[]): KeywordIndex {
  const index = new KeywordIndex();
  texts.forEach((text, slot) => {
    index.set(slot, text);
  });
  return index;
}

/**
 * Slots 0..count-1 passing `member`, as a candidate set. `size` is what the set claims: 0 makes
 * the index rank the candidates one by one, a huge one makes it walk the postings.
 */
function allSlots(
  count: number,
  matches: (slot: number) => boolean = () => true,
  { size = 0, member = (_slot: number): boolean => true } = {},
) {
  return {
    size,
    forEach(visit: (slot: number) => void) {
      for (let slot = 0; slot < count; slot++) if (member(slot)) visit(slot);
    },
    matches,
    contains: () => (slot: number) => slot < count && member(slot),
  };
}

const corpus = [
  'Deploy to Vercel failed: ERR_CONNECTION_REFUSED from the build runner',
  'The checkout service was deployed to Netlify preview',
  'Connection pool exhausted on the payments database',
  'Rolled back the billing deployment after slow queries',
  'Café menu: crème brûlée and naïve coffee',
];

describe('KeywordIndex', () => {
  it('ranks the memory with the rarest shared term first', () => {
    const hits = indexOf(corpus).search({ text: 'payments pool', matches: everything, limit: 3 });
    expect(hits.map((hit) => hit.slot)).toEqual([2]);
  });

  it('keeps identifiers with underscores whole', () => {
    const index = indexOf(corpus);
    expect(
      index.search({ text: 'err_connection_refused', matches: everything, limit: 5 }),
    ).toHaveLength(1);
  });

  it('matches inflections through Porter stemming', () => {
    const hits = indexOf(corpus).search({ text: 'deploying', matches: everything, limit: 5 });
    expect(hits.map((hit) => hit.slot).sort()).toEqual([0, 1]);
  });

  it('folds case and diacritics', () => {
    const hits = indexOf(corpus).search({ text: 'CREME BRULEE', matches: everything, limit: 5 });
    expect(hits.map((hit) => hit.slot)).toEqual([4]);
  });

  it('ignores stop words in the query', () => {
    expect(
      indexOf(corpus).search({ text: 'the and of to', matches: everything, limit: 5 }),
    ).toEqual([]);
  });

  it('finds nothing for an unknown word', () => {
    expect(indexOf(corpus).search({ text: 'kubernetes', matches: everything, limit: 5 })).toEqual(
      [],
    );
  });

  it('ranks only slots that pass the predicate', () => {
    const hits = indexOf(corpus).search({
      text: 'deploy',
      matches: (slot) => slot !== 0,
      limit: 5,
    });
    expect(hits.map((hit) => hit.slot)).toEqual([1]);
  });

  it('forgets a removed text', () => {
    const index = indexOf(corpus);
    index.remove(2);
    expect(index.search({ text: 'payments', matches: everything, limit: 5 })).toEqual([]);
    expect(index.size).toBe(corpus.length - 1);
  });

  it('re-indexes a slot whose text changed', () => {
    const index = indexOf(corpus);
    index.set(2, 'Kafka consumer lag is growing');
    expect(index.search({ text: 'payments', matches: everything, limit: 5 })).toEqual([]);
    expect(
      index.search({ text: 'kafka lag', matches: everything, limit: 5 }).map((hit) => hit.slot),
    ).toEqual([2]);
  });

  /** 300 deploy-log lines over three verbs, four services and two hosts. */
  const deployLog = () =>
    Array.from(
      { length: 300 },
      (_, slot) =>
        `${['deployed', 'rolled back', 'scaled'][slot % 3]} ${['billing', 'search', 'auth', 'ledger'][slot % 4]} on ${['vercel', 'fly.io'][slot % 2]} run ${slot}`,
    );

  it('scores a candidate set exactly as the posting lists do', () => {
    const texts = deployLog();
    const index = indexOf(texts);
    const request = { text: 'rolled back ledger vercel', matches: everything, limit: 20 };
    const byPostings = index.search(request);
    const byCandidates = index.search({ ...request, candidates: allSlots(texts.length) });
    expect(byCandidates.map((hit) => [hit.slot, hit.score.toFixed(9)])).toEqual(
      byPostings.map((hit) => [hit.slot, hit.score.toFixed(9)]),
    );
  });

  it('walking the postings with a candidate set ranks only its members, as ranking them one by one does', () => {
    const texts = deployLog();
    const index = indexOf(texts);
    const even = (slot: number) => slot % 2 === 0;
    const notSix = (slot: number) => slot !== 6;
    const request = { text: 'rolled back ledger vercel', matches: () => false, limit: 20 };
    const oneByOne = index.search({
      ...request,
      candidates: allSlots(texts.length, notSix, { member: even }),
    });
    // ~425 postings: a set claiming 100 members is walked (100 × 300 > 425) and restricts it.
    const walked = index.search({
      ...request,
      candidates: allSlots(texts.length, notSix, { member: even, size: 100 }),
    });
    expect(walked.length).toBe(20);
    expect(walked.every((hit) => even(hit.slot) && hit.slot !== 6)).toBe(true);
    expect(walked.map((hit) => [hit.slot, hit.score.toFixed(9)])).toEqual(
      oneByOne.map((hit) => [hit.slot, hit.score.toFixed(9)]),
    );
    // A set larger than the walk is not marked: the request's own predicate decides.
    const unrestricted = index.search({
      ...request,
      matches: (slot) => even(slot) && notSix(slot),
      candidates: allSlots(texts.length, () => false, { size: 1e9 }),
    });
    expect(unrestricted.map((hit) => [hit.slot, hit.score.toFixed(9)])).toEqual(
      oneByOne.map((hit) => [hit.slot, hit.score.toFixed(9)]),
    );
  });

  it('ranks a frequent term from its bitmap without visiting every memory holding it (pruning)', () => {
    // 20,000 memories: `ledger` in a tenth, `timeout` in a seventh, `cache` in a third and `run`
    // in all (frequent terms: bitmaps). The top ten hold all four; a memory missing `ledger` or
    // `timeout` cannot reach them, so the search visits only memories holding both.
    const texts = Array.from({ length: 20_000 }, (_, slot) =>
      [
        slot % 10 === 0 ? 'ledger' : 'billing',
        slot % 7 === 0 ? 'timeout' : 'retry',
        slot % 3 === 0 ? 'cache' : 'disk',
        'run',
        ...Array.from({ length: slot % 13 }, () => 'step'),
        slot % 11 === 0 ? 'run again' : '',
      ].join(' '),
    );
    const index = indexOf(texts);
    const scored = vi.spyOn(index as unknown as { denseScore: () => number }, 'denseScore');
    const request = { text: 'ledger timeout cache run', matches: everything, limit: 10 };
    const hits = index.search(request);
    expect(hits.map((hit) => [hit.slot, hit.score.toFixed(9)])).toEqual(
      bm25(texts, request.text, { limit: 10 }),
    );
    // Memories holding both `ledger` and `timeout`: 20,000 / 70.
    expect(scored.mock.calls.length).toBeLessThanOrEqual(Math.ceil(20_000 / 70));
    expect(hits.every((hit) => hit.slot % 70 === 0)).toBe(true);
  });

  it('stops ranking once no memory left can beat the kept hits (words every memory holds)', () => {
    // 20,000 memories of one length, each holding `memory`, `number` and `realistic` once (every
    // one scores the same on them) and its own number. Once the ten best are kept, a later
    // memory can at most tie, and ties go to the earlier slot: nothing after them is scored.
    const texts = Array.from(
      { length: 20_000 },
      (_, slot) => `benchmark memory number ${slot} with some text to make the record realistic`,
    );
    const index = indexOf(texts);
    const scored = vi.spyOn(index as unknown as { denseScore: () => number }, 'denseScore');
    for (const text of ['memory number 12345 realistic', 'memory realistic record']) {
      scored.mockClear();
      const hits = index.search({ text, matches: everything, limit: 10 });
      expect(hits.map(asPair)).toEqual(bm25(texts, text, { limit: 10 }));
      // The rare term's memory, then the first bitmap words' memories up to the ten kept.
      expect(scored.mock.calls.length).toBeLessThanOrEqual(1 + 32);
    }
    // Memories of seven lengths, and a few one-word ones: the bound at the shortest text is far
    // above what the others score, so the ranking cannot stop early; but once ten memories of
    // the shortest full length are kept, a longer one cannot beat them and is passed over unscored.
    const varied = texts.map((text, slot) =>
      slot % 1000 === 999 ? 'memory' : `${text} ${'word '.repeat(slot % 7)}`,
    );
    const variedIndex = indexOf(varied);
    const variedScored = vi.spyOn(
      variedIndex as unknown as { denseScore: () => number },
      'denseScore',
    );
    for (const text of ['memory number 12345 realistic', 'memory realistic record']) {
      variedScored.mockClear();
      expect(variedIndex.search({ text, matches: everything, limit: 10 }).map(asPair)).toEqual(
        bm25(varied, text, { limit: 10 }),
      );
      // The shortest seventh, the one-word memories, and the first words' memories.
      expect(variedScored.mock.calls.length).toBeLessThanOrEqual(20_000 / 7 + 20 + 64);
    }
  });

  it('ranks exactly as BM25 over every memory, through removals, re-indexing and growth', () => {
    // A seeded corpus with a skewed vocabulary (a few terms in most memories: bitmaps; a long
    // tail: posting lists), repeated words, removals and re-indexed texts, slots well past the
    // first bitmap size, and queries mixing frequent, rare and unknown words; each ranked with
    // no candidate set, small ones (ranked member by member, the rare terms from the members'
    // own lists or from their postings), one that restricts the search, and one left to the
    // predicate.
    const random = seededRandom(7);
    const vocabulary = Array.from({ length: 400 }, (_, rank) => `w${rank}x`);
    const word = () => vocabulary[Math.floor(vocabulary.length * random() ** 3)]!;
    const text = () =>
      Array.from({ length: 3 + Math.floor(random() * 20) }, () =>
        random() < 0.1 ? 'the' : word(),
      ).join(' ');
    const texts: (string | undefined)[] = [];
    const index = new KeywordIndex();
    for (let step = 0; step < 6_000; step++) {
      // Slots spread as the index fills, so bitmaps grow with it.
      const slot = Math.floor(random() * Math.min(5_000, 200 + step));
      if (texts[slot] !== undefined && random() < 0.2) {
        index.remove(slot);
        texts[slot] = undefined;
      } else {
        texts[slot] = text();
        index.set(slot, texts[slot]);
      }
    }
    expect(index.size).toBe(texts.filter((value) => value !== undefined).length);
    const expectedOf = reference(texts);
    for (let round = 0; round < 60; round++) {
      const query = Array.from({ length: 1 + Math.floor(random() * 6) }, () =>
        random() < 0.15 ? 'nowhere' : word(),
      ).join(' ');
      const limit = [1, 5, 40][round % 3]!;
      const expected = expectedOf(query, { limit });
      expect(index.search({ text: query, matches: everything, limit }).map(asPair)).toEqual(
        expected,
      );
      const odd = (slot: number) => slot % 2 === 1;
      const member = (slot: number) => slot % 5 === 0;
      const among = expectedOf(query, { limit, keep: (slot) => member(slot) && odd(slot) });
      for (const size of [0, 50, 1_000, 1e9]) {
        const hits = index.search({
          text: query,
          matches: (slot) => member(slot) && odd(slot),
          candidates: allSlots(texts.length, odd, { size, member }),
          limit,
        });
        expect(hits.map(asPair)).toEqual(among);
      }
    }
  });

  it('ranks the same after texts written again many times (their old term lists compacted away)', () => {
    const random = seededRandom(11);
    const vocabulary = Array.from({ length: 60 }, (_, rank) => `v${rank}q`);
    const text = () =>
      Array.from(
        { length: 4 + Math.floor(random() * 12) },
        () => vocabulary[Math.floor(vocabulary.length * random() ** 2)]!,
      ).join(' ');
    const texts: (string | undefined)[] = [];
    const index = new KeywordIndex();
    // 300 slots of ~10 terms, each written 8 times: what the old lists leave behind outgrows
    // what is live several times over.
    for (let round = 0; round < 8; round++)
      for (let slot = 0; slot < 300; slot++) {
        const written = text();
        texts[slot] = written;
        index.set(slot, written);
      }
    for (let slot = 0; slot < 300; slot += 7) {
      index.remove(slot);
      texts[slot] = undefined;
    }
    const expectedOf = reference(texts);
    for (let round = 0; round < 30; round++) {
      const query = Array.from({ length: 1 + (round % 4) }, () => vocabulary[round * 2]!).join(' ');
      const odd = (slot: number) => slot % 2 === 1;
      expect(index.search({ text: query, matches: everything, limit: 10 }).map(asPair)).toEqual(
        expectedOf(query, { limit: 10 }),
      );
      // Ranked member by member: the rare terms from the members' own (compacted) term lists.
      const hits = index.search({
        text: query,
        matches: odd,
        candidates: allSlots(texts.length, odd, { size: 1, member: odd }),
        limit: 10,
      });
      expect(hits.map(asPair)).toEqual(expectedOf(query, { limit: 10, keep: odd }));
    }
  });

  it("checks a candidate set's members with the set's own predicate", () => {
    const index = indexOf(['ledger timeout one', 'ledger timeout two', 'ledger timeout three']);
    const hits = index.search({
      text: 'ledger timeout',
      matches: () => false,
      candidates: allSlots(3, (slot) => slot !== 1),
      limit: 5,
    });
    expect(hits.map((hit) => hit.slot).sort()).toEqual([0, 2]);
  });

  it('gives a shorter memory with the same matches the higher score', () => {
    const index = indexOf([
      'ledger timeout',
      'ledger timeout while the nightly batch export was running for the finance team',
      'unrelated text one',
      'unrelated text two',
    ]);
    const hits = index.search({ text: 'ledger timeout', matches: everything, limit: 2 });
    expect(hits.map((hit) => hit.slot)).toEqual([0, 1]);
  });
});

describe('KeywordIndex state (the restart snapshot)', () => {
  // A vocabulary with a Zipf-like skew: the first words land in more than 1/32 of the slots
  // (bitmaps, repeats among them), the last in one or two (sole postings and short lists).
  const random = seededRandom(23);
  const words = Array.from({ length: 400 }, (_, n) => `word${n}x`);
  const text = () =>
    Array.from({ length: 3 + Math.floor(random() * 9) }, () => {
      const rank = Math.floor(words.length * random() ** 3);
      return words[rank];
    }).join(' ');
  const queries = [
    'word0x word1x',
    'word2x word17x word250x',
    'word399x',
    'word5x word5x word90x word3x word1x',
    'word120x absent',
  ];

  it('restores an index that ranks exactly as the original, and keeps changing as it would', () => {
    const texts: (string | undefined)[] = Array.from({ length: 3_000 }, text);
    const original = new KeywordIndex();
    for (const [slot, value] of texts.entries()) original.set(slot, value!);
    // Removals and re-indexing: pool waste, emptied lists, bitmaps with holes.
    for (let slot = 0; slot < texts.length; slot += 7) {
      original.remove(slot);
      texts[slot] = undefined;
    }
    for (let slot = 3; slot < texts.length; slot += 11) {
      texts[slot] = text();
      original.set(slot, texts[slot]!);
    }
    const state = original.exportState();
    expect(state.arrays.bits.length).toBeGreaterThan(0);
    expect(state.arrays.repeatOf.some((at) => at >= 0)).toBe(true);
    expect(state.arrays.listData.length).toBeGreaterThan(0);

    const restored = new KeywordIndex();
    // Through copies, as a file would give them back.
    restored.restoreState({
      terms: [...state.terms],
      arrays: Object.fromEntries(
        Object.entries(state.arrays).map(([name, array]) => [name, array.slice()]),
      ) as typeof state.arrays,
    });
    expect(restored.size).toBe(original.size);
    const check = () => {
      const expected = reference(texts);
      for (const query of queries) {
        const want = expected(query, { limit: 10 });
        expect(want.length).toBeGreaterThan(0);
        for (const index of [original, restored])
          expect(index.search({ text: query, matches: everything, limit: 10 }).map(asPair)).toEqual(
            want,
          );
      }
    };
    check();
    // The same changes to both, past the restored arrays' lengths (growth) and over restored slots.
    for (let slot = 0; slot < 5_000; slot += 3) {
      texts[slot] = text();
      original.set(slot, texts[slot]!);
      restored.set(slot, texts[slot]!);
    }
    for (let slot = 1; slot < 5_000; slot += 5) {
      texts[slot] = undefined;
      original.remove(slot);
      restored.remove(slot);
    }
    check();
  });

  it('refuses a state that does not hold together, and stays empty', () => {
    const original = new KeywordIndex();
    for (const [slot, value] of corpus.entries()) original.set(slot, value);
    const state = original.exportState();
    const restored = new KeywordIndex();
    expect(() => restored.restoreState({ ...state, terms: state.terms.slice(1) })).toThrow(
      /does not hold together/,
    );
    expect(restored.size).toBe(0);
    expect(restored.search({ text: 'payments', matches: everything, limit: 3 })).toEqual([]);
    // A used index is not restored into either.
    expect(() => original.restoreState(state)).toThrow(/does not hold together/);
  });
});
