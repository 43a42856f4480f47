import type { MetricsReply, PatternsReply, PatternsRequest } from '@membus/contracts';
import type { OutcomeRow } from '../ports/outcome-store.ts';
import { computeStats } from './statistics.ts';
import { ALL_NAMESPACES, computeFailures, computeVariants, rankPatterns } from './variants.ts';

/** The patterns reply from a tenant's outcome rows (of the request's namespace and task type). */
export function patternsReply(
  rows: readonly OutcomeRow[],
  tenant: string,
  request: PatternsRequest,
  taskType: { taskType: string | undefined; inferred: boolean },
): PatternsReply {
  const scope = { tenant, namespace: request.namespace ?? ALL_NAMESPACES };
  const variants = computeVariants(rows, scope);
  const patterns = rankPatterns(
    variants
      .map((variant) => variant.pattern)
      .filter((pattern) => request.variantKinds.includes(pattern.kind)),
    request,
  ).slice(0, request.limit);
  const failures = request.includeFailures
    ? computeFailures(rows, scope, variants).slice(0, request.limit)
    : [];
  return {
    v: 1,
    ...(taskType.taskType !== undefined ? { taskType: taskType.taskType } : {}),
    inferred: taskType.inferred,
    patterns,
    failures,
  };
}

/**
 * The metrics reply from a tenant's outcome rows: per task type and overall, all time and
 * in the recent window (rows that occurred at `since` or later).
 */
export function metricsReply(
  rows: readonly OutcomeRow[],
  recent: { since: number; windowDays: number },
): MetricsReply {
  const recentOf = (list: readonly OutcomeRow[]) =>
    list.filter((row) => row.occurredAtMs >= recent.since);
  const byType = new Map<string, OutcomeRow[]>();
  for (const row of rows) {
    const list = byType.get(row.taskType);
    if (list) list.push(row);
    else byType.set(row.taskType, [row]);
  }
  const taskTypes = [...byType]
    .map(([taskType, list]) => ({
      taskType,
      allTime: computeStats(list),
      recent: computeStats(recentOf(list)),
      workflows: new Set(list.map((row) => row.stepsSignature).filter(Boolean)).size,
    }))
    .sort(
      (a, b) => b.allTime.executions - a.allTime.executions || a.taskType.localeCompare(b.taskType),
    );
  return {
    v: 1,
    taskTypes,
    overall: {
      allTime: computeStats(rows),
      recent: computeStats(recentOf(rows)),
      taskTypeCount: taskTypes.length,
    },
    recentWindowDays: recent.windowDays,
  };
}
