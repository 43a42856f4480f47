/**
 * USE-CASES §1, the deployment agent learning from past deployments: outcomes go in through
 * `recordOutcome`, the pattern-extractor (a separate process, beside the embedder and the
 * vector-store) learns workflows, configurations and failure signatures, and writes pattern
 * memories that a plain text query finds. Replays change no number.
 */

import { randomUUID } from 'node:crypto';
import { connectBus, jetstreamManager } from '@membus/bus';
import { waitFor } from '@membus/bus/testing';
import type { MemoryClient, RecordOutcomeInput } from '@membus/client';
import { Consumers, Streams } from '@membus/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOutcomeStack, type TestStack } from '../helpers/stack.ts';

const TENANT = 'deployco';
const FULL_VERCEL = ['Install dependencies', 'Build', 'Deploy to Vercel', 'Verify URL'];
const SHORT_VERCEL = ['Build', 'Deploy to Vercel'];
const FULL_NETLIFY = ['Install dependencies', 'Build', 'Deploy to Netlify'];
const vercel = { platform: 'vercel', environment: 'production', framework: 'nextjs' };
const netlify = { platform: 'netlify', environment: 'staging', framework: 'astro' };

let minute = 0;
function deployment(
  fields: Omit<RecordOutcomeInput, 'namespace' | 'taskType'>,
): RecordOutcomeInput {
  minute++;
  return {
    id: randomUUID(),
    taskType: 'deployment',
    namespace: 'deployment',
    agentId: 'deploy-agent',
    userId: 'alice',
    occurredAt: new Date(Date.now() - (60 - minute) * 60_000).toISOString(),
    ...fields,
  };
}

const outcomes: RecordOutcomeInput[] = [
  ...[45_300, 47_000, 44_000, 50_000].map((durationMs) =>
    deployment({
      success: true,
      durationMs,
      cost: 0.02,
      steps: FULL_VERCEL,
      config: vercel,
      metadata: { url: 'https://test-app.vercel.app' },
    }),
  ),
  deployment({
    success: false,
    durationMs: 12_000,
    cost: 0.01,
    steps: SHORT_VERCEL,
    config: vercel,
    error:
      "Build failed: Missing dependency 'react-dom' in /home/runner/work/app-1234/package.json (build 8812)",
  }),
  deployment({
    success: false,
    durationMs: 15_000,
    cost: 0.01,
    steps: SHORT_VERCEL,
    config: vercel,
    error: "Build failed: Missing dependency 'react-dom' in /tmp/ci/77/package.json (build 17)",
  }),
  ...[20_100, 22_000, 21_000].map((durationMs) =>
    deployment({ success: true, durationMs, cost: 0.03, steps: FULL_NETLIFY, config: netlify }),
  ),
  deployment({
    success: false,
    durationMs: 5_000,
    cost: 0.03,
    steps: FULL_NETLIFY,
    config: netlify,
    error: 'Deploy failed: token expired for site 5f0c2a1e-9b7d-4c1e-8a33-0d2e4f6a8b90',
  }),
];

let stack: TestStack;
let agent: MemoryClient;

