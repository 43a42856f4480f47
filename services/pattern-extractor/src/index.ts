export type { PatternExtractorConfig } from './config.ts';
export { loadPatternExtractorConfig, patternExtractorEnvSpec } from './config.ts';
export {
  configSignature,
  errorSignature,
  normaliseStep,
  stepsSignature,
} from './domain/normalise.ts';
export type { PatternThresholds } from './domain/pattern-memories.ts';
export type {
  IngestResult,
  OutcomeItem,
  PatternServiceHooks,
  PatternServiceOptions,
} from './domain/pattern-service.ts';
export { PatternService } from './domain/pattern-service.ts';
export { percentile, wilsonLowerBound } from './domain/statistics.ts';
export type {
  Classification,
  EmbedTexts,
  InferenceMethod,
  TaskTypeClassifierOptions,
  TaskTypeDefinition,
} from './domain/task-types.ts';
export { builtInTaskTypes, TaskTypeClassifier } from './domain/task-types.ts';
export type { MemoryChanges, MemoryPort, MemoryToStore } from './ports/memory-port.ts';
export type {
  OutcomeQuery,
  OutcomeRow,
  OutcomeStore,
  OutcomeStoreCapabilities,
  PatternMemoryState,
} from './ports/outcome-store.ts';
