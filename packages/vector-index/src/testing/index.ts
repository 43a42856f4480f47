export { seededRandom } from './seeded-random.ts';
export { TEST_NOW, testItem, testMemoryId, testRecord } from './test-record.ts';
export type {
  VectorIndexConformanceOptions,
  VectorIndexFixture,
} from './vector-index-conformance.ts';
export { createVectorIndexConformanceSuite } from './vector-index-conformance.ts';