/** Sum of `membus_outcomes_processed_total` samples with this result, from /metrics. */
async function processed(result: string): Promise<number> {
  const port = stack.services.get('pattern-extractor')?.metricsPort;
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (
      line.startsWith('membus_outcomes_processed_total{') &&
      line.includes(`result="${result}"`)
    ) {
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return sum;
}

/** Every number the extractor reports for the deployment task type. */
async function snapshot() {
  return {
    metrics: await agent.taskMetrics({ taskType: 'deployment' }),
    patterns: await agent.patterns({ taskType: 'deployment', limit: 100 }),
  };
}

beforeAll(async () => {
  ({ stack, client: agent } = await startOutcomeStack(TENANT, outcomes));
});

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

describe('deployment patterns (USE-CASES §1)', () => {
  const fullVercel = 'install dependencies → build → deploy to vercel → verify url';
  it.each([
    ['the full Vercel workflow', 'success rate', 'success_rate', fullVercel],
    [
      'the Netlify workflow',
      'duration',
      'duration',
      'install dependencies → build → deploy to netlify',
    ],
    ['the full Vercel workflow', 'cost per success', 'cost', fullVercel],
  ] as const)('names %s best by %s', async (_workflow, _by, objective, signature) => {
    const best = await agent.bestWorkflow('deployment', { objective, minSupport: 3 });
    expect(best?.signature).toBe(signature);
  });

  it('names the Vercel production configuration best by cost per success', async () => {
    // Vercel: 0.10 over 4 successes; Netlify: 0.12 over 3.
    const best = await agent.bestWorkflow('deployment', {
      variantKind: 'config',
      objective: 'cost',
      minSupport: 3,
    });
    expect(best?.signature).toBe('environment=production, framework=nextjs, platform=vercel');
  });

  it('groups the missing react-dom failure seen in two builds and paths', async () => {
    const [first] = await agent.failurePatterns('deployment');
    expect([first?.signature, first?.count]).toEqual([
      'build failed: missing dependency <value> in <path> (build <n>)',
      2,
    ]);
  });

  it('names the workflow that avoided the missing dependency', async () => {
    const [first] = await agent.failurePatterns('deployment');
    expect(first?.avoidedBy?.signature).toBe(
      'install dependencies → build → deploy to vercel → verify url',
    );
  });

  it('reports the task metrics computed by hand', async () => {
    const durations = outcomes.map((outcome) => outcome.durationMs as number).sort((a, b) => a - b);
    const costs = outcomes.map((outcome) => outcome.cost as number);
    // Nearest rank: p50 is the 5th of 10 sorted durations, p95 the 10th.
    const expected = {
      executions: 10,
      successes: 7,
      failures: 3,
      successRate: 0.7,
      durationAvgMs: durations.reduce((sum, value) => sum + value, 0) / 10,
      durationP50Ms: durations[4],
      durationP95Ms: durations[9],
      costAvg: costs.reduce((sum, value) => sum + value, 0) / 10,
    };
    const { taskTypes } = await agent.taskMetrics({ taskType: 'deployment' });
    const allTime = taskTypes[0]?.allTime;
    expect({
      executions: allTime?.executions,
      successes: allTime?.successes,
      failures: allTime?.failures,
      successRate: allTime?.successRate,
      durationAvgMs: allTime?.durationAvgMs,
      durationP50Ms: allTime?.durationP50Ms,
      durationP95Ms: allTime?.durationP95Ms,
      costAvg: Number(allTime?.costAvg?.toFixed(6)),
    }).toEqual({ ...expected, costAvg: Number(expected.costAvg.toFixed(6)) });
  });

  it('stores every outcome as a memory under its outcome id', async () => {
    const ids = outcomes.map((outcome) => outcome.id as string);
    const found = await waitFor(
      async () => {
        const { memories } = await agent.getMany(ids);
        return memories.length === ids.length && memories;
      },
      { timeoutMs: 20_000, what: 'outcome memories' },
    );
    expect(new Set(found.map((memory) => memory.kind))).toEqual(new Set(['outcome']));
  });

  it('finds the deployment pattern memory for "how do we deploy to vercel"', async () => {
    const hit = await waitFor(
      async () => {
        const { hits } = await agent.query('how do we deploy to vercel', { topK: 10 });
        return hits.find(
          (candidate) =>
            candidate.memory.kind === 'pattern' &&
            candidate.memory.metadata.patternType === 'workflow' &&
            candidate.memory.metadata.signature ===
              'install dependencies → build → deploy to vercel → verify url',
        );
      },
      { timeoutMs: 20_000, what: 'the Vercel workflow pattern memory among the hits' },
    );
    expect(hit.memory.tier).toBe('long');
  });

  it('keeps every number when all outcomes are published again', async () => {
    const before = await snapshot();
    const replayedBefore = await processed('replayed');
    for (const outcome of outcomes) await agent.recordOutcome(outcome);
    await waitFor(async () => (await processed('replayed')) >= replayedBefore + outcomes.length, {
      timeoutMs: 30_000,
      what: 'the re-published outcomes processed',
    });
    expect(await snapshot()).toEqual(before);
  });

  it('keeps every number when the stream is replayed from the start', async () => {
    const before = await snapshot();
    // An operator's job (the admin user of the membus account): agents have no JetStream.
    const operator = await connectBus({
      servers: stack.nats.url,
      name: 'operator',
      ...stack.admin,
    });
    await stack.services.get('pattern-extractor')?.stop();
    await (await jetstreamManager(operator)).consumers.delete(
      Streams.outcomes.name,
      Consumers.patternExtractor,
    );
    await operator.close();
    await stack.restart('pattern-extractor');
    // The stream holds the outcomes twice (the re-publish above): every copy is replayed.
    await waitFor(async () => (await processed('replayed')) >= 2 * outcomes.length, {
      timeoutMs: 30_000,
      what: 'the stream replayed',
    });
    expect(await snapshot()).toEqual(before);
  });
});
