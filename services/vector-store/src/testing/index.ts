export type {
  VectorIndexConformanceOptions,
  VectorIndexFixture,
} from './vector-index-conformance.ts';
export { createVectorIndexConformanceSuite } from './vector-index-conformance.ts';
