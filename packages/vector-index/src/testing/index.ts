export {
  randomUnitVector,
  searchNearest,
  seededRandom,
  seededUnitVectors,
  TEST_NOW,
  testItem,
  testMemoryId,
  testRecord,
} from './fixtures.ts';
export type {
  VectorIndexConformanceOptions,
  VectorIndexFixture,
} from './vector-index-conformance.ts';
export { createVectorIndexConformanceSuite } from './vector-index-conformance.ts';
