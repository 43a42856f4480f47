import { MembusError } from '@membus/contracts';

export interface EmbeddingProviderCapabilities {
  /** Provider name for logs and metrics, e.g. `local`, `openai`. */
  name: string;
  /** Model id recorded on every memory (`embeddingModel`). */
  model: string;
  /** Length of every vector it returns. */
  dimension: number;
  /** Most texts per `embed` call. */
  maxBatch: number;
  /** Whether it calls a remote service (worth caching, worth retrying). */
  remote: boolean;
}

export interface EmbedOptions {
  /** Some models embed queries and documents differently. */
  purpose: 'query' | 'document';
  signal?: AbortSignal;
}

/** Turns texts into L2-normalised vectors. */
export interface EmbeddingProvider {
  readonly capabilities: EmbeddingProviderCapabilities;
  /** One vector per text, in order; throws MembusError (EMBEDDING_FAILED, retryable or not). */
  embed(texts: readonly string[], options: EmbedOptions): Promise<Float32Array[]>;
}

/**
 * A provider from its capabilities (frozen) and its embedding function, which only ever sees at
 * most `capabilities.maxBatch` texts: a larger call fails first, with LIMIT_EXCEEDED.
 */
export function embeddingProvider(
  capabilities: EmbeddingProviderCapabilities,
  embed: (texts: readonly string[], options: EmbedOptions) => Promise<Float32Array[]>,
): EmbeddingProvider {
  const frozen = Object.freeze({ ...capabilities });
  return {
    capabilities: frozen,
    async embed(texts, options) {
      assertBatchLimit(texts, frozen.maxBatch);
      return embed(texts, options);
    },
  };
}

/** Every provider's first check: at most `maxBatch` texts per `embed` call (LIMIT_EXCEEDED). */
function assertBatchLimit(texts: readonly string[], maxBatch: number): void {
  if (texts.length > maxBatch) {
    throw new MembusError(
      'LIMIT_EXCEEDED',
      `at most ${maxBatch} texts per embed call, got ${texts.length}`,
      { details: { limit: maxBatch, actual: texts.length } },
    );
  }
}
