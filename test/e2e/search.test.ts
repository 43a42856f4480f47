/**
 * Finding the right memory (issue "Search that finds the right memory"): hybrid retrieval,
 * near-duplicate merging of recurring incidents (USE-CASES §3), score parts.
 */
import type { MemoryClient } from '@membus/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

let stack: TestStack;
let oncall: MemoryClient;

beforeAll(async () => {
  // Near-duplicate merging is off by default; this file tests it at the recommended 0.95.
  stack = await startTestStack({ NEAR_DUPLICATE_THRESHOLD: '0.95' });
  oncall = await stack.client('search');
  await oncall.storeMany(
    [
      { namespace: 'incidents', text: 'Checkout latency spike traced to a slow payment provider' },
      {
        namespace: 'incidents',
        text: 'Payments worker crashed with OOMKilled after the v2.3.1 rollout',
      },
      {
        namespace: 'incidents',
        text: 'Login failures caused by an expired TLS certificate on auth.internal',
      },
      {
        namespace: 'incidents',
        text: 'Nightly report job failed: deadlock detected (SQLSTATE 40P01) on ledger_entries',
      },
    ],
    { wait: 'queryable' },
  );
}, 90_000);

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

describe('hybrid retrieval', () => {
  it('defaults to hybrid for a text query', async () => {
    const result = await oncall.query('OOMKilled', { filter: { namespace: 'incidents' }, topK: 1 });
    expect(result.mode).toBe('hybrid');
  });

  it('finds an exact error code by keyword', async () => {
    const { hits } = await oncall.query('40P01', {
      filter: { namespace: 'incidents' },
      topK: 1,
      mode: 'keyword',
    });
    expect(hits[0]?.memory.text).toContain('SQLSTATE 40P01');
  });

  it('reports both legs in the score parts of a hybrid hit', async () => {
    const { hits } = await oncall.query('OOMKilled payments worker', {
      filter: { namespace: 'incidents' },
      topK: 1,
    });
    const scores = hits[0]?.scores;
    expect([typeof scores?.dense, scores?.keyword]).toEqual(['number', 1]);
  });
});

describe('near-duplicate merging', () => {
  const first =
    'Incident on payments-api: 502 errors from connection pool exhaustion on db-primary at 14:02';
  const again =
    'Incident on payments-api: 502 errors from connection pool exhaustion on db-primary at 16:47';

  it('merges a recurring incident into one memory with an occurrence count', async () => {
    const stored = await oncall.store(
      { namespace: 'recurring', text: first },
      { wait: 'queryable' },
    );
    const merged = await oncall.store(
      { namespace: 'recurring', text: again },
      { wait: 'queryable' },
    );
    const memory = await oncall.get(stored.id);
    expect({
      status: merged.status,
      into: merged.memoryId,
      occurrences: memory?.occurrences,
      text: memory?.text,
    }).toEqual({
      status: 'merged',
      into: stored.id,
      occurrences: 2,
      text: again,
    });
  });

  it('records the merge with the previous text in the history', async () => {
    const stored = await oncall.store(
      { namespace: 'recurring-2', text: first },
      { wait: 'queryable' },
    );
    await oncall.store({ namespace: 'recurring-2', text: again }, { wait: 'queryable' });
    const history = await oncall.history(stored.id);
    expect(history.map((entry) => [entry.event, entry.previousText ?? null])).toEqual([
      ['ADD', null],
      ['MERGE', first],
    ]);
  });

  it('stores a near-duplicate separately when the call turns merging off', async () => {
    await oncall.store({ namespace: 'recurring-3', text: first }, { wait: 'queryable' });
    const second = await oncall.store(
      { namespace: 'recurring-3', text: again, mergeSimilar: false },
      { wait: 'queryable' },
    );
    expect(second.status).toBe('stored');
  });

  it('does not merge across namespaces', async () => {
    await oncall.store({ namespace: 'recurring-4a', text: first }, { wait: 'queryable' });
    const other = await oncall.store(
      { namespace: 'recurring-4b', text: again },
      { wait: 'queryable' },
    );
    expect(other.status).toBe('stored');
  });
});

describe('cross-scope queries (USE-CASES §3)', () => {
  it("reads an API session's own memories and the daemon's app-wide learnings, saying which is which", async () => {
    await oncall.storeMany(
      [
        {
          sessionId: 'api-7',
          kind: 'episode',
          text: 'User asked why checkout pods keep restarting',
          ttlSeconds: 7 * 86_400,
        },
        {
          sessionId: 'api-8',
          kind: 'episode',
          text: 'Another session asked why checkout pods keep restarting',
        },
        {
          namespace: 'daemon',
          kind: 'fact',
          text: 'Checkout pods restart when the payment provider times out (liveness probe too strict)',
          metadata: { source: 'daemon' },
        },
      ],
      { wait: 'queryable' },
    );
    const { hits } = await oncall.query('why do checkout pods restart', {
      filter: { anyOf: [{ scope: 'session', sessionId: 'api-7' }, { scope: 'app' }] },
      topK: 10,
    });
    const seen = hits
      .filter((hit) => hit.memory.text.includes('pods'))
      .map((hit) => [hit.memory.scope, hit.memory.sessionId ?? null])
      .sort();
    expect(seen).toEqual([
      ['app', null],
      ['session', 'api-7'],
    ]);
  });
});
