import { MembusError } from '@membus/contracts';
import { parseRetryAfter, retry } from '@membus/service-runtime';
import OpenAI, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from 'openai';
import { type EmbeddingProvider, embeddingProvider } from '../ports/embedding-provider.ts';

export const OPENAI_DEFAULT_MODEL = 'text-embedding-3-small';
/** OpenAI accepts 2,048 inputs per request; self-hosted servers usually far fewer. */
export const OPENAI_MAX_BATCH = 2048;
export const COMPATIBLE_DEFAULT_MAX_BATCH = 256;

/** Native dimensions of OpenAI's embedding models (the default when none is configured). */
const KNOWN_DIMENSIONS: Readonly<Record<string, number>> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
};

/** USD per 1M input tokens, OpenAI list prices; other models cost 0 unless configured. */
const KNOWN_PRICES: Readonly<Record<string, number>> = {
  'text-embedding-3-small': 0.02,
  'text-embedding-3-large': 0.13,
  'text-embedding-ada-002': 0.1,
};

export function defaultOpenAIDimension(model: string): number | undefined {
  return KNOWN_DIMENSIONS[model];
}

export function defaultPricePerMillionTokens(model: string): number {
  return KNOWN_PRICES[model] ?? 0;
}

/** True for OpenAI's own API (no base URL, or api.openai.com). */
export function isOpenAIHosted(baseURL: string | undefined): boolean {
  if (baseURL === undefined) return true;
  try {
    return new URL(baseURL).hostname === 'api.openai.com';
  } catch {
    return false;
  }
}

export interface OpenAIEmbeddingProviderOptions {
  /** API key; self-hosted servers often take any string. */
  apiKey?: string;
  /** e.g. `http://127.0.0.1:11434/v1` (Ollama); OpenAI's API unless told. */
  baseURL?: string;
  /** Model id; text-embedding-3-small unless told. */
  model?: string;
  /** Vector length; the model's native length for OpenAI models. Required for others. */
  dimension?: number;
  /**
   * Send `dimensions` in the request (only text-embedding-3 models and some servers accept
   * it); true for text-embedding-3 models unless told.
   */
  sendDimensions?: boolean;
  /** Most texts per request; 2,048 for OpenAI, 256 for other servers unless told. */
  maxBatch?: number;
  /** Per-request timeout; 30 s unless told. */
  timeoutMs?: number;
  /** Attempts per embed call on 408/409/429/5xx, timeouts and network errors; 5 unless told. */
  maxAttempts?: number;
  /** First backoff delay (doubled per attempt, full jitter); 500 ms unless told. */
  retryBaseMs?: number;
  /** Longest single wait, also caps Retry-After; 30 s unless told. */
  retryMaxMs?: number;
  /** USD per 1M input tokens for the cost estimate; OpenAI's list price for its models. */
  pricePerMillionTokens?: number;
  /** Called once per successful request with the tokens it used and their estimated cost. */
  onUsage?: (usage: { tokens: number; costUsd: number; model: string }) => void;
  /** Called before each retry. */
  onRetry?: (retry: { attempt: number; delayMs: number; reason: string }) => void;
}

/**
 * Embeddings from any server speaking OpenAI's `/embeddings` protocol: OpenAI, Azure
 * OpenAI (its v1 endpoint), Ollama, vLLM, LM Studio, text-embeddings-inference.
 *
 * Retries transient failures itself (the SDK's own retries are off, so attempts, delays and
 * metrics are ours), honouring `retry-after-ms` / `retry-after`. When the attempts run out it
 * throws a retryable EMBEDDING_FAILED: the store consumer naks the message and it waits in
 * JetStream until the provider is back. Any other 4xx is not retryable.
 */
