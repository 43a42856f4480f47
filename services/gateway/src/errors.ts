import { type ErrorCode, MembusError } from '@membus/contracts';

/** The gateway's own code for a missing, malformed, unknown or revoked API key (401). */
export const UNAUTHENTICATED = 'UNAUTHENTICATED';

/** The HTTP status of each contract error code (one mapping, decision 007). */
export const statusOfCode: Readonly<Record<ErrorCode, number>> = {
  INVALID_MESSAGE: 400,
  INVALID_TENANT: 400,
  DIMENSION_MISMATCH: 400,
  LIMIT_EXCEEDED: 413,
  NOT_FOUND: 404,
  CONFLICT: 409,
  UNAVAILABLE: 503,
  EMBEDDING_FAILED: 503,
  BACKEND_FAILED: 503,
  TIMEOUT: 504,
  INTERNAL: 500,
};

/** Seconds a client should wait before retrying a 503. */
export const RETRY_AFTER_SECONDS = 1;

/** The body of every error answer: `{ error: { code, message, retryable, details? } }`. */
export interface HttpError {
  status: number;
  body: {
    error: { code: string; message: string; retryable: boolean; details?: unknown };
  };
  headers: Record<string, string>;
}

/** An HTTP error from anything thrown: a MembusError by its code, a Fastify error by status. */
export function httpError(error: unknown): HttpError {
  if (MembusError.is(error)) {
    const status = statusOfCode[error.code];
    return {
      status,
      body: { error: error.toJSON() },
      headers: status === 503 ? { 'retry-after': String(RETRY_AFTER_SECONDS) } : {},
    };
  }
  const statusCode =
    typeof error === 'object' && error !== null ? Reflect.get(error, 'statusCode') : undefined;
  const message = error instanceof Error ? error.message : String(error);
  if (statusCode === 413)
    return httpError(new MembusError('LIMIT_EXCEEDED', `request body too large: ${message}`));
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    // Fastify's own refusals: malformed JSON, unsupported content type, a poisoned prototype.
    return {
      status: statusCode,
      body: { error: { code: 'INVALID_MESSAGE', message, retryable: false } },
      headers: {},
    };
  }
  return httpError(new MembusError('INTERNAL', 'internal error'));
}

/** The one 401 answer: the same for a missing, malformed, unknown or revoked key. */
export const unauthenticated: HttpError = {
  status: 401,
  body: {
    error: {
      code: UNAUTHENTICATED,
      message: 'a valid API key is required (Authorization: Bearer mbk_…)',
      retryable: false,
    },
  },
  headers: { 'www-authenticate': 'Bearer realm="membus"' },
};
