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
export type { LocalEmbeddingProviderOptions } from './providers/local.ts';
export { createLocalEmbeddingProvider } from './providers/local.ts';
