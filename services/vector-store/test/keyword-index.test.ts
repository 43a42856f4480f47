import { describe, expect, it, vi } from 'vitest';
import { KeywordIndex } from '../src/adapters/embedded/keyword-index.ts';

const everything = () => true;

function indexOf(texts: readonly string[]): KeywordIndex {
  const index = new KeywordIndex();
  texts.forEach((text, slot) => {
    index.set(slot, text);
  });
  return index;
}

/** Every slot as a candidate set (forces the candidate path when it is small enough). */
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

  it('scores a candidate set exactly as the posting lists do', () => {
    const texts = Array.from(
      { length: 300 },
      (_, slot) =>
        `${['deployed', 'rolled back', 'scaled'][slot % 3]} ${['billing', 'search', 'auth', 'ledger'][slot % 4]} on ${['vercel', 'fly.io'][slot % 2]} run ${slot}`,
    );
    const index = indexOf(texts);
    const request = { text: 'rolled back ledger vercel', matches: everything, limit: 20 };
    const byPostings = index.search(request);
    const byCandidates = index.search({ ...request, candidates: allSlots(texts.length) });
    expect(byCandidates.map((hit) => [hit.slot, hit.score.toFixed(9)])).toEqual(
      byPostings.map((hit) => [hit.slot, hit.score.toFixed(9)]),
    );
  });

  it('walking the postings with a candidate set ranks only its members, as ranking them one by one does', () => {
    const texts = Array.from(
      { length: 300 },
      (_, slot) =>
        `${['deployed', 'rolled back', 'scaled'][slot % 3]} ${['billing', 'search', 'auth', 'ledger'][slot % 4]} on ${['vercel', 'fly.io'][slot % 2]} run ${slot}`,
    );
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

  it('skips walking a term in every memory and ranks as walking it does (pruning)', () => {
    // `run` is in every memory (its idf is the floor) and `cache` in a third: they weigh little,
    // go last, and the walk stops before `run`, scoring it only for the memories near the top.
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
    const pruned = vi.spyOn(index as unknown as { completeTail: () => unknown }, 'completeTail');
    const request = { text: 'ledger timeout cache run', matches: everything, limit: 10 };
    const walked = index.search(request);
    expect(pruned.mock.results.some((result) => result.value !== undefined)).toBe(true);
    const oneByOne = index.search({ ...request, candidates: allSlots(texts.length) });
    expect(walked.map((hit) => [hit.slot, hit.score.toFixed(9)])).toEqual(
      oneByOne.map((hit) => [hit.slot, hit.score.toFixed(9)]),
    );
    // The same with a candidate set that restricts the walk, and a predicate that drops one.
    const quarter = (slot: number) => slot % 4 === 0;
    const notTop = (slot: number) => slot !== walked[0]?.slot;
    pruned.mockClear();
    const restricted = index.search({
      ...request,
      candidates: allSlots(texts.length, notTop, { member: quarter, size: 5_000 }),
    });
    expect(pruned.mock.results.some((result) => result.value !== undefined)).toBe(true);
    const quarterOneByOne = index.search({
      ...request,
      candidates: allSlots(texts.length, notTop, { member: quarter }),
    });
    expect(restricted.map((hit) => [hit.slot, hit.score.toFixed(9)])).toEqual(
      quarterOneByOne.map((hit) => [hit.slot, hit.score.toFixed(9)]),
    );
    expect(restricted.every((hit) => quarter(hit.slot) && notTop(hit.slot))).toBe(true);
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
