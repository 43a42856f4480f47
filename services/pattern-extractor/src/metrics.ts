import type { BusObserver } from '@membus/bus';
import { createMessageMetrics, MessageMetricNames } from '@membus/telemetry';
import { Counter, Gauge, type Registry } from 'prom-client';

/** Every metric the pattern-extractor exports (names are the contract with the dashboards). */
export const PatternExtractorMetricNames = {
  ...MessageMetricNames,
  outcomes: 'membus_outcomes_processed_total',
  successRate: 'membus_task_success_rate',
  patterns: 'membus_patterns_emitted_total',
  inferences: 'membus_task_type_inferences_total',
  pending: 'membus_pattern_memories_pending',
} as const;

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
  const outcomes = new Counter({
    name: PatternExtractorMetricNames.outcomes,
    help: 'Outcomes processed, by task type (configured types + other) and result (success, failure, replayed)',
    labelNames: ['task_type', 'result'],
    registers: [registry],
  });
  new Gauge({
    name: PatternExtractorMetricNames.successRate,
    help: 'All-time success rate per task type across tenants (configured types + other)',
    labelNames: ['task_type'],
    registers: [registry],
    async collect() {
      if (!source) return;
      const sums = new Map<string, { executions: number; successes: number }>();
      for (const total of await source.taskTypeTotals()) {
        const name = label(total.taskType);
        const sum = sums.get(name) ?? { executions: 0, successes: 0 };
        sum.executions += total.executions;
        sum.successes += total.successes;
        sums.set(name, sum);
      }
      this.reset();
      for (const [name, sum] of sums) {
        if (sum.executions > 0) this.set({ task_type: name }, sum.successes / sum.executions);
      }
    },
  });
  const patterns = new Counter({
    name: PatternExtractorMetricNames.patterns,
    help: 'Pattern memories written, by pattern type (workflow, configuration, failure) and action (stored, updated)',
    labelNames: ['pattern_type', 'action'],
    registers: [registry],
  });
  const inferences = new Counter({
    name: PatternExtractorMetricNames.inferences,
    help: 'Task types inferred for outcomes without one, by method (rules, centroid, fallback)',
    labelNames: ['method'],
    registers: [registry],
  });
  new Gauge({
    name: PatternExtractorMetricNames.pending,
    help: 'Task types (per tenant and namespace) whose pattern memories wait for a retry',
    registers: [registry],
    collect() {
      if (source) this.set(source.pendingPatternKeys());
    },
  });
  const observer: BusObserver = createMessageMetrics(registry);
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
