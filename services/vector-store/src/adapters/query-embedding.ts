import { CALLER_MODEL } from '@membus/contracts';
import { embedLocal, localModelId } from '@membus/embedding-local';
import type { EmbedPort } from '../domain/memory-service.ts';

/** `auto`: compute query vectors here while the embedder runs the local model; `embedder`: always ask. */
export type QueryEmbeddingMode = 'auto' | 'embedder';

export type QueryVectorSource = 'local' | 'embedder';

export interface QueryEmbeddingOptions {
  mode: QueryEmbeddingMode;
  /** The index's dimension: only the local model at this dimension is computed here. */
  dimension: number;
  /** Every query vector, by where it came from. */
  onQuery?: (source: QueryVectorSource) => void;
  /** The source changed, because the embedder (or an ingested memory) named `model`. */
  onSwitch?: (source: QueryVectorSource, model: string) => void;
}

/**
 * Query vectors from the embedder, or from this process when that gives the same vector.
 *
 * The local model is a pure function of the text (~0.1 ms). Asking the embedder for it costs
 * two NATS messages, three processes' wake-ups and ~1 ms of CPU on a loaded host, and makes
 * every read depend on the embedder. So in `auto` mode, once the embedder has said it runs the
 * local model at the index's dimension (in any reply, or in the `model` of an ingested memory),
 * query vectors are computed here with the same code (`@membus/embedding-local`). Anything
 * naming another model (a reconfigured embedder, a remote provider) sends queries back to the
 * embedder. Documents always go to the embedder: redaction and content hashes live there.
 */
export class QueryEmbedding {
  readonly #remote: EmbedPort;
  readonly #options: QueryEmbeddingOptions;
  readonly #localModel: string;
  #local = false;

  constructor(remote: EmbedPort, options: QueryEmbeddingOptions) {
    this.#remote = remote;
    this.#options = options;
    this.#localModel = localModelId(options.dimension);
  }

  /** Where the next query vector comes from. */
  get source(): QueryVectorSource {
    return this.#local ? 'local' : 'embedder';
  }

  /** What the embedder said it runs: from its replies and from every ingested memory. */
  observe(model: string, dimension: number): void {
    // A caller's own vector says nothing about the embedder.
    if (model === CALLER_MODEL) return;
    const local =
      this.#options.mode === 'auto' &&
      model === this.#localModel &&
      dimension === this.#options.dimension;
    if (local === this.#local) return;
    this.#local = local;
    this.#options.onSwitch?.(this.source, model);
  }

  /** The port the memory service uses: queries as above, everything else from the embedder. */
  port(): EmbedPort {
    const remote = this.#remote;
    const port: EmbedPort = {
      query: async (text) => {
        const source = this.source;
        this.#options.onQuery?.(source);
        if (source === 'local') return embedLocal(text, this.#options.dimension);
        return remote.query(text);
      },
      documents: (texts) => remote.documents(texts),
    };
    if (remote.prepareChange) port.prepareChange = remote.prepareChange.bind(remote);
    return port;
  }
}
