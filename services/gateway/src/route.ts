import { type Body, call, type TenantOf, validate } from '@membus/bus';
import type { MemoryClient } from '@membus/client';
import {
  MembusError,
  type OperationKey,
  Operations,
  type RequestOperation,
} from '@membus/contracts';
import { type JsonSchema, replySchema, requestSchema } from './schemas.ts';

// What an HTTP route is, and the one generic route: a POST whose JSON body is the operation's
// request as it is. Routes that shape a request from the path or query are in memory-routes.ts
// and task-routes.ts;
// the table of every route is routes.ts.

/** What a route handler works with: the caller's tenant and its own client, the request. */
export interface RouteContext {
  /** The tenant the API key belongs to. */
  tenant: string;
  /** A client connected as that tenant's agent user. */
  client: MemoryClient;
  body: unknown;
  params: Record<string, string>;
  query: Record<string, string | undefined>;
  timeouts: { requestMs: number; queryableMs: number; lifecycleMs: number };
}

/** What a handler answers: a status (the route's `status` when absent) and a JSON body. */
export interface RouteReply {
  status?: number;
  body: unknown;
}

/** A query or path parameter, as OpenAPI describes it. */
export interface Parameter {
  name: string;
  in: 'path' | 'query';
  required?: boolean;
  description: string;
  schema: JsonSchema;
}

/** One HTTP route: which operation it serves, its schemas (from the contract), its handler. */
export interface Route {
  operationId: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** OpenAPI path template, e.g. `/v1/memories/{id}`. */
  path: string;
  /** The contract operation it serves (`x-membus-operation` in the document). */
  operation: OperationKey;
  summary: string;
  /** The success status. */
  status: number;
  parameters?: Parameter[];
  /** The request body (absent: the route takes none). */
  requestBody?: { schema: JsonSchema; required: boolean };
  /** The success body. */
  response: JsonSchema;
  /** Statuses besides 400/401/413/503/504 this route answers with an error body. */
  errors?: number[];
  handle(context: RouteContext): Promise<RouteReply>;
}

/** A UUID, as the HTTP schemas write it. */
export const uuidSchema = { type: 'string', format: 'uuid' } as const;

/** A query parameter (a string unless `schema` says otherwise). */
export function queryParameter(
  name: string,
  description: string,
  options: { required?: boolean; schema?: JsonSchema } = {},
): Parameter {
  return {
    name,
    in: 'query',
    ...(options.required ? { required: true } : {}),
    description,
    schema: options.schema ?? { type: 'string' },
  };
}

/** Drops undefined values: an absent query parameter is an absent field, not `undefined`. */
export function defined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}

/** An object body, or `{}` for none; anything else is refused. */
export function objectBody(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body))
    throw new MembusError('INVALID_MESSAGE', 'the request body must be a JSON object');
  return body as Record<string, unknown>;
}

/** Leaves out the transport's `v` of a reply (the HTTP document is versioned by its path). */
function withoutVersion(reply: object): Record<string, unknown> {
  const { v: _v, ...rest } = reply as Record<string, unknown>;
  return rest;
}

/**
 * Calls a request operation as the caller's tenant: the body validated by the operation's
 * request schema (a 400 names the fields), the reply by its reply schema.
 */
export async function callOperation<O extends RequestOperation>(
  context: RouteContext,
  operation: O,
  body: Record<string, unknown>,
  timeoutMs = context.timeouts.requestMs,
): Promise<Record<string, unknown>> {
  const checked = validate(operation.request, { ...body, v: 1 });
  if (!checked.ok) throw checked.error;
  const reply = await call(
    context.client.connection,
    operation,
    context.tenant as TenantOf<O>,
    { ...body } as Body<O['request']>,
    { timeoutMs },
  );
  return withoutVersion(reply as object);
}

/** The keys of the request/reply operations. */
export type RequestOperationKey = {
  [K in OperationKey]: (typeof Operations)[K] extends RequestOperation ? K : never;
}[OperationKey];

/** How a forwarded route takes its body and how long it waits. */
export interface ForwardOptions {
  /** Whether the request must carry a body (else an absent body is `{}`). */
  body: 'required' | 'optional';
  /** `lifecycle`: the longer timeout of sweeps and batch writes (default: a request's). */
  timeout?: 'lifecycle';
}

/**
 * A `POST` route that forwards its JSON body to a request operation unchanged and answers 200
 * with the reply: the contract's request and reply schemas are the route's.
 */
export function forward(
  operationId: string,
  path: string,
  key: RequestOperationKey,
  options: ForwardOptions,
  summary: string,
): Route {
  return {
    operationId,
    method: 'POST',
    path,
    operation: key,
    summary,
    status: 200,
    requestBody: { schema: requestSchema(key), required: options.body === 'required' },
    response: replySchema(key),
    handle: async (context) => ({
      body: await callOperation(
        context,
        Operations[key] as RequestOperation,
        objectBody(context.body),
        options.timeout === 'lifecycle' ? context.timeouts.lifecycleMs : context.timeouts.requestMs,
      ),
    }),
  };
}
