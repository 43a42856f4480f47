import { CALLER_MODEL } from '@membus/contracts';
import { embedLocal, localModelId } from '@membus/embedding-local';
import {
  createOnnxEmbeddingModel,
  defaultModelDirectory,
  ONNX_DEFAULT_MODEL,
  onnxModelById,
} from '@membus/embedding-onnx';
import type { EmbedPort } from '../domain/memory-service.ts';

/** `auto`: compute query vectors here when that gives the embedder's vector; `embedder`: always ask. */
export type QueryEmbeddingMode = 'auto' | 'embedder';

/** `local`: computed in this process (the hashing model or an ONNX model); `embedder`: asked. */
export type QueryVectorSource = 'local' | 'embedder';

/** Query vectors of one model, computed in this process. */
export type QueryEncoder = (text: string) => Promise<Float32Array>;

/**
 * A model this process can run besides the hashing one (an ONNX model, decision 005):
 * `undefined` when it cannot (unknown model, other dimension); else a promise of its encoder,
 * settled once it is loaded from local files (never downloaded here), rejected when it cannot be.
 */
export type LoadQueryModel = (
  model: string,
  dimension: number,
) => Promise<QueryEncoder> | undefined;

export interface QueryEmbeddingOptions {
  mode: QueryEmbeddingMode;
  /** The index's dimension: only models at this dimension are computed here. */
  dimension: number;
  /** Models to run here besides the hashing one; called once per model (again after a failure). */
  loadModel?: LoadQueryModel;
  /** After a failed load, how long before a further mention of the model tries again; 60 s. */
  retryLoadMs?: number;
  /** The clock of that wait. */
  now?: () => number;
  /** Every query vector, by where it came from. */
  onQuery?: (source: QueryVectorSource) => void;
  /** The source changed, because the embedder (or an ingested memory) named `model`. */
  onSwitch?: (source: QueryVectorSource, model: string) => void;
  /** A model named by the embedder could not be loaded here (told once per model): queries keep asking the embedder. */
  onLoadFailed?: (model: string, error: unknown) => void;
}

/** What is known of a model this process may run. */
type ModelState =
  | { state: 'unsupported' }
  | { state: 'loading' }
  | { state: 'loaded'; encode: QueryEncoder }
  | { state: 'failed'; at: number };

/**
 * Query vectors from the embedder, or from this process when that gives the same vector.
 *
 * The local model is a pure function of the text (~0.1 ms). Asking the embedder for it costs
 * two NATS messages, three processes' wake-ups and ~1 ms of CPU on a loaded host, and makes
 * every read depend on the embedder. So in `auto` mode, once the embedder has said it runs the
 * local model at the index's dimension (in any reply, or in the `model` of an ingested memory),
 * query vectors are computed here with the same code (`@membus/embedding-local`). An ONNX model
 * (`@membus/embedding-onnx`, ~5-7 ms a query) goes the same way once `loadModel` has loaded it
 * from local files, in the background: the embedder is asked until then, and also when it
 * cannot be loaded. Anything naming another model (a reconfigured embedder, a remote provider)
 * sends queries back to the embedder. Documents always go to the embedder: redaction and
 * content hashes live there.
 */
export class QueryEmbedding {
  readonly #remote: EmbedPort;
  readonly #options: QueryEmbeddingOptions;
  readonly #localModel: string;
  readonly #models = new Map<string, ModelState>();
  /** The model the embedder last named (see #key), and its encoder if it runs here. */
  #named: string | undefined;
  #encode: QueryEncoder | undefined;

  constructor(remote: EmbedPort, options: QueryEmbeddingOptions) {
    this.#remote = remote;
    this.#options = options;
    this.#localModel = localModelId(options.dimension);
  }

  /** Where the next query vector comes from. */
  get source(): QueryVectorSource {
    return this.#encode !== undefined ? 'local' : 'embedder';
  }

