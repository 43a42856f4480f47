/**
 * Session compaction hands the session's outcome memories to the pattern-extractor (issue 6
 * item 2, USE-CASES §2): nats-server, embedder, vector-store, pattern-extractor and compactor
 * as separate processes. The outcome id is the memory id, so compacting again counts nothing twice.
 */
import { waitFor } from '@membus/bus/testing';
import type { MemoryClient } from '@membus/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

const SESSION = 'orchestrate-outcomes';
const TASK_TYPE = 'data_analysis';
let stack: TestStack;
let memory: MemoryClient;

beforeAll(async () => {
  stack = await startTestStack({ SWEEP_INTERVAL_MS: '0', SESSION_IDLE_MS: '0' }, [
    'embedder',
    'vector-store',
    'pattern-extractor',
    'compactor',
  ]);
  memory = await stack.client('outcomes');
}, 120_000);

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

async function taskStats(taskType: string) {
  const { taskTypes } = await memory.taskMetrics({ taskType });
  return taskTypes.find((metrics) => metrics.taskType === taskType)?.allTime;
}

/** Polls until the pattern-extractor counts `executions` of the task type. */
function executionsReach(taskType: string, executions: number) {
  return waitFor(
    async () => {
      const stats = await taskStats(taskType);
      return stats && stats.executions >= executions ? stats : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 100, what: `${executions} ${taskType} executions` },
  );
}

describe('outcomes handed over by session compaction', () => {
  let handedOver: Awaited<ReturnType<typeof executionsReach>>;

  beforeAll(async () => {
    await memory.storeMany(
      [
        { success: true, durationMs: 1_200, text: 'Loaded 42 rows from sales.csv' },
        { success: true, durationMs: 2_400, text: 'Computed the revenue by region for Q3' },
        { success: false, durationMs: 800, text: 'Pivot failed: column "region_id" missing' },
      ].map(({ success, durationMs, text }) => ({
        sessionId: SESSION,
        agentId: 'orchestrator',
        kind: 'outcome' as const,
        text,
        metadata: { success, taskType: TASK_TYPE, durationMs },
      })),
      { wait: 'queryable' },
    );
    await memory.endSession(SESSION);
    handedOver = await executionsReach(TASK_TYPE, 3);
  }, 120_000);

  it('counts exactly the three outcome memories as executions', () => {
    expect(handedOver.executions).toBe(3);
  });

  it('counts the two successful ones as successes', () => {
    expect(handedOver.successes).toBe(2);
  });

  it('changes no number when the session is compacted again', async () => {
    await memory.compact({ sessionId: SESSION });
    // A marker outcome published after the second compaction: once the pattern-extractor
    // counts it, anything that compaction published before it has been processed too.
    await memory.recordOutcome({ taskType: 'documentation', success: true });
    await executionsReach('documentation', 1);
    expect(await taskStats(TASK_TYPE)).toEqual(handedOver);
  });
});
