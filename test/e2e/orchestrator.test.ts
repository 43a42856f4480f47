/**
 * USE-CASES §2, the orchestrator learning which workflows succeed: executions of several task
 * types (some without a task type, inferred from the request text) go in as outcomes; the
 * orchestrator asks for patterns above a success rate, the best workflow per objective,
 * per-task and overall metrics, and failure signatures. Task-type inference is measured on a
 * labelled set through the running services (rules + centroids of the embedder's vectors).
 */

import { randomUUID } from 'node:crypto';
import { waitFor } from '@membus/bus/testing';
import type { MemoryClient, RecordOutcomeInput } from '@membus/client';
import { labelledRequests } from '@membus/pattern-extractor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOutcomeStack, type TestStack } from '../helpers/stack.ts';

const CAREFUL = ['Analyze request', 'Plan', 'Generate code', 'Run tests', 'Review'];
const QUICK = ['Generate code', 'Run tests'];
const ONE_SHOT = ['Generate code'];

let minute = 0;
function execution(fields: Omit<RecordOutcomeInput, 'namespace'>): RecordOutcomeInput {
  minute++;
  return {
    id: randomUUID(),
    namespace: 'orchestrator',
    agentId: 'orchestrator',
    sessionId: `session-${minute}`,
    occurredAt: new Date(Date.now() - (120 - minute) * 60_000).toISOString(),
    ...fields,
  };
}

const codeGeneration = (fields: Omit<RecordOutcomeInput, 'namespace' | 'taskType'>) =>
  execution({ taskType: 'code_generation', ...fields });

const outcomes: RecordOutcomeInput[] = [
  // careful: 9 of 10, slow, 0.05 a run.
  ...Array.from({ length: 9 }, (_, index) =>
    codeGeneration({ success: true, steps: CAREFUL, durationMs: 9_000 + index * 100, cost: 0.05 }),
  ),
  codeGeneration({
    success: false,
    steps: CAREFUL,
    durationMs: 45_000,
    cost: 0.05,
    error: 'Timeout after 45000 ms calling model gpt-4o (request req_1a2b3)',
  }),
  // quick: 5 of 8, fast, 0.06 a run.
  ...Array.from({ length: 5 }, () =>
    codeGeneration({ success: true, steps: QUICK, durationMs: 3_000, cost: 0.06 }),
  ),
  codeGeneration({
    success: false,
    steps: QUICK,
    durationMs: 2_000,
    cost: 0.06,
    error:
      "TypeError: Cannot read properties of undefined (reading 'map') at /app/src/components/List.tsx:42:17",
  }),
  codeGeneration({
    success: false,
    steps: QUICK,
    durationMs: 2_500,
    cost: 0.06,
    error:
      "TypeError: Cannot read properties of undefined (reading 'map') at /srv/build/src/views/Table.tsx:7:3",
  }),
  codeGeneration({
    success: false,
    steps: QUICK,
    durationMs: 30_000,
    cost: 0.06,
    error: 'Timeout after 30000 ms calling model gpt-4o (request req_8f2k9)',
  }),
  // one-shot: 1 of 1, fastest.
  codeGeneration({ success: true, steps: ONE_SHOT, durationMs: 1_000, cost: 0.01 }),
  // testing, task type left to inference from the request.
  ...[
    'Write unit tests for the cart service',
    'Add integration tests for the signup API',
    'Increase coverage of the billing module',
    'Create end-to-end tests for checkout',
    'Write unit tests for the date helpers',
  ].map((request, index) =>
    execution({
      request,
      success: index !== 4,
      steps: ['Write tests', 'Run tests'],
      durationMs: 6_000,
      cost: 0.02,
      ...(index === 4 ? { error: 'Assertion failed: expected 3 to equal 4' } : {}),
    }),
  ),
  // data analysis.
  ...[true, true, false, true].map((success) =>
    execution({
      taskType: 'data_analysis',
      success,
      steps: ['Load data', 'Analyze', 'Report'],
      durationMs: 12_000,
      cost: 0.08,
      ...(success ? {} : { error: 'KeyError: revenue' }),
    }),
  ),
];

let stack: TestStack;
let orchestrator: MemoryClient;

beforeAll(async () => {
  ({ stack, client: orchestrator } = await startOutcomeStack('orchestra', outcomes, {
    parallel: true,
  }));
});

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

