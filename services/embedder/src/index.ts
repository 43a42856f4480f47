export type { FetchModelOptions, OnnxModelName, OnnxModelSpec } from '@membus/embedding-onnx';
export {
  defaultModelDirectory,
  fetchOnnxModel,
  ONNX_DEFAULT_MODEL,
  ONNX_MODEL_NAMES,
  ONNX_MODELS,
} from '@membus/embedding-onnx';
export type { LocalEmbeddingProviderOptions } from './adapters/local-provider.ts';
export { createLocalEmbeddingProvider } from './adapters/local-provider.ts';
export type { OnnxEmbeddingProviderOptions } from './adapters/onnx-provider.ts';
export { createOnnxEmbeddingProvider } from './adapters/onnx-provider.ts';
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
