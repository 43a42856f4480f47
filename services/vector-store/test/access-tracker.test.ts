import { describe, expect, it } from 'vitest';
import { AccessTracker } from '../src/domain/access-tracker.ts';

type Accesses = Map<string, { count: number; at: number }>;

describe('AccessTracker', () => {
  it('sums repeated accesses of one memory into one write', async () => {
    const writes: [string, Accesses][] = [];
    const tracker = new AccessTracker(
      async (tenant, accesses) => {
        writes.push([tenant, accesses]);
      },
      60_000,
      () => {},
    );
    tracker.track('t', ['a', 'b'], 1);
    tracker.track('t', ['a'], 2);
    await tracker.close();
    expect(writes.map(([tenant, accesses]) => [tenant, Object.fromEntries(accesses)])).toEqual([
      ['t', { a: { count: 2, at: 2 }, b: { count: 1, at: 1 } }],
    ]);
  });

  it('writes a large flush in chunks of at most 32, yielding to the event loop between them', async () => {
    const sizes: number[] = [];
    // Set by a macrotask queued during each write: it has run by the next write only if the
    // tracker yielded to the event loop in between (microtasks alone would not let it run).
    const ranBeforeNextWrite: boolean[] = [];
    let macrotaskRan = true;
    const tracker = new AccessTracker(
      async (_, accesses) => {
        if (sizes.length > 0) ranBeforeNextWrite.push(macrotaskRan);
        sizes.push(accesses.size);
        macrotaskRan = false;
        setImmediate(() => {
          macrotaskRan = true;
        });
      },
      60_000,
      () => {},
    );
    tracker.track(
      't',
      Array.from({ length: 300 }, (_, index) => `m${index}`),
      1,
    );
    await tracker.close();
    expect({ sizes, ranBeforeNextWrite }).toEqual({
      sizes: [32, 32, 32, 32, 32, 32, 32, 32, 32, 12],
      ranBeforeNextWrite: Array.from({ length: 9 }, () => true),
    });
  });

  it('keeps flushing the other chunks when one write fails, reporting the error', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const tracker = new AccessTracker(
      async () => {
        calls++;
        if (calls === 1) throw new Error('locked');
      },
      60_000,
      (error) => errors.push(error),
    );
    tracker.track(
      't',
      Array.from({ length: 200 }, (_, index) => `m${index}`),
      1,
    );
    await tracker.close();
    expect({ calls, errors: errors.length }).toEqual({ calls: 7, errors: 1 });
  });
});
