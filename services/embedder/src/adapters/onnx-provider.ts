import { createOnnxEmbeddingModel, type OnnxEmbeddingModelOptions } from '@membus/embedding-onnx';
import { type EmbeddingProvider, embeddingProvider } from '../ports/embedding-provider.ts';

/** Model, directory, threads, texts per run and fetch options of `@membus/embedding-onnx`. */
export type OnnxEmbeddingProviderOptions = OnnxEmbeddingModelOptions;

export const ONNX_MAX_BATCH = 256;

/**
 * A sentence-embedding model of `@membus/embedding-onnx` as a provider, loaded (and fetched
 * once, when its directory is empty) on first use. The vector-store runs the same package for
 * query vectors (decision 005).
 */
export function createOnnxEmbeddingProvider(
  options: OnnxEmbeddingProviderOptions = {},
): EmbeddingProvider {
  const model = createOnnxEmbeddingModel(options);
  return embeddingProvider(
    {
      name: 'onnx',
      model: model.spec.modelId,
      dimension: model.spec.dimension,
      maxBatch: ONNX_MAX_BATCH,
      remote: false,
    },
    (texts, embedOptions) => model.embed(texts, embedOptions.purpose, embedOptions.signal),
  );
}
