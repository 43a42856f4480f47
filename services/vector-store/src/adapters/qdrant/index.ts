export { qdrantCollectionName } from './qdrant-collection.ts';
export { isTransientQdrantError } from './qdrant-connection.ts';
export type { QdrantCondition, QdrantFilter, TranslatedFilter } from './qdrant-filter.ts';
export { metadataPathIndex, toQdrantFilter } from './qdrant-filter.ts';
export { qdrantPointId, toQdrantPayload } from './qdrant-points.ts';
export type { QdrantVectorIndexOptions } from './qdrant-vector-index.ts';
export { openQdrantVectorIndex } from './qdrant-vector-index.ts';
export type { SparseTextVector } from './sparse-text-vector.ts';
export {
  AVERAGE_TEXT_LENGTH,
  BM25_B,
  BM25_K1,
  documentSparseVector,
  MAX_QUERY_TERMS,
  querySparseVector,
  SPARSE_VECTOR_NAME,
  termIndex,
} from './sparse-text-vector.ts';
