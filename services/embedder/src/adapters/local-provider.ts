import { MembusError } from '@membus/contracts';
import {
  embedLocal,
  isLocalDimension,
  LOCAL_DEFAULT_DIMENSION,
  localModelId,
} from '@membus/embedding-local';
import { type EmbeddingProvider, embeddingProvider } from '../ports/embedding-provider.ts';

export interface LocalEmbeddingProviderOptions {
  /** Length of every vector; 384 unless told. */
  dimension?: number;
}

export const LOCAL_MAX_BATCH = 256;

/** The offline, deterministic embedding of `@membus/embedding-local` as a provider. */
export function createLocalEmbeddingProvider(
  options: LocalEmbeddingProviderOptions = {},
): EmbeddingProvider {
  const dimension = options.dimension ?? LOCAL_DEFAULT_DIMENSION;
  if (!isLocalDimension(dimension)) {
    throw new MembusError('INVALID_MESSAGE', `dimension must be an integer in 8..65536`, {
      details: { dimension },
    });
  }
  return embeddingProvider(
    {
      name: 'local',
      model: localModelId(dimension),
      dimension,
      maxBatch: LOCAL_MAX_BATCH,
      remote: false,
    },
    async (texts, embedOptions) => {
      if (embedOptions.signal?.aborted) {
        throw new MembusError('EMBEDDING_FAILED', 'embedding aborted', {
          cause: embedOptions.signal.reason,
        });
      }
      return texts.map((text) => embedLocal(text, dimension));
    },
  );
}
