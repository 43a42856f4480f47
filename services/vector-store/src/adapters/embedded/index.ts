export type {
  EmbeddedIndexStatus,
  EmbeddedVectorIndex,
  EmbeddedVectorIndexOptions,
} from './embedded-vector-index.ts';
export { openEmbeddedVectorIndex } from './embedded-vector-index.ts';
export type { HnswOptions } from './hnsw-graph.ts';
