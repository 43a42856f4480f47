import { z } from 'zod';

/**
 * Stable error codes. `category` says whose fault it is; `retryable` whether the same
 * request may succeed later without change.
 */
export const ErrorCodes = {
  INVALID_MESSAGE: { category: 'user', retryable: false },
  INVALID_TENANT: { category: 'user', retryable: false },
  LIMIT_EXCEEDED: { category: 'user', retryable: false },
  NOT_FOUND: { category: 'user', retryable: false },
  CONFLICT: { category: 'user', retryable: false },
  DIMENSION_MISMATCH: { category: 'user', retryable: false },
  UNAVAILABLE: { category: 'system', retryable: true },
  TIMEOUT: { category: 'system', retryable: true },
  INTERNAL: { category: 'system', retryable: false },
  EMBEDDING_FAILED: { category: 'third-party', retryable: true },
  BACKEND_FAILED: { category: 'third-party', retryable: true },
} as const satisfies Record<string, { category: ErrorCategory; retryable: boolean }>;

export type ErrorCategory = 'user' | 'system' | 'third-party';
export type ErrorCode = keyof typeof ErrorCodes;
export const errorCodeValues = Object.keys(ErrorCodes) as [ErrorCode, ...ErrorCode[]];

export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };

/** The one error type of membus, on both sides of the wire. */
export class MembusError extends Error {
  override readonly name = 'MembusError';
  readonly code: ErrorCode;
  readonly category: ErrorCategory;
  readonly retryable: boolean;
  readonly details: Record<string, JsonValue> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: Record<string, JsonValue>; cause?: unknown; retryable?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.category = ErrorCodes[code].category;
    this.retryable = options.retryable ?? ErrorCodes[code].retryable;
    this.details = options.details;
  }

  /** The wire form: never a stack trace. */
  toJSON(): ErrorBody {
    return {
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      ...(this.details ? { details: this.details } : {}),
    };
  }

  static is(value: unknown): value is MembusError {
    return value instanceof MembusError;
  }

  /** Wraps anything thrown into a MembusError (unknown failures are INTERNAL). */
  static from(value: unknown): MembusError {
    if (value instanceof MembusError) return value;
    const message = value instanceof Error ? value.message : String(value);
    return new MembusError('INTERNAL', message, { cause: value });
  }
}

const jsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(jsonValue),
    z.record(z.string(), jsonValue),
  ]),
);

export const ErrorBodySchema = z.object({
  /** Stable UPPER_SNAKE error code. */
  code: z.enum(errorCodeValues),
  /** Human-readable message; never a stack trace. */
  message: z.string(),
  /** Whether the same request may succeed later. */
  retryable: z.boolean(),
  /** JSON-only context, e.g. the offending field and limit. */
  details: z.record(z.string(), jsonValue).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** A request/reply error answer: `{ error: {...} }`. */
export const ErrorReplySchema = z.object({ error: ErrorBodySchema });
export type ErrorReply = z.infer<typeof ErrorReplySchema>;

export function errorFromBody(body: ErrorBody): MembusError {
  return new MembusError(body.code, body.message, {
    retryable: body.retryable,
    ...(body.details ? { details: body.details } : {}),
  });
}
