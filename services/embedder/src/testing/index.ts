export type { EmbeddingProviderConformanceOptions } from './embedding-provider-conformance.ts';
export { createEmbeddingProviderConformanceSuite } from './embedding-provider-conformance.ts';
