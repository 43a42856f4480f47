import { counter, defineMetrics, gauge } from '@membus/telemetry';
import type { Registry } from 'prom-client';

/** Every metric the pattern-extractor declares besides the message metrics. */
// biome-ignore format: a metric a line
const patternExtractorMetrics = defineMetrics({
  outcomes: counter('membus_outcomes_processed_total', 'Outcomes processed, by task type (configured types + other) and result (success, failure, replayed)', ['task_type', 'result']),
  successRate: gauge('membus_task_success_rate', 'All-time success rate per task type across tenants (configured types + other)', ['task_type']),
  patterns: counter('membus_patterns_emitted_total', 'Pattern memories written, by pattern type (workflow, configuration, failure) and action (stored, updated)', ['pattern_type', 'action']),
  inferences: counter('membus_task_type_inferences_total', 'Task types inferred for outcomes without one, by method (rules, centroid, fallback)', ['method']),
  pending: gauge('membus_pattern_memories_pending', 'Task types (per tenant and namespace) whose pattern memories wait for a retry'),
});

/** Every metric the pattern-extractor exports (names are the contract with the dashboards). */
export const PatternExtractorMetricNames = patternExtractorMetrics.names;

/** The label for task types outside the configured set: keeps label cardinality bounded. */
export const OTHER_TASK_TYPE = 'other';

/** What the gauges read at scrape time. */
export interface PatternMetricsSource {
  /** Executions and successes per task type across tenants. */
  taskTypeTotals(): Promise<{ taskType: string; executions: number; successes: number }[]>;
  /** Keys whose pattern memories wait for a retry. */
  pendingPatternKeys(): number;
}

export function createPatternExtractorMetrics(
  registry: Registry,
  taskTypes: readonly string[],
  source?: PatternMetricsSource,
) {
  const known = new Set(taskTypes);
  const label = (taskType: string) => (known.has(taskType) ? taskType : OTHER_TASK_TYPE);
  const { outcomes, patterns, inferences, observer } = patternExtractorMetrics.register(registry, {
    async successRate(gauge) {
      if (!source) return;
      const sums = new Map<string, { executions: number; successes: number }>();
      for (const total of await source.taskTypeTotals()) {
        const name = label(total.taskType);
        const sum = sums.get(name) ?? { executions: 0, successes: 0 };
        sum.executions += total.executions;
        sum.successes += total.successes;
        sums.set(name, sum);
      }
      gauge.reset();
      for (const [name, sum] of sums) {
        if (sum.executions > 0) gauge.set({ task_type: name }, sum.successes / sum.executions);
      }
    },
    pending(gauge) {
      if (source) gauge.set(source.pendingPatternKeys());
    },
  });
  return {
    observer,
    hooks: {
      onOutcome(taskType: string, success: boolean, inserted: boolean) {
        outcomes.inc({
          task_type: label(taskType),
          result: inserted ? (success ? 'success' : 'failure') : 'replayed',
        });
      },
      onInference(method: string) {
        inferences.inc({ method });
      },
      onPatternMemory(patternType: string, action: 'stored' | 'updated') {
        patterns.inc({ pattern_type: patternType, action });
      },
    },
  };
}

export type PatternExtractorMetrics = ReturnType<typeof createPatternExtractorMetrics>;
