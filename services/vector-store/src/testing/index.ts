export type {
  DocumentStoreConformanceOptions,
  DocumentStoreFixture,
} from './document-store-conformance.ts';
export { createDocumentStoreConformanceSuite } from './document-store-conformance.ts';
export { seededRandom } from './seeded-random.ts';
export type {
  VectorIndexConformanceOptions,
  VectorIndexFixture,
} from './vector-index-conformance.ts';
export { createVectorIndexConformanceSuite } from './vector-index-conformance.ts';
