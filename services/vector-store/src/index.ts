// The vector-store's public surface: the memory domain (MemoryService and its ports), the
// document-store adapters, the Qdrant vector index, config and metrics. The embedded vector index
// is its own package (@membus/embedded-index); the VectorIndex port is @membus/vector-index.
export type { MongoDocumentStoreOptions } from './adapters/mongodb/index.ts';
export { openMongoDocumentStore } from './adapters/mongodb/index.ts';
export type { QdrantVectorIndexOptions } from './adapters/qdrant/index.ts';
export { openQdrantVectorIndex, qdrantCollectionName } from './adapters/qdrant/index.ts';
export type {
  LoadQueryModel,
  OnnxQueryModelsOptions,
  QueryEmbeddingMode,
  QueryEmbeddingOptions,
  QueryEncoder,
  QueryVectorSource,
} from './adapters/query-embedding.ts';
export { onnxQueryModels, QueryEmbedding } from './adapters/query-embedding.ts';
export { openSqliteDocumentStore } from './adapters/sqlite/sqlite-document-store.ts';
export type { VectorStoreConfig } from './config.ts';
export { loadVectorStoreConfig, vectorStoreEnvSpec } from './config.ts';
export type {
  ChangeInput,
  EmbeddedDocument,
  EmbedPort,
  EventPort,
  IngestItem,
  IngestResult,
  MemoryServiceOptions,
  PreparedChange,
} from './domain/memory-service.ts';
export { MemoryService } from './domain/memory-service.ts';
export type { IndexStatusSource, StorageHealthSource, VectorStoreMetrics } from './metrics.ts';
export { createVectorStoreMetrics, VectorStoreMetricNames } from './metrics.ts';
export type {
  DocumentStore,
  DocumentStoreCapabilities,
  StoredHistoryEntry,
} from './ports/document-store.ts';
