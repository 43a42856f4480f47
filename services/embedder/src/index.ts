export type { LocalEmbeddingProviderOptions } from './adapters/local-provider.ts';
export { createLocalEmbeddingProvider } from './adapters/local-provider.ts';
export type { EmbedderConfig } from './config.ts';
export { embedderEnvSpec, loadEmbedderConfig } from './config.ts';
export type { EmbedderHooks, EmbedderOptions, EmbedOutcome, Redactor } from './domain/embedder.ts';
export { Embedder, normalise } from './domain/embedder.ts';
export type { EmbeddingCache } from './domain/embedding-cache.ts';
export { KvEmbeddingCache, MemoryEmbeddingCache } from './domain/embedding-cache.ts';
export type { RedactionPolicy } from './domain/redaction.ts';
export { createRedactor } from './domain/redaction.ts';
export type {
  EmbeddingProvider,
  EmbeddingProviderCapabilities,
  EmbedOptions,
} from './ports/embedding-provider.ts';
