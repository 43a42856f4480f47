import type { MemoryRecord } from '@membus/contracts';

/** A workflow pattern of one task type, found among a session's outcome memories. */
export interface WorkflowPattern {
  taskType: string;
  runs: number;
  successes: number;
  /** The most frequent successful workflow (steps joined by ` → `). */
  bestWorkflow?: string;
  /** Mean duration in seconds, when the outcomes give one. */
  averageSeconds?: number;
}

const stringOf = (value: unknown) =>
  typeof value === 'string' && value.length > 0 ? value : undefined;

function seconds(metadata: Record<string, unknown>): number | undefined {
  const value = metadata.durationSeconds ?? metadata.duration;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  const millis = metadata.durationMs;
  return typeof millis === 'number' && Number.isFinite(millis) ? millis / 1000 : undefined;
}

function workflowOf(metadata: Record<string, unknown>): string | undefined {
  const steps = metadata.workflow ?? metadata.steps;
  if (Array.isArray(steps)) {
    const names = steps.filter((step): step is string => typeof step === 'string');
    return names.length > 0 ? names.join(' → ') : undefined;
  }
  return stringOf(steps);
}

/**
 * Groups outcome memories by `metadata.taskType` (USE-CASES §2); a task type seen at least
 * twice is a pattern: runs, success rate, the most frequent successful workflow, mean time.
 */
export function extractPatterns(memories: readonly MemoryRecord[]): WorkflowPattern[] {
  const groups = new Map<string, MemoryRecord[]>();
  for (const memory of memories) {
    if (memory.kind !== 'outcome') continue;
    const taskType = stringOf(memory.metadata.taskType) ?? stringOf(memory.metadata.task_type);
    if (!taskType) continue;
    groups.set(taskType, [...(groups.get(taskType) ?? []), memory]);
  }
  const patterns: WorkflowPattern[] = [];
  for (const [taskType, runs] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    if (runs.length < 2) continue;
    const successful = runs.filter((run) => run.metadata.success === true);
    const workflows = new Map<string, number>();
    for (const run of successful) {
      const workflow = workflowOf(run.metadata);
      if (workflow) workflows.set(workflow, (workflows.get(workflow) ?? 0) + 1);
    }
    const bestWorkflow = [...workflows].sort(
      (a, b) => b[1] - a[1] || a[0].localeCompare(b[0]),
    )[0]?.[0];
    const durations = runs
      .map((run) => seconds(run.metadata))
      .filter((value) => value !== undefined);
    patterns.push({
      taskType,
      runs: runs.length,
      successes: successful.length,
      ...(bestWorkflow ? { bestWorkflow } : {}),
      ...(durations.length > 0
        ? { averageSeconds: durations.reduce((sum, value) => sum + value, 0) / durations.length }
        : {}),
    });
  }
  return patterns;
}

/** One summary sentence per pattern. */
export function describePattern(pattern: WorkflowPattern): string {
  const rate = Math.round((pattern.successes / pattern.runs) * 100);
  return [
    `Pattern: ${pattern.taskType} ran ${pattern.runs} times, ${rate}% succeeded`,
    pattern.bestWorkflow ? `; best workflow ${pattern.bestWorkflow}` : '',
    pattern.averageSeconds !== undefined ? `; average ${pattern.averageSeconds.toFixed(1)} s` : '',
    '.',
  ].join('');
}
