import { describe, expect, it } from 'vitest';
import { configSignature, errorSignature, stepsSignature } from '../src/domain/normalise.ts';
import { computeFailures, computeVariants, rankPatterns } from '../src/domain/variants.ts';
import type { OutcomeRow } from '../src/ports/outcome-store.ts';

let sequence = 0;
function outcome(fields: {
  steps: string[];
  success: boolean;
  durationMs?: number;
  cost?: number;
  config?: Record<string, string>;
  error?: string;
  taskType?: string;
}): OutcomeRow {
  sequence++;
  const occurredAtMs = Date.UTC(2026, 4, 1) + sequence * 1000;
  const config = fields.config ?? {};
  return {
    id: `01900000-0000-4000-8000-${sequence.toString(16).padStart(12, '0')}`,
    tenant: 't1',
    namespace: 'orchestrator',
    taskType: fields.taskType ?? 'code_generation',
    taskTypeInferred: false,
    success: fields.success,
    ...(fields.durationMs !== undefined ? { durationMs: fields.durationMs } : {}),
    ...(fields.cost !== undefined ? { cost: fields.cost } : {}),
    steps: fields.steps,
    stepsSignature: stepsSignature(fields.steps),
    config,
    configSignature: configSignature(config),
    ...(fields.error ? { error: fields.error, errorSignature: errorSignature(fields.error) } : {}),
    occurredAt: new Date(occurredAtMs).toISOString(),
    occurredAtMs,
  };
}

const repeat = <T>(count: number, make: (index: number) => T): T[] =>
  Array.from({ length: count }, (_, index) => make(index));

// careful: 19/20, slow, cheap-per-success; quick: 9/10, fast, costly; lucky: 1/1.
const rows = [
  ...repeat(20, (index) =>
    outcome({
      steps: ['plan', 'code', 'test', 'review'],
      success: index !== 0,
      durationMs: 9_000,
      cost: 0.1,
    }),
  ),
  ...repeat(10, (index) =>
    outcome({ steps: ['code', 'test'], success: index !== 0, durationMs: 3_000, cost: 0.5 }),
  ),
  outcome({ steps: ['code'], success: true, durationMs: 1_000, cost: 0.01 }),
];
const scope = { tenant: 't1', namespace: 'orchestrator' };
const patterns = computeVariants(rows, scope, ['steps']).map((variant) => variant.pattern);
const best = (objective: 'success_rate' | 'duration' | 'cost', minSupport: number) =>
  rankPatterns(patterns, { objective, minSupport, minSuccessRate: 0 })[0]?.signature;

describe('rankPatterns', () => {
  it('ranks by confidence, so 19/20 beats 1/1 on success rate', () => {
    expect(best('success_rate', 1)).toBe('plan → code → test → review');
  });

  it('picks the fastest successful workflow with enough support for duration', () => {
    expect(best('duration', 5)).toBe('code → test');
  });

  it('picks the lowest cost per success for cost', () => {
    expect(best('cost', 5)).toBe('plan → code → test → review');
  });

  it('lets a 1-run variant win duration when the minimum support allows it', () => {
    expect(best('duration', 1)).toBe('code');
  });

  it('drops variants below the minimum success rate', () => {
    const ranked = rankPatterns(patterns, {
      objective: 'success_rate',
      minSupport: 1,
      minSuccessRate: 0.92,
    });
    expect(ranked.map((pattern) => pattern.signature)).toEqual([
      'plan → code → test → review',
      'code',
    ]);
  });

  it('gives a variant the same id every time it is computed', () => {
    const again = computeVariants(rows, scope, ['steps']).map((variant) => variant.pattern.id);
    expect(again).toEqual(patterns.map((pattern) => pattern.id));
  });
});

describe('computeFailures', () => {
  const failing = [
    outcome({
      steps: ['build', 'deploy'],
      success: false,
      error: "Missing dependency 'react-dom' in /tmp/ci/1234/package.json",
      taskType: 'deployment',
    }),
    outcome({
      steps: ['build', 'deploy'],
      success: false,
      error: "Missing dependency 'react-dom' in /tmp/ci/9876/package.json",
      taskType: 'deployment',
    }),
    outcome({
      steps: ['build', 'deploy'],
      success: false,
      error: 'Token expired for team 42',
      taskType: 'deployment',
    }),
    ...repeat(3, () =>
      outcome({ steps: ['install', 'build', 'deploy'], success: true, taskType: 'deployment' }),
    ),
  ];
  const variants = computeVariants(failing, scope);
  const failures = computeFailures(failing, scope, variants);

  it('groups the same error seen in different paths', () => {
    expect(failures.map((failure) => [failure.signature, failure.count])).toEqual([
      ['missing dependency <value> in <path>', 2],
      ['token expired for team <n>', 1],
    ]);
  });

  it('names the successful workflow that avoided the failure', () => {
    expect(failures[0]?.avoidedBy?.signature).toBe('install → build → deploy');
  });

  it('merges near-identical signatures into the more frequent one', () => {
    const similar = [
      outcome({
        steps: ['deploy'],
        success: false,
        error:
          'Deploy failed: timeout waiting for health check on https://a.example.com after 30 s',
        taskType: 'deployment',
      }),
      outcome({
        steps: ['deploy'],
        success: false,
        error:
          'Deploy failed: timeout waiting for health check on https://b.example.com after 45 s',
        taskType: 'deployment',
      }),
      outcome({
        steps: ['deploy'],
        success: false,
        error:
          'Deploy failed: timeout waiting for readiness check on https://c.example.com after 60 s',
        taskType: 'deployment',
      }),
    ];
    const merged = computeFailures(similar, scope, []);
    expect(merged.map((failure) => failure.count)).toEqual([3]);
  });
});
