/**
 * Idle session compaction end to end (issue 6): a session nobody ends is compacted
 * SESSION_IDLE_MS after its last store — nats-server, embedder, vector-store and compactor as
 * separate processes.
 */
import { waitFor } from '@membus/bus/testing';
import type { MemoryClient, MemoryRecord } from '@membus/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCompactorStack, type TestStack } from '../helpers/stack.ts';

const IDLE_MS = 1_500;

let stack: TestStack;
let memory: MemoryClient;

beforeAll(async () => {
  stack = await startCompactorStack({
    SESSION_IDLE_MS: String(IDLE_MS),
    SESSION_IDLE_CHECK_MS: '100',
  });
  memory = await stack.client('idle');
}, 120_000);

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

async function sessionMemories(sessionId: string): Promise<MemoryRecord[]> {
  const records: MemoryRecord[] = [];
  for await (const record of memory.listAll({ sessionId })) records.push(record);
  return records;
}

/** `membus_compactions_total` samples from the compactor's /metrics, as `trigger/result` → value. */
async function compactions(): Promise<Record<string, number>> {
  const port = stack.services.get('compactor')?.metricsPort;
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('membus_compactions_total{')) continue;
    const trigger = /trigger="([^"]*)"/.exec(line)?.[1];
    const result = /result="([^"]*)"/.exec(line)?.[1];
    counts[`${trigger}/${result}`] = Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return counts;
}

describe('idle session compaction', () => {
  const sessionId = 'idle-session-1';
  let storedAt = 0;
  let summary: MemoryRecord;

  beforeAll(async () => {
    storedAt = Date.now();
    await memory.storeMany(
      [
        'Step 1: the deploy of the checkout service started with the canary at 5 percent.',
        'Step 2: the canary error rate stayed under 0.1 percent for ten minutes.',
        'Step 3: the rollout finished and the old replica set was scaled to zero.',
        'Step 4: the on-call engineer closed the change ticket after the smoke tests passed.',
      ].map((text) => ({
        sessionId,
        agentId: 'deployer',
        namespace: 'idle',
        kind: 'episode' as const,
        text,
      })),
      { wait: 'queryable' },
    );
    // The session is never ended and never compacted on request: only the idle timer can.
    summary = await waitFor(
      async () => {
        const records = await sessionMemories(sessionId);
        return records.length === 1 && records[0]?.kind === 'summary' ? records[0] : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'the idle session to become one summary' },
    );
  }, 60_000);

  it('replaces the session with one summary of its memories', () => {
    expect([summary.kind, summary.sessionId, summary.text.includes('canary')]).toEqual([
      'summary',
      sessionId,
      true,
    ]);
  });

  it('compacts no sooner than SESSION_IDLE_MS after the last store', () => {
    expect(Date.parse(summary.createdAt) - storedAt).toBeGreaterThanOrEqual(IDLE_MS);
  });

  it('counts the compaction under trigger idle and no other trigger', async () => {
    // The counter moves just after the compaction's last step: wait for it, then compare all.
    const counts = await waitFor(
      async () => {
        const current = await compactions();
        return Object.keys(current).length > 0 ? current : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 50, what: 'a compaction to be counted' },
    );
    expect(counts).toEqual({ 'idle/compacted': 1 });
  });
});
