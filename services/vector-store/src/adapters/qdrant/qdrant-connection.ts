import { MembusError } from '@membus/contracts';
import { retry } from '@membus/service-runtime';
import {
  QdrantClient,
  QdrantClientResourceExhaustedError,
  QdrantClientTimeoutError,
  type Schemas,
} from '@qdrant/js-client-rest';

/** Points per read request (retrieve, scroll, delete). */
export const READ_CHUNK = 500;

/** How to reach Qdrant and how hard to retry. */
export interface QdrantConnectionOptions {
  /** e.g. `http://127.0.0.1:6333`. */
  url: string;
  apiKey?: string;
  /** Collection name; see `qdrantCollectionName`. */
  collection: string;
  /** Per-request timeout; 10 s unless told. */
  timeoutMs?: number;
  /** Attempts per call on transient failures (network, timeout, 429, 5xx); 4 unless told. */
  attempts?: number;
  /** First retry delay, doubled per attempt, with full jitter; 200 ms unless told. */
  retryBaseMs?: number;
  /** Called before each retry (for logs and metrics). */
  onRetry?: (info: { operation: string; attempt: number; delayMs: number; error: unknown }) => void;
}

/** The REST client of one collection, every call through bounded retries and typed errors. */
export class QdrantConnection {
  readonly client: QdrantClient;
  readonly collection: string;
  readonly url: string;
  readonly #attempts: number;
  readonly #retryBaseMs: number;
  readonly #onRetry: QdrantConnectionOptions['onRetry'];

  constructor(options: QdrantConnectionOptions) {
    this.collection = options.collection;
    this.#attempts = options.attempts ?? 4;
    this.#retryBaseMs = options.retryBaseMs ?? 200;
    this.#onRetry = options.onRetry;
    this.url = options.url;
    this.client = new QdrantClient({
      url: options.url,
      ...(options.apiKey !== undefined ? { apiKey: options.apiKey } : {}),
      timeout: options.timeoutMs ?? 10_000,
      checkCompatibility: false,
    });
  }

  /** One client call with bounded retries on transient failures; typed errors otherwise. */
  async call<T>(operation: string, call: () => Promise<T>): Promise<T> {
    return retry(call, {
      attempts: this.#attempts,
      baseMs: this.#retryBaseMs,
      retryable: (error) => !MembusError.is(error) && isTransientQdrantError(error),
      retryAfterMs: (error) =>
        error instanceof QdrantClientResourceExhaustedError && Number.isFinite(error.retry_after)
          ? error.retry_after * 1000
          : undefined,
      onRetry: ({ attempt, delayMs, error }) =>
        this.#onRetry?.({ operation, attempt, delayMs, error }),
      giveUp: (error, { attempts, retryable }) =>
        MembusError.is(error)
          ? error
          : new MembusError('BACKEND_FAILED', `Qdrant ${operation} failed: ${messageOf(error)}`, {
              cause: error,
              retryable,
              details: { backend: 'qdrant', operation, attempts },
            }),
    });
  }

  /** Points by id, in chunks. */
  async retrieve(
    pointIds: readonly string[],
    withPayload: boolean | string[],
  ): Promise<Schemas['Record'][]> {
    const found: Schemas['Record'][] = [];
    for (let start = 0; start < pointIds.length; start += READ_CHUNK) {
      const ids = pointIds.slice(start, start + READ_CHUNK);
      found.push(
        ...(await this.call('retrieve', () =>
          this.client.retrieve(this.collection, {
            ids,
            with_payload: withPayload,
            with_vector: false,
          }),
        )),
      );
    }
    return found;
  }
}

export function statusOf(error: unknown): number | undefined {
  if (error !== null && typeof error === 'object' && 'status' in error) {
    const status = (error as { status: unknown }).status;
    if (typeof status === 'number') return status;
  }
  const match = /Unexpected Response: (\d{3})/.exec(messageOf(error));
  return match ? Number(match[1]) : undefined;
}

/** Network failures, timeouts, 429 and 5xx (except 501) are worth retrying. */
export function isTransientQdrantError(error: unknown): boolean {
  if (error instanceof QdrantClientTimeoutError) return true;
  if (error instanceof QdrantClientResourceExhaustedError) return true;
  const status = statusOf(error);
  if (status !== undefined)
    return status === 408 || status === 429 || (status >= 500 && status !== 501);
  // fetch() rejects with a TypeError whose cause is the socket error.
  return error instanceof TypeError || (error instanceof Error && error.name === 'AbortError');
}

export function messageOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const first = message.split('\n')[0] ?? message;
  // fetch() says only "fetch failed"; the socket error is its cause.
  const cause =
    error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  return typeof cause?.code === 'string' ? `${first} (${cause.code})` : first;
}
