import {
  type ErrorBody,
  ErrorReplySchema,
  errorFromBody,
  MembusError,
  tenantOf,
} from '@membus/contracts';
import {
  headers as createHeaders,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  NoRespondersError,
  PermissionViolationError,
  RequestError,
  type Subscription,
  TimeoutError,
} from '@nats-io/nats-core';
import { context, SpanKind, trace } from '@opentelemetry/api';
import type { z } from 'zod';
import { decode, encode } from './codec.ts';
import { type BusObserver, subjectBase } from './observer.ts';
import { endSpan, extractTraceContext, injectTraceContext, startMessagingSpan } from './tracing.ts';

export interface RequestContext {
  subject: string;
  /** From the subject's last token (tenant-scoped subjects only). */
  tenant: string;
  headers: MsgHdrs | undefined;
}

export interface ServeOptions<S extends z.ZodType, R> {
  /** Subject with a `*` tenant wildcard (e.g. `memory.query.*`) or a fixed subject. */
  subject: string;
  queue: string;
  schema: S;
  /** Whether the last subject token is the tenant. */
  tenantScoped: boolean;
  handler: (value: z.output<S>, context: RequestContext) => Promise<R>;
  /** Requests handled at once; more wait in the subscription (bounded by NATS slow-consumer limits). */
  maxConcurrent?: number;
  observer?: BusObserver;
  onError?: (error: MembusError, subject: string) => void;
}

export interface Service {
  /** Stops taking requests and waits for the ones in flight. */
  drain(): Promise<void>;
}

/**
 * Answers requests: decodes and validates once, takes the tenant from the subject, runs
 * the handler with bounded concurrency, and replies with the result or `{ error }`.
 */
export function serve<S extends z.ZodType, R>(
  nc: NatsConnection,
  options: ServeOptions<S, R>,
): Service {
  const maxConcurrent = options.maxConcurrent ?? 64;
  const subscription: Subscription = nc.subscribe(options.subject, { queue: options.queue });
  const inFlight = new Set<Promise<void>>();
  const base = subjectBase(options.subject, options.tenantScoped);

  const handle = async (message: Msg): Promise<void> => {
    const started = performance.now();
    const span = startMessagingSpan(undefined, {
      kind: SpanKind.SERVER,
      subject: message.subject,
      operation: 'process',
      parent: extractTraceContext(message.headers),
      consumerGroup: options.queue,
      bodySize: message.data.byteLength,
    });
    let errorBody: ErrorBody | undefined;
    const answerable = isReplySubject(message.reply);
    try {
      const reply = await context.with(trace.setSpan(context.active(), span), () => run(message));
      if (answerable) message.respond(encode(reply));
    } catch (thrown) {
      const error = MembusError.from(thrown);
      errorBody = error.toJSON();
      if (error.code === 'INTERNAL') options.onError?.(error, message.subject);
      if (answerable) message.respond(encode({ error: errorBody }));
    } finally {
      endSpan(span, errorBody);
      options.observer?.({
        subject: base,
        kind: 'request',
        outcome: errorBody ? 'error' : 'ok',
        ...(errorBody ? { code: errorBody.code } : {}),
        seconds: (performance.now() - started) / 1000,
      });
    }
  };

  const run = async (message: Msg): Promise<R> => {
    let tenant = '';
    if (options.tenantScoped) {
      const fromSubject = tenantOf(message.subject);
      if (!fromSubject)
        throw new MembusError(
          'INVALID_TENANT',
          `subject "${message.subject}" names no valid tenant`,
        );
      tenant = fromSubject;
    }
    const decoded = decode(options.schema, message.data);
    if (!decoded.ok) throw decoded.error;
    return options.handler(decoded.value, {
      subject: message.subject,
      tenant,
      headers: message.headers,
    });
  };

  const loop = (async () => {
    for await (const message of subscription) {
      const task = handle(message).finally(() => inFlight.delete(task));
      inFlight.add(task);
      if (inFlight.size >= maxConcurrent) await Promise.race(inFlight);
    }
  })();

  return {
    async drain() {
      await subscription.drain();
      await loop;
      await Promise.all(inFlight);
    },
  };
}

