import { readFile } from 'node:fs/promises';
import { Tokenizer } from '@huggingface/tokenizers';
import { MembusError } from '@membus/contracts';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import {
  defaultModelDirectory,
  type FetchModelOptions,
  fetchOnnxModel,
  ONNX_DEFAULT_MODEL,
  ONNX_MODELS,
  type OnnxModelName,
  type OnnxModelSpec,
} from './models.ts';

export interface OnnxEmbeddingModelOptions {
  /** One of ONNX_MODELS; e5-small-v2 int8 unless told. */
  model?: OnnxModelName;
  /** Directory holding `model.onnx` and `tokenizer.json`; filled from Maven when empty. */
  directory?: string;
  /** Intra-op threads of the ONNX session; 1 unless told (see why below). */
  threads?: number;
  /**
   * Texts per ONNX run; 1 unless told. An int8 model quantises each run's activations with
   * scales of the whole batch, so a text's vector depends slightly on its batch mates (cosine
   * > 0.99); one text per run keeps a text's vector the same whatever it is embedded with
   * (the cache, duplicate checks and query vectors computed in the vector-store rely on that),
   * at about the same CPU per text.
   */
  rowsPerRun?: number;
  /** Maven repository, download notice, or `download: false` (see fetchOnnxModel). */
  fetch?: Omit<FetchModelOptions, 'directory'>;
}

/** Why a text is embedded: the model's prefix differs (e5's "query: " and "passage: "). */
export type OnnxPurpose = 'query' | 'document';

/** A sentence-embedding model of ONNX_MODELS, loaded once. */
export interface OnnxEmbeddingModel {
  readonly spec: OnnxModelSpec;
  /** Where its files are (or are fetched to). */
  readonly directory: string;
  /** Fetches (unless told not to) and loads the model; later calls share the first load. */
  load(): Promise<void>;
  /**
   * One L2-normalised vector per text, in order, loading the model first if needed; throws
   * MembusError EMBEDDING_FAILED. `signal` is checked before each run.
   */
  embed(
    texts: readonly string[],
    purpose: OnnxPurpose,
    signal?: AbortSignal,
  ): Promise<Float32Array[]>;
}

/**
 * A sentence-embedding model run in process by onnxruntime (CPU), tokenised by
 * @huggingface/tokenizers: the model's prefix by purpose, pooled as its card says,
 * L2-normalised. The embedder's `onnx` provider and the vector-store's query vectors
 * (decision 005) both run it, so a text gets the same vector in either process.
 *
 * One intra-op thread by default: on a loaded host a second thread spins waiting for a core and
 * halves the texts per CPU-second; run more replicas for more throughput instead. A run is
 * synchronous on the calling thread (onnxruntime-node runs it on the event loop).
 */
export function createOnnxEmbeddingModel(
  options: OnnxEmbeddingModelOptions = {},
): OnnxEmbeddingModel {
  const spec: OnnxModelSpec | undefined = ONNX_MODELS[options.model ?? ONNX_DEFAULT_MODEL];
  if (spec === undefined) {
    throw new MembusError('INVALID_MESSAGE', `unknown ONNX model ${String(options.model)}`, {
      details: { known: Object.keys(ONNX_MODELS) },
    });
  }
  const directory = options.directory ?? defaultModelDirectory(spec.name);
  const threads = options.threads ?? 1;
  const rowsPerRun = Math.max(1, options.rowsPerRun ?? 1);

  let loading: Promise<{ session: InferenceSession; tokenizer: Tokenizer }> | undefined;
  const open = async () => {
    const files = await fetchOnnxModel(spec, { ...options.fetch, directory });
    const tokenizer = new Tokenizer(JSON.parse(await readFile(files.tokenizer, 'utf8')), {});
    const session = await InferenceSession.create(files.onnx, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    });
    return { session, tokenizer };
  };
  const loaded = () => {
    loading ??= open().catch((error: unknown) => {
      loading = undefined;
      throw error instanceof MembusError
        ? error
        : new MembusError('EMBEDDING_FAILED', 'ONNX model unusable', {
            cause: error,
            retryable: false,
            details: { directory },
          });
    });
    return loading;
  };

  const tokens = (tokenizer: Tokenizer, text: string): number[] => {
    const ids = tokenizer.encode(text).ids;
    // Truncated keeping the closing special token ([SEP]).
    return ids.length <= spec.maxTokens
      ? ids
      : [...ids.slice(0, spec.maxTokens - 1), ids[ids.length - 1] as number];
  };

  const run = async (
    session: InferenceSession,
    rows: readonly number[][],
  ): Promise<Float32Array[]> => {
    const width = Math.max(1, ...rows.map((row) => row.length));
    const size = rows.length * width;
    const ids = new BigInt64Array(size);
    const mask = new BigInt64Array(size);
    rows.forEach((row, rowIndex) => {
      row.forEach((id, column) => {
        ids[rowIndex * width + column] = BigInt(id);
        mask[rowIndex * width + column] = 1n;
      });
    });
    const shape = [rows.length, width];
    const feeds: Record<string, Tensor> = {
      input_ids: new Tensor('int64', ids, shape),
      attention_mask: new Tensor('int64', mask, shape),
    };
    if (session.inputNames.includes('token_type_ids'))
      feeds.token_type_ids = new Tensor('int64', new BigInt64Array(size), shape);
    const outputs = await session.run(feeds);
    const hidden = outputs.last_hidden_state ?? outputs[session.outputNames[0] as string];
    if (hidden === undefined) throw new Error('ONNX model gave no output');
    const data = hidden.data as Float32Array;
    const dimension = hidden.dims[2] as number;
    return rows.map((row, rowIndex) => {
      const vector = new Float32Array(dimension);
      const base = rowIndex * width * dimension;
      const pooled = spec.pooling === 'cls' ? 1 : row.length;
      for (let token = 0; token < pooled; token++)
        for (let index = 0; index < dimension; index++)
          vector[index] =
            (vector[index] as number) + (data[base + token * dimension + index] as number);
      let norm = 0;
      for (const value of vector) norm += value * value;
      norm = Math.sqrt(norm) || 1;
      for (let index = 0; index < dimension; index++)
        vector[index] = (vector[index] as number) / norm;
      return vector;
    });
  };

  return {
    spec,
    directory,
    async load() {
      await loaded();
    },
    async embed(texts, purpose, signal) {
      const aborted = () =>
        new MembusError('EMBEDDING_FAILED', 'embedding aborted', { cause: signal?.reason });
      if (signal?.aborted) throw aborted();
      const { session, tokenizer } = await loaded();
      const prefix = spec.prefixes[purpose];
      const rows = texts.map((text) => tokens(tokenizer, prefix + text));
      // Runs of similar length pad little: texts are grouped by length, answered in order.
      const order = rows.map((_, index) => index);
      if (rowsPerRun > 1)
        order.sort((left, right) => (rows[left]?.length ?? 0) - (rows[right]?.length ?? 0));
      const vectors = new Array<Float32Array>(texts.length);
      for (let start = 0; start < order.length; start += rowsPerRun) {
        if (signal?.aborted) throw aborted();
        const chunk = order.slice(start, start + rowsPerRun);
        let result: Float32Array[];
        try {
          result = await run(
            session,
            chunk.map((index) => rows[index] as number[]),
          );
        } catch (error) {
          throw new MembusError('EMBEDDING_FAILED', 'ONNX inference failed', {
            cause: error,
            retryable: false,
          });
        }
        chunk.forEach((index, position) => {
          vectors[index] = result[position] as Float32Array;
        });
      }
      return vectors;
    },
  };
}
