export { qdrantCollectionName } from './qdrant-collection.ts';
export { isTransientQdrantError } from './qdrant-connection.ts';
export type { QdrantCondition, QdrantFilter, TranslatedFilter } from './qdrant-filter.ts';
export { metadataPathIndex, toQdrantFilter } from './qdrant-filter.ts';
export { qdrantPointId, toQdrantPayload } from './qdrant-points.ts';
export type { QdrantVectorIndexOptions } from './qdrant-vector-index.ts';
export { openQdrantVectorIndex } from './qdrant-vector-index.ts';
