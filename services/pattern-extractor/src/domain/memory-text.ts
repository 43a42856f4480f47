import {
  type FailurePattern,
  Limits,
  type Outcome,
  StoreMemorySchema,
  type WorkflowPattern,
} from '@membus/contracts';
import type { MemoryToStore } from '../ports/memory-port.ts';
import { configSignature } from './normalise.ts';

const TEXT_BUDGET = 4_000;

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const percent = (rate: number): string => `${Math.round(rate * 100)} %`;
const namespacePart = (namespace: string | undefined): string =>
  namespace ? ` (namespace ${namespace})` : '';

/**
 * What an outcome reports, with its resolved task type: the facts both its memory's metadata and
 * its stored row keep.
 */
export function outcomeFacts(outcome: Outcome, resolved: { taskType: string; inferred: boolean }) {
  return {
    taskType: resolved.taskType,
    taskTypeInferred: resolved.inferred,
    success: outcome.success,
    ...(outcome.durationMs !== undefined ? { durationMs: outcome.durationMs } : {}),
    ...(outcome.cost !== undefined ? { cost: outcome.cost } : {}),
    steps: outcome.steps,
    config: outcome.config,
    ...(outcome.error ? { error: outcome.error } : {}),
  };
}

/** The `memory.store` of an outcome: kind `outcome`, id = outcome id, readable text. */
export function outcomeMemory(
  outcome: Outcome,
  resolved: { taskType: string; inferred: boolean },
): MemoryToStore {
  const parts = [
    `${resolved.taskType} ${outcome.success ? 'succeeded' : 'failed'}${
      outcome.durationMs !== undefined ? ` in ${seconds(outcome.durationMs)}` : ''
    }`,
  ];
  if (outcome.request) parts.push(`request: ${outcome.request}`);
  if (outcome.steps.length > 0) {
    parts.push(`steps (${outcome.steps.length}): ${outcome.steps.join(' → ')}`);
  }
  const config = configSignature(outcome.config);
  if (config) parts.push(`config: ${config}`);
  if (outcome.cost !== undefined) parts.push(`cost ${outcome.cost}`);
  if (outcome.error) parts.push(`error: ${outcome.error}`);
  const text = parts.join('; ').slice(0, TEXT_BUDGET);

  const facts = {
    outcomeId: outcome.id,
    ...outcomeFacts(outcome, resolved),
    occurredAt: outcome.occurredAt,
  };
  const memory: MemoryToStore = {
    id: outcome.id,
    // Outcomes are shared knowledge of the app (every agent of the namespace learns from
    // them); the owner ids are kept for filtering.
    scope: 'app',
    ...(outcome.userId ? { userId: outcome.userId } : {}),
    ...(outcome.agentId ? { agentId: outcome.agentId } : {}),
    ...(outcome.sessionId ? { sessionId: outcome.sessionId } : {}),
    ...(outcome.namespace ? { namespace: outcome.namespace } : {}),
    kind: 'outcome',
    text,
    metadata: { ...outcome.metadata, ...facts },
    categories: ['outcomes'],
    tags: [resolved.taskType, outcome.success ? 'success' : 'failure'],
    createdAt: outcome.occurredAt,
  };
  // The caller's metadata plus ours can exceed the limits its own metadata met: keep ours.
  if (!StoreMemorySchema.safeParse({ ...memory, v: 1 }).success) {
    memory.metadata = facts;
  }
  if (!StoreMemorySchema.safeParse({ ...memory, v: 1 }).success) {
    memory.metadata = {
      outcomeId: outcome.id,
      taskType: resolved.taskType,
      success: outcome.success,
    };
  }
  return memory;
}

/** Text and metadata of a pattern memory (kind `pattern`, tier `long`). */
export interface PatternMemoryContent {
  text: string;
  metadata: Record<string, unknown>;
  importance: number;
}

function statsLine(pattern: WorkflowPattern): string {
  const line = [
    `succeeded ${pattern.successes} of ${pattern.support} runs (${percent(pattern.successRate)})`,
  ];
  if (pattern.stats.durationP50Ms !== undefined)
    line.push(`median ${seconds(pattern.stats.durationP50Ms)}`);
  if (pattern.stats.costAvg !== undefined)
    line.push(`average cost ${pattern.stats.costAvg.toFixed(4)}`);
  return line.join(', ');
}

/** A workflow or configuration variant as a memory a plain query can find. */
export function workflowPatternContent(
  pattern: WorkflowPattern,
  recommended: boolean,
): PatternMemoryContent {
  const config = configSignature(pattern.config);
  const steps = pattern.steps.join(' → ');
  const text =
    pattern.kind === 'steps'
      ? `${recommended ? 'Proven' : 'Observed'} ${pattern.taskType} workflow${namespacePart(
          pattern.namespace,
        )}: ${steps}. It ${statsLine(pattern)}${config ? `; usually with ${config}` : ''}.`
      : `${recommended ? 'Proven' : 'Observed'} ${pattern.taskType} configuration${namespacePart(
          pattern.namespace,
        )}: ${config}. It ${statsLine(pattern)}${steps ? `; usual steps: ${steps}` : ''}.`;
  return {
    text: text.slice(0, Limits.textLength),
    importance: Math.min(1, 0.5 + pattern.wilsonLowerBound / 2),
    metadata: {
      patternType: pattern.kind === 'steps' ? 'workflow' : 'configuration',
      recommended,
      taskType: pattern.taskType,
      signature: pattern.signature,
      steps: pattern.steps,
      config: pattern.config,
      support: pattern.support,
      successes: pattern.successes,
      successRate: pattern.successRate,
      wilsonLowerBound: pattern.wilsonLowerBound,
      ...(pattern.stats.durationP50Ms !== undefined
        ? { durationP50Ms: pattern.stats.durationP50Ms }
        : {}),
      ...(pattern.stats.costAvg !== undefined ? { costAvg: pattern.stats.costAvg } : {}),
      ...(pattern.stats.lastSeen ? { lastSeen: pattern.stats.lastSeen } : {}),
    },
  };
}

/** A failure signature (anti-pattern) as a memory. */
export function failurePatternContent(failure: FailurePattern): PatternMemoryContent {
  const avoided = failure.avoidedBy
    ? ` Avoided by ${failure.avoidedBy.kind === 'steps' ? 'the workflow' : 'the configuration'} ${
        failure.avoidedBy.signature
      } (${percent(failure.avoidedBy.successRate)} of ${failure.avoidedBy.support} runs succeeded).`
    : '';
  const workflow = failure.failingWorkflows[0]
    ? ` Failing workflow: ${failure.failingWorkflows[0]}.`
    : '';
  const text = `Known ${failure.taskType} failure${namespacePart(failure.namespace)}, seen ${
    failure.count
  } times: ${failure.example}.${workflow}${avoided}`;
  return {
    text: text.slice(0, Limits.textLength),
    importance: Math.min(1, 0.5 + failure.count / 20),
    metadata: {
      patternType: 'failure',
      taskType: failure.taskType,
      signature: failure.signature,
      count: failure.count,
      example: failure.example.slice(0, 1_000),
      failingWorkflows: failure.failingWorkflows.slice(0, 5),
      ...(failure.avoidedBy ? { avoidedBy: failure.avoidedBy.signature } : {}),
      lastSeen: failure.lastSeen,
    },
  };
}
