import type {
  AvoidingVariant,
  FailurePattern,
  Objective,
  OutcomeConfig,
  VariantKind,
  WorkflowPattern,
} from '@membus/contracts';
import { v5 as uuidv5 } from 'uuid';
import type { OutcomeRow } from '../ports/outcome-store.ts';
import { STEP_SEPARATOR, signatureSimilarity } from './normalise.ts';
import {
  computeStats,
  costPerSuccess,
  successDurationAvg,
  wilsonLowerBound,
} from './statistics.ts';

/** UUIDv5 namespace of pattern ids (a fixed random UUID). */
const PATTERN_ID_NAMESPACE = '6f1d3c2e-8a4b-4e5f-9c7d-2b1a0e9f8d7c';

/** Namespace token of pattern ids computed across all namespaces. */
export const ALL_NAMESPACES = '*';

/** Where a pattern was learned: its id is stable for the same scope and signature. */
export interface PatternScope {
  tenant: string;
  /** A namespace, `''` for outcomes without one, or {@link ALL_NAMESPACES}. */
  namespace: string;
}

/** The stable id of a pattern (also the id of its memory). */
export function patternId(
  scope: PatternScope,
  taskType: string,
  kind: VariantKind | 'failure',
  signature: string,
): string {
  return uuidv5(
    [scope.tenant, scope.namespace, taskType, kind, signature].join('\u001f'),
    PATTERN_ID_NAMESPACE,
  );
}

/** Similarity (token Jaccard) above which two failure signatures are one failure. */
export const FAILURE_MERGE_SIMILARITY = 0.8;

function mostCommon<T>(values: readonly T[], key: (value: T) => string): T | undefined {
  const counts = new Map<string, { value: T; count: number }>();
  for (const value of values) {
    const id = key(value);
    const entry = counts.get(id);
    if (entry) entry.count++;
    else counts.set(id, { value, count: 1 });
  }
  let best: { value: T; count: number } | undefined;
  for (const entry of counts.values()) if (!best || entry.count > best.count) best = entry;
  return best?.value;
}

function groupBy<T>(values: readonly T[], key: (value: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const value of values) {
    const id = key(value);
    const group = groups.get(id);
    if (group) group.push(value);
    else groups.set(id, [value]);
  }
  return groups;
}

/** A variant with the rows it was computed from (for failure avoidance). */
export interface ComputedVariant {
  pattern: WorkflowPattern;
  outcomeIds: Set<string>;
}

/** Every workflow variant of the rows: per task type, step sequence and config signature. */
export function computeVariants(
  rows: readonly OutcomeRow[],
  scope: PatternScope,
  kinds: readonly VariantKind[] = ['steps', 'config'],
): ComputedVariant[] {
  const variants: ComputedVariant[] = [];
  for (const [taskType, taskRows] of groupBy(rows, (row) => row.taskType)) {
    for (const kind of kinds) {
      const signatureOf = (row: OutcomeRow) =>
        kind === 'steps' ? row.stepsSignature : row.configSignature;
      for (const [signature, group] of groupBy(taskRows, signatureOf)) {
        if (signature === '') continue;
        const stats = computeStats(group);
        const steps =
          kind === 'steps'
            ? signature.split(STEP_SEPARATOR)
            : (mostCommon(group, (row) => row.stepsSignature)?.stepsSignature.split(
                STEP_SEPARATOR,
              ) ?? []);
        const config: OutcomeConfig =
          (kind === 'config'
            ? group[group.length - 1]?.config
            : mostCommon(
                group.filter((row) => row.configSignature !== ''),
                (row) => row.configSignature,
              )?.config) ?? {};
        const durationOfSuccesses = successDurationAvg(group);
        const perSuccess = costPerSuccess(group);
        variants.push({
          pattern: {
            id: patternId(scope, taskType, kind, signature),
            taskType,
            ...(scope.namespace !== ALL_NAMESPACES && scope.namespace !== ''
              ? { namespace: scope.namespace }
              : {}),
            kind,
            signature,
            steps: steps.filter(Boolean),
            config,
            support: stats.executions,
            successes: stats.successes,
            successRate: stats.successRate,
            wilsonLowerBound: wilsonLowerBound(stats.successes, stats.executions),
            stats,
            ...(durationOfSuccesses !== undefined
              ? { successDurationAvgMs: durationOfSuccesses }
              : {}),
            ...(perSuccess !== undefined ? { costPerSuccess: perSuccess } : {}),
          },
          outcomeIds: new Set(group.map((row) => row.id)),
        });
      }
    }
  }
  return variants;
}

