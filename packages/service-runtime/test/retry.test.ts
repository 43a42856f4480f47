import { describe, expect, it } from 'vitest';
import { parseRetryAfter, retry, retryDelayMs } from '../src/index.ts';

class Transient extends Error {
  constructor(readonly retryAfterMs?: number) {
    super('transient');
  }
}

function failing(failures: number, error: () => Error = () => new Transient()) {
  const calls: number[] = [];
  return {
    calls,
    call: async (attempt: number) => {
      calls.push(attempt);
      if (calls.length <= failures) throw error();
      return 'done';
    },
  };
}

const options = {
  attempts: 3,
  baseMs: 1,
  retryable: (error: unknown) => error instanceof Transient,
  retryAfterMs: (error: unknown) => (error instanceof Transient ? error.retryAfterMs : undefined),
  giveUp: (error: unknown, outcome: { attempts: number; retryable: boolean }) =>
    Object.assign(new Error('gave up'), { cause: error, ...outcome }),
};

describe('retry', () => {
  it('calls again after a retryable failure and returns the result', async () => {
    const { calls, call } = failing(2);
    expect(await retry(call, options)).toBe('done');
    expect(calls).toEqual([1, 2, 3]);
  });

  it('stops after `attempts` calls with the error giveUp makes', async () => {
    const { calls, call } = failing(5);
    const error = await retry(call, options).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ message: 'gave up', attempts: 3, retryable: true });
    expect(calls).toEqual([1, 2, 3]);
  });

  it('does not call again after a failure that is not retryable', async () => {
    const { calls, call } = failing(5, () => new TypeError('bad request'));
    const error = await retry(call, options).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ attempts: 1, retryable: false });
    expect(calls).toEqual([1]);
  });

  it('waits as long as the server asked, told to onRetry', async () => {
    const { call } = failing(1, () => new Transient(20));
    const delays: number[] = [];
    await retry(call, { ...options, onRetry: ({ delayMs }) => delays.push(delayMs) });
    expect(delays).toEqual([20]);
  });
});

describe('retryDelayMs', () => {
  it('caps a Retry-After at maxMs', () => {
    expect(retryDelayMs(1, { baseMs: 100, maxMs: 1_000 }, 5_000)).toBe(1_000);
  });

  it('backs off with full jitter below base * 2^(attempt - 1)', () => {
    for (let attempt = 1; attempt <= 5; attempt++) {
      const delay = retryDelayMs(attempt, { baseMs: 100 });
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(100 * 2 ** (attempt - 1));
    }
  });
});

describe('parseRetryAfter', () => {
  it('reads retry-after-ms first', () => {
    expect(parseRetryAfter(new Headers({ 'retry-after-ms': '250', 'retry-after': '9' }))).toBe(250);
  });

  it('reads retry-after in seconds', () => {
    expect(parseRetryAfter(new Headers({ 'retry-after': '2' }))).toBe(2000);
  });

  it('reads retry-after as an HTTP date', () => {
    const now = Date.parse('2026-05-01T00:00:00.000Z');
    expect(
      parseRetryAfter(new Headers({ 'retry-after': 'Fri, 01 May 2026 00:00:03 GMT' }), now),
    ).toBe(3000);
  });
});
