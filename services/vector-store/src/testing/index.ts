export {
  createVectorIndexConformanceSuite,
  seededRandom,
  TEST_NOW,
  testItem,
  testMemoryId,
  testRecord,
  type VectorIndexConformanceOptions,
  type VectorIndexFixture,
} from '@membus/vector-index/testing';
export type {
  DocumentStoreConformanceOptions,
  DocumentStoreFixture,
} from './document-store-conformance.ts';
export { createDocumentStoreConformanceSuite } from './document-store-conformance.ts';
export type { QdrantDouble, QdrantDoubleRequest } from './qdrant-double.ts';
export { startQdrantDouble } from './qdrant-double.ts';
