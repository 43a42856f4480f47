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

  it("hands each tenant's accesses to the index in one write per flush", async () => {
    const writes: [string, number][] = [];
    const tracker = new AccessTracker(
      async (tenant, accesses) => {
        writes.push([tenant, accesses.size]);
      },
      60_000,
      () => {},
    );
    tracker.track(
      't1',
      Array.from({ length: 300 }, (_, index) => `m${index}`),
      1,
    );
    tracker.track('t2', ['a'], 1);
    await tracker.close();
    expect(writes).toEqual([
      ['t1', 300],
      ['t2', 1],
    ]);
  });

  it('keeps flushing the other tenants when one write fails, reporting the error', async () => {
    const errors: unknown[] = [];
    const written: string[] = [];
    const tracker = new AccessTracker(
      async (tenant) => {
        if (tenant === 't1') throw new Error('locked');
        written.push(tenant);
      },
      60_000,
      (error) => errors.push(error),
    );
    for (const tenant of ['t1', 't2', 't3']) tracker.track(tenant, ['m'], 1);
    await tracker.close();
    expect({ written, errors: errors.map(String) }).toEqual({
      written: ['t2', 't3'],
      errors: ['Error: locked'],
    });
  });
});
