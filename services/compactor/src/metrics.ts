import type { SessionCompactionReport, SweepReport } from '@membus/contracts';
import { counter, defineMetrics, histogram } from '@membus/telemetry';
import type { Registry } from 'prom-client';
import type { ChangeSource, LifecycleChange } from './domain/maintenance.ts';

/** Every metric the compactor declares besides the message metrics. */
// biome-ignore format: a metric a line
const compactorMetrics = defineMetrics({
  compactions: counter('membus_compactions_total', 'Session compactions, by trigger (session_end, idle, request, resume) and result (compacted, empty, failed)', ['trigger', 'result']),
  compactionSeconds: histogram('membus_compaction_seconds', 'Wall time of a session compaction', [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]),
  compactionBytes: counter('membus_compaction_bytes_total', 'Bytes of text and metadata compacted, by stage (original, compacted)', ['stage']),
  compressionRatio: histogram('membus_compaction_compression_ratio', 'Compression ratio of session compactions (1 - compacted / original)', [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]),
  compactedMemories: counter('membus_compaction_memories_total', 'Memories into and out of session compactions, by direction (in, out), and patterns extracted', ['direction']),
  lifecycleChanges: counter('membus_lifecycle_changes_total', 'Memories changed by the compactor, by sweep (retention, expire, importance, duplicates, tiers, store = on memory.stored) and change (retention, expired, merged, dropped, promoted, demoted, archived, deleted, overflow_kept = moved into a full tier that keeps its overflow)', ['sweep', 'change']),
  sweepSeconds: histogram('membus_sweep_seconds', 'Wall time of a tenant sweep', [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300]),
  summaries: counter('membus_summaries_total', 'Session summaries written, by provider (extractive, openai) and result (ok, fallback)', ['provider', 'result']),
});

/** Every metric the compactor exports (names are the contract with the dashboards). */
export const CompactorMetricNames = compactorMetrics.names;

export function createCompactorMetrics(registry: Registry) {
  const {
    compactions,
    compactionSeconds,
    compactionBytes,
    compressionRatio,
    compactedMemories,
    lifecycleChanges,
    sweepSeconds,
    summaries,
    observer,
  } = compactorMetrics.register(registry);

  return {
    observer,
    recordCompaction(trigger: string, report: SessionCompactionReport) {
      if (report.dryRun) return;
      const compacted = report.memoriesIn > 0 && !report.alreadyCompacted;
      compactions.inc({ trigger, result: compacted ? 'compacted' : 'empty' });
      if (!compacted) return;
      compactionSeconds.observe(report.durationMs / 1000);
      compactionBytes.inc({ stage: 'original' }, report.originalBytes);
      compactionBytes.inc({ stage: 'compacted' }, report.compactedBytes);
      compressionRatio.observe(Math.max(0, report.compressionRatio));
      compactedMemories.inc({ direction: 'in' }, report.memoriesIn);
      compactedMemories.inc({ direction: 'out' }, report.memoriesOut);
      compactedMemories.inc({ direction: 'patterns' }, report.patternsExtracted);
    },
    recordSummary(provider: string, result: 'ok' | 'fallback') {
      summaries.inc({ provider, result });
    },
    recordFailure(trigger: string) {
      compactions.inc({ trigger, result: 'failed' });
    },
    /** Changes a sweep (or the stored-event handler) made; dry runs never come here. */
    recordChanges(sweep: ChangeSource, changes: Partial<Record<LifecycleChange, number>>) {
      for (const [change, count] of Object.entries(changes))
        if (count) lifecycleChanges.inc({ sweep, change }, count);
    },
    recordSweepDuration(report: Pick<SweepReport, 'durationMs'>) {
      sweepSeconds.observe(report.durationMs / 1000);
    },
  };
}

export type CompactorMetrics = ReturnType<typeof createCompactorMetrics>;