describe('orchestrator workflow learning (USE-CASES §2)', () => {
  it('lists code generation workflows with success rate >= 0.7, most confident first', async () => {
    const { patterns } = await orchestrator.patterns({
      taskType: 'code_generation',
      minSuccessRate: 0.7,
      variantKinds: ['steps'],
    });
    expect(
      patterns.map((pattern) => [pattern.signature, pattern.successes, pattern.support]),
    ).toEqual([
      ['analyze request → plan → generate code → run tests → review', 9, 10],
      ['generate code', 1, 1],
    ]);
  });

  it('names the careful workflow best by success rate (9/10 beats 1/1)', async () => {
    const best = await orchestrator.bestWorkflow('code_generation', { objective: 'success_rate' });
    expect(best?.signature).toBe('analyze request → plan → generate code → run tests → review');
  });

  // By cost per success, careful: 0.50 / 9 = 0.056; quick: 0.48 / 5 = 0.096.
  it.each([
    [
      'the quick workflow',
      'duration among workflows seen 3+ times',
      'duration',
      'generate code → run tests',
    ],
    [
      'the careful workflow',
      'cost per success',
      'cost',
      'analyze request → plan → generate code → run tests → review',
    ],
  ] as const)('names %s best by %s', async (_workflow, _by, objective, signature) => {
    const best = await orchestrator.bestWorkflow('code_generation', { objective, minSupport: 3 });
    expect(best?.signature).toBe(signature);
  });

  it('reports per-task metrics computed by hand', async () => {
    const { taskTypes } = await orchestrator.taskMetrics();
    const summary = Object.fromEntries(
      taskTypes.map((entry) => [
        entry.taskType,
        [entry.allTime.executions, entry.allTime.successes, entry.allTime.successRate],
      ]),
    );
    expect(summary).toEqual({
      code_generation: [19, 15, 15 / 19],
      testing: [5, 4, 0.8],
      data_analysis: [4, 3, 0.75],
    });
  });

  it('reports the average duration and cost of code generation computed by hand', async () => {
    const runs = outcomes.filter((outcome) => outcome.taskType === 'code_generation');
    const durationAvgMs =
      runs.reduce((sum, run) => sum + (run.durationMs as number), 0) / runs.length;
    const costAvg = runs.reduce((sum, run) => sum + (run.cost as number), 0) / runs.length;
    const { taskTypes } = await orchestrator.taskMetrics({ taskType: 'code_generation' });
    const allTime = taskTypes[0]?.allTime;
    expect([allTime?.durationAvgMs, allTime?.costAvg?.toFixed(9)]).toEqual([
      durationAvgMs,
      costAvg.toFixed(9),
    ]);
  });

  it('reports overall learning metrics across task types', async () => {
    const { overall } = await orchestrator.taskMetrics();
    expect([overall.allTime.executions, overall.allTime.successes, overall.taskTypeCount]).toEqual([
      28, 22, 3,
    ]);
  });

  it('groups the same TypeError seen in two files and the same timeout seen twice', async () => {
    const failures = await orchestrator.failurePatterns('code_generation');
    expect(
      Object.fromEntries(failures.map((failure) => [failure.signature, failure.count])),
    ).toEqual({
      'typeerror: cannot read properties of undefined (reading <value>) at <path>:<n>:<n>': 2,
      'timeout after <n> ms calling model <id> (request <id>)': 2,
    });
  });

  it('infers the task type of a patterns request from its text', async () => {
    const reply = await orchestrator.patterns({ request: 'Add unit tests for the parser' });
    expect([reply.taskType, reply.inferred, reply.patterns[0]?.signature]).toEqual([
      'testing',
      true,
      'write tests → run tests',
    ]);
  });

  it('infers task types of the labelled requests with at least 90 % accuracy', async () => {
    let correct = 0;
    const misses: string[] = [];
    for (const { text, taskType } of labelledRequests) {
      const reply = await orchestrator.patterns({
        request: text,
        limit: 1,
        includeFailures: false,
      });
      if (reply.taskType === taskType) correct++;
      else misses.push(`${taskType} -> ${reply.taskType}: ${text}`);
    }
    const accuracy = correct / labelledRequests.length;
    console.log(
      `task-type inference (hybrid: rules + embedder centroids): ${correct}/${labelledRequests.length} = ${(accuracy * 100).toFixed(1)} %\n  ${misses.join('\n  ')}`,
    );
    expect(accuracy).toBeGreaterThanOrEqual(0.9);
  });

  it('keeps every number when all executions are published again', async () => {
    const snapshot = async () => ({
      metrics: await orchestrator.taskMetrics(),
      patterns: await orchestrator.patterns({ limit: 100 }),
    });
    const before = await snapshot();
    const port = stack.services.get('pattern-extractor')?.metricsPort;
    const replayed = async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return text
        .split('\n')
        .filter(
          (line) =>
            line.startsWith('membus_outcomes_processed_total{') &&
            line.includes('result="replayed"'),
        )
        .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
    };
    await Promise.all(outcomes.map((outcome) => orchestrator.recordOutcome(outcome)));
    await waitFor(async () => (await replayed()) >= outcomes.length, {
      timeoutMs: 30_000,
      what: 'the re-published executions processed',
    });
    expect(await snapshot()).toEqual(before);
  });
});
