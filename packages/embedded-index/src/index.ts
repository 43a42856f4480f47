export { openEmbeddedVectorIndex } from './embedded-vector-index.ts';
export type { HnswOptions, RebuildReason } from './hnsw-graph.ts';
export { rebuildReasons } from './hnsw-graph.ts';
export type { KeywordHit, KeywordSearch } from './keyword-index.ts';
export { KeywordIndex } from './keyword-index.ts';
export type {
  EmbeddedIndexStatus,
  EmbeddedVectorIndex,
  EmbeddedVectorIndexOptions,
  GraphEvent,
  MemoryCount,
} from './options.ts';
export type { StorageFailureReason, StorageFailureReport } from './storage-failures.ts';
export {
  classifyStorageError,
  StorageHealth,
  storageErrorMessage,
  storageFailureReasons,
} from './storage-failures.ts';
export type { ArenaGraph, NativeUsearchIndex, UsearchParameters } from './usearch-binding.ts';
export { createArenaGraph, createUsearchIndex, int8Codes } from './usearch-binding.ts';