/** Filters and orders patterns for an objective, best first. */
export function rankPatterns(
  patterns: readonly WorkflowPattern[],
  options: { objective: Objective; minSupport: number; minSuccessRate: number },
): WorkflowPattern[] {
  const byConfidence = (a: WorkflowPattern, b: WorkflowPattern) =>
    b.wilsonLowerBound - a.wilsonLowerBound ||
    b.support - a.support ||
    a.signature.localeCompare(b.signature);
  const eligible = patterns.filter(
    (pattern) =>
      pattern.support >= options.minSupport && pattern.successRate >= options.minSuccessRate,
  );
  switch (options.objective) {
    case 'success_rate':
      return eligible.sort(byConfidence);
    case 'duration':
      return eligible
        .filter((pattern) => pattern.successDurationAvgMs !== undefined)
        .sort(
          (a, b) =>
            (a.successDurationAvgMs as number) - (b.successDurationAvgMs as number) ||
            byConfidence(a, b),
        );
    case 'cost':
      return eligible
        .filter((pattern) => pattern.costPerSuccess !== undefined)
        .sort(
          (a, b) =>
            (a.costPerSuccess as number) - (b.costPerSuccess as number) || byConfidence(a, b),
        );
  }
}

interface FailureGroup {
  taskType: string;
  signature: string;
  rows: OutcomeRow[];
}

/**
 * Failed outcomes grouped by error signature, near-identical signatures merged into the
 * more frequent one; each with the best successful variant that never hit it.
 */
export function computeFailures(
  rows: readonly OutcomeRow[],
  scope: PatternScope,
  variants: readonly ComputedVariant[],
): FailurePattern[] {
  const failed = rows.filter((row) => !row.success && row.errorSignature);
  const exact = [
    ...groupBy(failed, (row) => `${row.taskType}\u001f${row.errorSignature}`).values(),
  ].map(
    (group): FailureGroup => ({
      taskType: (group[0] as OutcomeRow).taskType,
      signature: (group[0] as OutcomeRow).errorSignature as string,
      rows: group,
    }),
  );
  exact.sort((a, b) => b.rows.length - a.rows.length || a.signature.localeCompare(b.signature));
  const merged: FailureGroup[] = [];
  for (const group of exact) {
    const into = merged.find(
      (head) =>
        head.taskType === group.taskType &&
        signatureSimilarity(head.signature, group.signature) >= FAILURE_MERGE_SIMILARITY,
    );
    if (into) into.rows.push(...group.rows);
    else merged.push({ ...group, rows: [...group.rows] });
  }
  return merged
    .map((group): FailurePattern => {
      const ordered = [...group.rows].sort((a, b) => a.occurredAtMs - b.occurredAtMs);
      const latest = ordered[ordered.length - 1] as OutcomeRow;
      const workflows = [
        ...groupBy(
          ordered.filter((row) => row.stepsSignature !== ''),
          (row) => row.stepsSignature,
        ),
      ]
        .sort((a, b) => b[1].length - a[1].length)
        .map(([signature]) => signature);
      const avoidedBy = avoidingVariant(group, variants);
      return {
        id: patternId(scope, group.taskType, 'failure', group.signature),
        taskType: group.taskType,
        ...(scope.namespace !== ALL_NAMESPACES && scope.namespace !== ''
          ? { namespace: scope.namespace }
          : {}),
        signature: group.signature,
        count: ordered.length,
        firstSeen: (ordered[0] as OutcomeRow).occurredAt,
        lastSeen: latest.occurredAt,
        example: latest.error ?? group.signature,
        exampleOutcomeId: latest.id,
        failingWorkflows: workflows,
        ...(avoidedBy ? { avoidedBy } : {}),
      };
    })
    .sort((a, b) => b.count - a.count || b.lastSeen.localeCompare(a.lastSeen));
}

/** The most confident successful variant (step sequences first) with no run in the group. */
function avoidingVariant(
  group: FailureGroup,
  variants: readonly ComputedVariant[],
): AvoidingVariant | undefined {
  const failing = new Set(group.rows.map((row) => row.id));
  for (const kind of ['steps', 'config'] as const) {
    const candidates = variants
      .filter(
        (variant) =>
          variant.pattern.kind === kind &&
          variant.pattern.taskType === group.taskType &&
          variant.pattern.successes > 0 &&
          ![...variant.outcomeIds].some((id) => failing.has(id)),
      )
      .map((variant) => variant.pattern)
      .sort(
        (a, b) =>
          b.wilsonLowerBound - a.wilsonLowerBound ||
          b.support - a.support ||
          a.signature.localeCompare(b.signature),
      );
    const best = candidates[0];
    if (best) {
      return {
        id: best.id,
        kind: best.kind,
        signature: best.signature,
        support: best.support,
        successRate: best.successRate,
      };
    }
  }
  return undefined;
}
