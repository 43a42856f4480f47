import { describe, expect, it } from 'vitest';
import { namedPeriod } from '../src/domain/time-expressions.ts';

const HOUR = 3_600_000;
const day = (iso: string) => ({
  start: Date.parse(iso) - 12 * HOUR,
  end: Date.parse(iso) + 36 * HOUR,
});

describe('namedPeriod', () => {
  it('reads a day written the ways questions write it, with a 12 hour margin either side', () => {
    const july7 = day('2023-07-07T00:00:00Z');
    expect(
      [
        'What did Maria plan on the evening of 7 July, 2023?',
        'What happened on 7th July 2023?',
        'What happened on the 7th of July, 2023',
        'What did John say on July 7, 2023?',
        'What did John say on July 7th,2023?',
        'Deploys of 2023-07-07',
        'what happened on JUL. 7 2023',
      ].map(namedPeriod),
    ).toEqual(Array.from({ length: 7 }, () => july7));
  });

  it('reads a month with its year', () => {
    expect(namedPeriod('What did Joanna share with her writers group in August 2022?')).toEqual({
      start: Date.parse('2022-08-01T00:00:00Z') - 12 * HOUR,
      end: Date.parse('2022-09-01T00:00:00Z') + 12 * HOUR,
    });
  });

  it('spans every date the text names', () => {
    expect(namedPeriod('between 3 June, 2023 and June 5, 2023')).toEqual({
      start: Date.parse('2023-06-03T00:00:00Z') - 12 * HOUR,
      end: Date.parse('2023-06-06T00:00:00Z') + 12 * HOUR,
    });
  });

  it('names no period for a year alone, a date without a year, a relative time or no day', () => {
    expect(
      [
        'What did John achieve in 2023?',
        'When did Melanie go camping in June?',
        'When is her birthday, 13 August?',
        'What did we ship last week?',
        'May I see the rollback plan?',
        'What happened on 31 June, 2023?',
        'Order 12 May 12345',
      ].map(namedPeriod),
    ).toEqual(Array.from({ length: 7 }, () => undefined));
  });
});