  /** What the embedder said it runs: from its replies and from every ingested memory. */
  observe(model: string, dimension: number): void {
    // A caller's own vector says nothing about the embedder.
    if (model === CALLER_MODEL) return;
    const named = this.#key(model, dimension);
    if (named === this.#named) {
      // Called for every memory: only a failed load waiting for its retry is worth a look.
      if (this.#encode === undefined) this.#loadIfDue(model, dimension);
      return;
    }
    this.#named = named;
    if (this.#options.mode === 'auto' && named === this.#localModel) {
      this.#use((text) => Promise.resolve(embedLocal(text, this.#options.dimension)), model);
      return;
    }
    const known = this.#models.get(named);
    this.#use(known?.state === 'loaded' ? known.encode : undefined, model);
    this.#loadIfDue(model, dimension);
  }

  /** The port the memory service uses: queries as above, everything else from the embedder. */
  port(): EmbedPort {
    const remote = this.#remote;
    const port: EmbedPort = {
      query: async (text) => {
        const encode = this.#encode;
        this.#options.onQuery?.(encode !== undefined ? 'local' : 'embedder');
        return encode !== undefined ? encode(text) : remote.query(text);
      },
      documents: (texts) => remote.documents(texts),
    };
    if (remote.prepareChange) port.prepareChange = remote.prepareChange.bind(remote);
    return port;
  }

  /** A model at the index's dimension by its name; at another one, told apart. */
  #key(model: string, dimension: number): string {
    return dimension === this.#options.dimension ? model : `${model}@${dimension}`;
  }

  /** Sets the encoder of the model just named, telling when the source changes. */
  #use(encode: QueryEncoder | undefined, model: string): void {
    const before = this.source;
    this.#encode = encode;
    if (this.source !== before) this.#options.onSwitch?.(this.source, model);
  }

  /** Loads `model` in the background unless loaded, loading, or failed too recently. */
  #loadIfDue(model: string, dimension: number): void {
    if (this.#options.mode !== 'auto') return;
    const key = this.#key(model, dimension);
    const known = this.#models.get(key);
    const now = this.#options.now ?? Date.now;
    if (known?.state === 'loaded') {
      if (this.#named === key) this.#use(known.encode, model);
      return;
    }
    if (known?.state === 'loading' || known?.state === 'unsupported') return;
    if (known?.state === 'failed' && now() - known.at < (this.#options.retryLoadMs ?? 60_000))
      return;
    const loading = this.#options.loadModel?.(model, dimension);
    if (loading === undefined) {
      this.#models.set(key, { state: 'unsupported' });
      return;
    }
    this.#models.set(key, { state: 'loading' });
    loading.then(
      (encode) => {
        this.#models.set(key, { state: 'loaded', encode });
        // Used only if the embedder still names it.
        if (this.#named === key) this.#use(encode, model);
      },
      (error: unknown) => {
        // Told once per model: a vector-store without the files retries every minute.
        if (known === undefined) this.#options.onLoadFailed?.(model, error);
        this.#models.set(key, { state: 'failed', at: now() });
      },
    );
  }
}

export interface OnnxQueryModelsOptions {
  /** The embedder's EMBEDDING_MODEL_DIR, which holds its EMBEDDING_ONNX_MODEL (`primaryModel`). */
  directory?: string;
  /** The embedder's EMBEDDING_ONNX_MODEL; e5-small-v2-q (its default) unless told. */
  primaryModel?: string;
  /** Intra-op threads of each session; 1: a query's inference stays on one core. */
  threads?: number;
  /** Query vectors kept, most recently used first (1.5 kB each at 384); 4,096 unless told. */
  cacheEntries?: number;
}

/**
 * The ONNX models of `@membus/embedding-onnx`, loaded from where the embedder keeps them (its
 * EMBEDDING_MODEL_DIR for its own model, else `~/.cache/membus/models/<name>`), never
 * downloaded: a missing file fails the load, and queries keep asking the embedder. One text
 * per run with the model's query prefix, as the embedder embeds a query: the same vector.
 * Inference runs on the event loop (onnxruntime-node's `run` is synchronous), one core.
 */
export function onnxQueryModels(options: OnnxQueryModelsOptions = {}): LoadQueryModel {
  return (model, dimension) => {
    const spec = onnxModelById(model);
    if (spec === undefined || spec.dimension !== dimension) return undefined;
    const onnx = createOnnxEmbeddingModel({
      model: spec.name,
      directory:
        options.directory !== undefined &&
        (options.primaryModel ?? ONNX_DEFAULT_MODEL) === spec.name
          ? options.directory
          : defaultModelDirectory(spec.name),
      threads: options.threads ?? 1,
      rowsPerRun: 1,
      fetch: { download: false },
    });
    // The embedder keeps query vectors it computed (its memory cache); so does this process, or
    // a repeated question would cost ~5 ms of inference here instead of a cache hit there.
    const cache = new Map<string, Float32Array>();
    const limit = options.cacheEntries ?? 4_096;
    return onnx.load().then(() => async (text: string) => {
      const cached = cache.get(text);
      if (cached !== undefined) {
        cache.delete(text);
        cache.set(text, cached);
        return cached;
      }
      const [vector] = (await onnx.embed([text], 'query')) as [Float32Array];
      cache.set(text, vector);
      if (cache.size > limit) cache.delete(cache.keys().next().value as string);
      return vector;
    });
  };
}
