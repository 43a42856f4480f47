// The test fixtures without the conformance suite (which imports vitest): for benchmarks and
// scripts that run outside a test runner.
export { randomUnitVector, seededRandom, seededUnitVectors } from './seeded-random.ts';
export { searchNearest, TEST_NOW, testItem, testMemoryId, testRecord } from './test-record.ts';
