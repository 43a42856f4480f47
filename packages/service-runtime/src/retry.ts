import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryOptions {
  /** Most calls, the first one included (1: no retry). */
  attempts: number;
  /** First backoff delay (ms), doubled per attempt, with full jitter. */
  baseMs: number;
  /** Longest single wait (ms), also the cap of a server's Retry-After; 30 s unless told. */
  maxMs?: number;
  /** Whether a failure is worth another call (transient: network, timeout, 429, 5xx). */
  retryable: (error: unknown) => boolean;
  /** The wait a server asked for (Retry-After), in ms; it replaces the backoff when given. */
  retryAfterMs?: (error: unknown) => number | undefined;
  /** Called before each wait (for logs and metrics). */
  onRetry?: (retry: { attempt: number; delayMs: number; error: unknown }) => void;
  /** The error thrown when a failure is final (not retryable, or the attempts ran out). */
  giveUp: (error: unknown, outcome: { attempts: number; retryable: boolean }) => unknown;
  /** Aborts the wait between attempts. */
  signal?: AbortSignal;
}

/**
 * Calls `call` until it succeeds, a failure is not retryable, or `attempts` calls failed; waits
 * between attempts as the server asked (Retry-After) or with capped exponential backoff and full
 * jitter. The one retry loop of the provider, index and summariser adapters.
 */
export async function retry<T>(
  call: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call(attempt);
    } catch (error) {
      const retryable = options.retryable(error);
      if (!retryable || attempt >= options.attempts)
        throw options.giveUp(error, { attempts: attempt, retryable });
      const delayMs = retryDelayMs(attempt, options, options.retryAfterMs?.(error));
      options.onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs, undefined, options.signal ? { signal: options.signal } : {});
    }
  }
}

/** The wait after failed attempt `attempt`: Retry-After when given, else full-jitter backoff. */
export function retryDelayMs(
  attempt: number,
  policy: { baseMs: number; maxMs?: number },
  retryAfterMs?: number,
): number {
  const maxMs = policy.maxMs ?? 30_000;
  const backoff = Math.random() * Math.min(maxMs, policy.baseMs * 2 ** (attempt - 1));
  return Math.round(Math.min(maxMs, retryAfterMs ?? backoff));
}

/** `retry-after-ms` (OpenAI), else `retry-after` in seconds or as an HTTP date (RFC 9110). */
export function parseRetryAfter(
  headers: { get(name: string): string | null } | undefined,
  now = Date.now(),
): number | undefined {
  if (!headers) return undefined;
  const milliseconds = Number.parseFloat(headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(milliseconds) && milliseconds >= 0) return milliseconds;
  const value = headers.get('retry-after');
  if (!value) return undefined;
  const seconds = Number.parseFloat(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

/**
 * HTTP statuses worth another call: 408 (request timeout), 409 (a lock or conflict that may
 * clear), 429 (rate limited) and every 5xx; what the openai SDK itself retries.
 */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** A failure's message, for the error a caller gives up with. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
