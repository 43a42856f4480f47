import { describe, expect, it } from 'vitest';
import { evidenceIds, parseConversation, parseSessionDate } from '../src/locomo-dataset.ts';
import {
  evidenceScores,
  evidenceScoresByCategory,
  hitAtK,
  percentile,
} from '../src/locomo-metrics.ts';

describe('the LOCOMO measure', () => {
  const ranked = ['D1:1', 'D1:2', 'D1:3', 'D1:4', 'D1:5', 'D1:6'];

  it('hit@k is 1 when any evidence turn is in the top k, else 0', () => {
    expect(hitAtK(['D9:9', 'D1:3'], ranked, 3)).toBe(1);
    expect(hitAtK(['D9:9', 'D1:4'], ranked, 3)).toBe(0);
    expect(hitAtK(['D1:1'], [], 10)).toBe(0);
  });

  it('evidence recall@k is the share of evidence turns in the top k, averaged over questions', () => {
    const scores = evidenceScores([
      // 1 of 2 evidence turns by rank 5, both by 6 (inside 10 and 20).
      { category: 'multi-hop', evidence: ['D1:2', 'D1:6'], ranked },
      // Never found.
      { category: 'single-hop', evidence: ['D7:1'], ranked },
      // First.
      { category: 'single-hop', evidence: ['D1:1'], ranked },
    ]);
    expect(scores.questions).toBe(3);
    expect(scores.recallAt1).toBeCloseTo((0 + 0 + 1) / 3, 12);
    expect(scores.recallAt5).toBeCloseTo((0.5 + 0 + 1) / 3, 12);
    expect(scores.recallAt10).toBeCloseTo((1 + 0 + 1) / 3, 12);
    expect(scores.recallAt20).toBeCloseTo((1 + 0 + 1) / 3, 12);
    expect(scores.hitAt10).toBeCloseTo(2 / 3, 12);
  });

  it('counts a turn at rank 20 for recall@20 but not recall@10', () => {
    const deep = Array.from({ length: 20 }, (_, index) => `D2:${index + 1}`);
    const scores = evidenceScores([{ category: 'temporal', evidence: ['D2:20'], ranked: deep }]);
    expect(scores.recallAt10).toBe(0);
    expect(scores.recallAt20).toBe(1);
  });

  it('scores each category on its own questions, in the given order, empty ones left out', () => {
    const byCategory = evidenceScoresByCategory(
      [
        { category: 'single-hop', evidence: ['D1:1'], ranked },
        { category: 'multi-hop', evidence: ['D8:8'], ranked },
      ],
      ['multi-hop', 'temporal', 'single-hop'],
    );
    expect(Object.keys(byCategory)).toEqual(['multi-hop', 'single-hop']);
    expect(byCategory['multi-hop']?.recallAt10).toBe(0);
    expect(byCategory['single-hop']?.recallAt10).toBe(1);
  });

  it('is all zeros for no questions', () => {
    expect(evidenceScores([])).toEqual({
      questions: 0,
      recallAt1: 0,
      recallAt5: 0,
      recallAt10: 0,
      recallAt20: 0,
      hitAt10: 0,
    });
  });

  it('takes percentiles by nearest rank', () => {
    const samples = Array.from({ length: 100 }, (_, index) => 100 - index);
    expect(percentile(samples, 50)).toBe(50);
    expect(percentile(samples, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });
});

describe('reading LOCOMO', () => {
  it('reads session dates as UTC ISO times', () => {
    expect(parseSessionDate('1:56 pm on 8 May, 2023')).toBe('2023-05-08T13:56:00.000Z');
    expect(parseSessionDate('12:48 am on 1 February, 2023')).toBe('2023-02-01T00:48:00.000Z');
    expect(parseSessionDate('12:05 pm on 3 June, 2022')).toBe('2022-06-03T12:05:00.000Z');
    expect(parseSessionDate('yesterday')).toBeUndefined();
  });

  it('normalises evidence ids: two in one entry, a stray colon, junk dropped', () => {
    expect(evidenceIds('D1:3')).toEqual(['D1:3']);
    expect(evidenceIds('D8:6; D9:17')).toEqual(['D8:6', 'D9:17']);
    expect(evidenceIds('D:11:26')).toEqual(['D11:26']);
    expect(evidenceIds('D')).toEqual([]);
  });

  it('makes a memory text per turn, keeps categories 1-4 and drops evidence naming no turn', () => {
    const conversation = parseConversation('7', {
      speaker_a: 'Ann',
      speaker_b: 'Bo',
      session_2_date_time: '9:00 am on 2 March, 2023',
      session_2: [{ speaker: 'Bo', dia_id: 'D2:1', text: 'Back from Lisbon!' }],
      session_1_date_time: '8:30 pm on 1 March, 2023',
      session_1: [
        { speaker: 'Ann', dia_id: 'D1:1', text: 'Look at this.', blip_caption: 'a red kite' },
        { speaker: 'Bo', dia_id: 'D1:2', text: 'Nice!' },
      ],
      // A date without turns (LOCOMO has those) is no session.
      session_3_date_time: '9:00 am on 9 March, 2023',
      qa: [
        { question: 'Where was Bo?', answer: 'Lisbon', evidence: ['D2:1', 'D5:5'], category: 4 },
        { question: 'What did Ann show?', evidence: ['D1:1; D1:2'], category: 1 },
        { question: 'Trick question', evidence: ['D1:2'], category: 5 },
        { question: 'No evidence', evidence: ['D'], category: 2 },
      ],
    });
    expect(conversation.turns.map((turn) => [turn.diaId, turn.text, turn.sessionDate])).toEqual([
      ['D1:1', 'Ann: Look at this. [shares a photo: a red kite]', '2023-03-01T20:30:00.000Z'],
      ['D1:2', 'Bo: Nice!', '2023-03-01T20:30:00.000Z'],
      ['D2:1', 'Bo: Back from Lisbon!', '2023-03-02T09:00:00.000Z'],
    ]);
    expect(conversation.questions).toEqual([
      { id: '7/0', question: 'Where was Bo?', category: 'single-hop', evidence: ['D2:1'] },
      {
        id: '7/1',
        question: 'What did Ann show?',
        category: 'multi-hop',
        evidence: ['D1:1', 'D1:2'],
      },
    ]);
    expect(conversation.droppedEvidence).toEqual(['D5:5']);
    expect(conversation.skippedQuestions).toBe(1);
  });

  it('gives each turn the previous turn of its session (its keyword context), none across sessions', () => {
    const conversation = parseConversation('8', {
      speaker_a: 'Ann',
      speaker_b: 'Bo',
      session_1_date_time: '8:30 pm on 1 March, 2023',
      session_1: [
        { speaker: 'Ann', dia_id: 'D1:1', text: 'Did you fly to Lisbon?' },
        { speaker: 'Bo', dia_id: 'D1:2', text: 'Yes, last Tuesday!' },
      ],
      session_2_date_time: '9:00 am on 2 March, 2023',
      session_2: [{ speaker: 'Bo', dia_id: 'D2:1', text: 'Back home.' }],
      qa: [],
    });
    expect(conversation.turns.map((turn) => [turn.diaId, turn.previous])).toEqual([
      ['D1:1', undefined],
      ['D1:2', 'Ann: Did you fly to Lisbon?'],
      ['D2:1', undefined],
    ]);
  });

  it('says which file is not a LOCOMO conversation', () => {
    expect(() => parseConversation('bad', { qa: [] })).toThrow(/^bad: not a LOCOMO conversation/);
  });
});