/**
 * Reply subjects a service answers on: a requester's inbox (`_INBOX.…`) or the reply the
 * server wrote for a request that came through a service import (`_R_.…`, routed back to the
 * requester's account). Any other reply subject (say `$JS.API.STREAM.PURGE.MEMORY_STORE` or
 * another tenant's `memory.store.<tenant>`) would make the service publish there with its own
 * rights, so the request is handled but never answered. With tenancy on, the server rewrites
 * every agent's reply subject anyway and the service user's permissions refuse such
 * subjects; this keeps a stack without accounts safe from the same forgery (decision 006).
 */
export function isReplySubject(reply: string | undefined): reply is string {
  return reply !== undefined && /^(?:_INBOX|_R_)\.[^\s*>]+$/.test(reply);
}

export interface RequestOptions {
  timeoutMs?: number;
  headers?: MsgHdrs;
}

/**
 * Sends a typed request and returns the typed reply; an `{ error }` reply is thrown as
 * MembusError, a timeout or missing responder as a retryable one.
 */
export async function request<S extends z.ZodType>(
  nc: NatsConnection,
  subject: string,
  payload: unknown,
  replySchema: S,
  options: RequestOptions = {},
): Promise<z.output<S>> {
  const headers = options.headers ?? createHeaders();
  const span = startMessagingSpan(undefined, {
    kind: SpanKind.CLIENT,
    subject,
    operation: 'send',
    operationName: 'request',
    parent: context.active(),
  });
  injectTraceContext(headers, trace.setSpan(context.active(), span));
  try {
    let reply: Msg;
    try {
      reply = await nc.request(subject, encode(payload), {
        timeout: options.timeoutMs ?? 5_000,
        headers,
      });
    } catch (error) {
      throw transportError(error, subject);
    }
    const decoded = decode(orErrorReply(replySchema), reply.data);
    if (!decoded.ok) {
      throw new MembusError(
        'INTERNAL',
        `unexpected reply on ${subject}: ${decoded.error.message}`,
        {
          cause: decoded.error,
        },
      );
    }
    const value = decoded.value as z.output<S> | z.output<typeof ErrorReplySchema>;
    if (isErrorReply(value)) throw errorFromBody(value.error);
    endSpan(span);
    return value;
  } catch (error) {
    const membusError = MembusError.from(error);
    endSpan(span, membusError);
    throw membusError;
  }
}

/** `schema.or(ErrorReplySchema)`, built once per reply schema (zod compiles it on first use). */
const withErrorReply = new WeakMap<z.ZodType, z.ZodType>();
function orErrorReply(schema: z.ZodType): z.ZodType {
  let union = withErrorReply.get(schema);
  if (union === undefined) {
    union = schema.or(ErrorReplySchema);
    withErrorReply.set(schema, union);
  }
  return union;
}

function isErrorReply(value: unknown): value is z.output<typeof ErrorReplySchema> {
  return typeof value === 'object' && value !== null && 'error' in value && !('v' in value);
}

/**
 * A NATS permissions violation anywhere in an error's cause chain, as a non-retryable
 * INVALID_TENANT: these credentials may not use that subject (e.g. another tenant's).
 */
export function permissionError(error: unknown, subject: string): MembusError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    if (current instanceof PermissionViolationError) {
      return new MembusError(
        'INVALID_TENANT',
        `not permitted to ${current.operation} on ${current.subject} (NATS permissions)`,
        { cause: error, details: { subject, operation: current.operation } },
      );
    }
    current = current.cause;
  }
  return undefined;
}

/** NATS client errors as MembusErrors. */
export function transportError(error: unknown, subject: string): MembusError {
  const denied = permissionError(error, subject);
  if (denied) return denied;
  const cause = error instanceof RequestError && error.cause ? error.cause : error;
  if (
    cause instanceof NoRespondersError ||
    (error instanceof RequestError && error.isNoResponders())
  ) {
    return new MembusError('UNAVAILABLE', `no service answers ${subject}`, { cause: error });
  }
  if (cause instanceof TimeoutError || error instanceof TimeoutError) {
    return new MembusError('TIMEOUT', `no reply on ${subject} in time`, { cause: error });
  }
  return new MembusError(
    'UNAVAILABLE',
    `request on ${subject} failed: ${(error as Error).message}`,
    { cause: error },
  );
}