export function createOpenAIEmbeddingProvider(
  options: OpenAIEmbeddingProviderOptions = {},
): EmbeddingProvider {
  const model = options.model ?? OPENAI_DEFAULT_MODEL;
  const dimension = options.dimension ?? defaultOpenAIDimension(model);
  if (dimension === undefined || !Number.isInteger(dimension) || dimension < 1) {
    throw new MembusError(
      'INVALID_MESSAGE',
      `the dimension of model ${model} is unknown: set EMBEDDING_DIMENSION`,
      { details: { model } },
    );
  }
  const maxBatch =
    options.maxBatch ??
    (isOpenAIHosted(options.baseURL) ? OPENAI_MAX_BATCH : COMPATIBLE_DEFAULT_MAX_BATCH);
  const sendDimensions = options.sendDimensions ?? model.startsWith('text-embedding-3');
  const maxAttempts = options.maxAttempts ?? 5;
  const retryBaseMs = options.retryBaseMs ?? 500;
  const retryMaxMs = options.retryMaxMs ?? 30_000;
  const price = options.pricePerMillionTokens ?? defaultPricePerMillionTokens(model);
  const client = new OpenAI({
    apiKey: options.apiKey ?? 'unused',
    ...(options.baseURL !== undefined ? { baseURL: options.baseURL } : {}),
    timeout: options.timeoutMs ?? 30_000,
    maxRetries: 0,
  });
  async function request(texts: readonly string[], signal: AbortSignal | undefined) {
    return client.embeddings.create(
      {
        model,
        input: [...texts],
        encoding_format: 'float',
        ...(sendDimensions ? { dimensions: dimension } : {}),
      },
      signal === undefined ? {} : { signal },
    );
  }

  return embeddingProvider(
    { name: 'openai', model, dimension, maxBatch, remote: true },
    async (texts, embedOptions) => {
      if (texts.length === 0) return [];
      const response = await retry(() => request(texts, embedOptions.signal), {
        attempts: maxAttempts,
        baseMs: retryBaseMs,
        maxMs: retryMaxMs,
        retryable: (error) => classify(error).retryable,
        retryAfterMs: (error) => classify(error).retryAfterMs,
        onRetry: ({ attempt, delayMs, error }) =>
          options.onRetry?.({ attempt, delayMs, reason: classify(error).reason }),
        giveUp: (error, { attempts, retryable }) => {
          const failure = classify(error);
          return new MembusError(
            'EMBEDDING_FAILED',
            `embedding provider ${failure.reason}${retryable ? ` after ${attempts} attempts` : ''}: ${messageOf(error)}`,
            {
              cause: error,
              retryable,
              details: {
                provider: 'openai',
                model,
                attempts,
                ...(failure.status !== undefined ? { status: failure.status } : {}),
              },
            },
          );
        },
        ...(embedOptions.signal ? { signal: embedOptions.signal } : {}),
      });
      const vectors = toVectors(response.data, texts.length, dimension, model);
      const tokens = response.usage?.total_tokens ?? response.usage?.prompt_tokens ?? 0;
      options.onUsage?.({ tokens, costUsd: (tokens * price) / 1_000_000, model });
      return vectors;
    },
  );
}

interface Failure {
  retryable: boolean;
  reason: string;
  status?: number;
  retryAfterMs?: number;
}

function classify(error: unknown): Failure {
  if (error instanceof APIUserAbortError) return { retryable: false, reason: 'call aborted' };
  if (error instanceof APIConnectionError) {
    return {
      retryable: true,
      reason: error instanceof APIConnectionTimeoutError ? 'timed out' : 'unreachable',
    };
  }
  if (error instanceof APIError && typeof error.status === 'number') {
    const status = error.status;
    const retryable = status === 408 || status === 409 || status === 429 || status >= 500;
    const retryAfterMs = retryable ? parseRetryAfter(error.headers) : undefined;
    return {
      retryable,
      reason: status === 429 ? 'rate limited' : `answered ${status}`,
      status,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    };
  }
  return { retryable: false, reason: 'failed' };
}

function toVectors(
  data: readonly { index: number; embedding: number[] | string }[],
  count: number,
  dimension: number,
  model: string,
): Float32Array[] {
  const vectors: (Float32Array | undefined)[] = new Array(count);
  for (const item of data) {
    const raw =
      typeof item.embedding === 'string'
        ? fromBase64(item.embedding)
        : Float32Array.from(item.embedding);
    if (raw.length !== dimension) {
      throw new MembusError(
        'EMBEDDING_FAILED',
        `model ${model} returned ${raw.length} dimensions; configured ${dimension} (EMBEDDING_DIMENSION)`,
        { retryable: false, details: { expected: dimension, actual: raw.length, model } },
      );
    }
    if (item.index >= 0 && item.index < count) vectors[item.index] = normalise(raw);
  }
  if (data.length !== count || vectors.some((vector) => vector === undefined)) {
    throw new MembusError(
      'EMBEDDING_FAILED',
      `embedding provider returned ${data.length} vectors for ${count} texts`,
      { retryable: true, details: { expected: count, actual: data.length } },
    );
  }
  return vectors as Float32Array[];
}

function fromBase64(encoded: string): Float32Array {
  const bytes = Buffer.from(encoded, 'base64');
  return new Float32Array(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
  );
}

function normalise(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const value of vector) sum += value * value;
  const norm = Math.sqrt(sum);
  if (!Number.isFinite(norm) || norm === 0) {
    throw new MembusError('EMBEDDING_FAILED', 'embedding provider returned a zero vector', {
      retryable: false,
    });
  }
  for (let index = 0; index < vector.length; index++)
    vector[index] = (vector[index] as number) / norm;
  return vector;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
