export type {
  AuditReply,
  CompactReply,
  ErrorCode,
  FailurePattern,
  HistoryEntry,
  MemoryFilter,
  MemoryRecord,
  MetricsReply,
  OutcomeStats,
  PatternsReply,
  QueryHit,
  SessionCompactionReport,
  SweepReport,
  TaskMetrics,
  WorkflowPattern,
} from '@membus/contracts';
export { MembusError } from '@membus/contracts';
export type { BatchUpdateOptions, BatchUpdateResult } from './batch-update.ts';
export { updateMany } from './batch-update.ts';
export { MemoryClient } from './client.ts';
// Every type of client-types.ts is the client's: what its methods take and give.
export type * from './client-types.ts';
export { connect } from './connect.ts';
export type { ContextOptions, FormattedContext } from './context.ts';
export { formatContext } from './context.ts';
export type {
  ExportOptions,
  ImportFailure,
  ImportOptions,
  ImportProgress,
  ImportSummary,
} from './export-import.ts';
export { exportMemories, importMemories } from './export-import.ts';
export type { ImportCheckpoint, ImportCheckpointState } from './import-checkpoint.ts';
export { fileCheckpoint } from './import-checkpoint.ts';
export type { IngestOptions, IngestResult, TurnInput } from './ingest.ts';
export type { ChangeEvent, ChangeStream, WatchInput, WatchOptions, WatchState } from './watch.ts';
