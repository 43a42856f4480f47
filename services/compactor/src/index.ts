export type { OpenAISummarizerOptions } from './adapters/openai-summarizer.ts';
export { createOpenAISummarizer } from './adapters/openai-summarizer.ts';
export type { CompactorConfig } from './config.ts';
export { compactorEnvSpec, loadCompactorConfig } from './config.ts';
export type { ImportanceRule, MaintenanceOptions } from './domain/maintenance.ts';
export { Maintenance } from './domain/maintenance.ts';
export type { OutcomeHandover } from './domain/outcomes.ts';
export { outcomesToHandOver } from './domain/outcomes.ts';
export type {
  OriginalsPolicy,
  SessionCompactorOptions,
  SummaryOutcome,
} from './domain/session-compactor.ts';
export { SessionCompactor, SUMMARY_ID_NAMESPACE, summaryIdOf } from './domain/session-compactor.ts';
export {
  createExtractiveSummarizer,
  selectSentences,
  splitSentences,
} from './domain/summarise.ts';
export { CompactorMetricNames } from './metrics.ts';
export type { EmbedPort } from './ports/embed-port.ts';
export type { CompactionPlan, LifecycleStore } from './ports/lifecycle-store.ts';
export type { MemoryPort } from './ports/memory-port.ts';
export type { OutcomePort } from './ports/outcome-port.ts';
export type { Summarizer, SummarizerCapabilities, SummaryRequest } from './ports/summarizer.ts';
