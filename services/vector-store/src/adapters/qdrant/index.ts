export type { QdrantCondition, QdrantFilter, TranslatedFilter } from './qdrant-filter.ts';
export { metadataPathIndex, toQdrantFilter } from './qdrant-filter.ts';
export type { QdrantVectorIndexOptions } from './qdrant-vector-index.ts';
export {
  isTransientQdrantError,
  openQdrantVectorIndex,
  qdrantCollectionName,
  qdrantPointId,
  toQdrantPayload,
} from './qdrant-vector-index.ts';
