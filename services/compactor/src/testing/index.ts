export type { LifecycleStoreConformanceOptions } from './lifecycle-store-conformance.ts';
export { createLifecycleStoreConformanceSuite } from './lifecycle-store-conformance.ts';
export { testMemory } from './memory-record.ts';
