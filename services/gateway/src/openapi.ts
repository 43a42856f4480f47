import { ErrorCodes, Operations } from '@membus/contracts';
import { UNAUTHENTICATED } from './errors.ts';
import type { Route } from './route.ts';
import type { JsonSchema } from './schemas.ts';

/** The error body of every failure (the contract's `ErrorBody`, plus the gateway's 401 code). */
export const errorSchema: JsonSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string', enum: [...Object.keys(ErrorCodes), UNAUTHENTICATED] },
        message: { type: 'string' },
        retryable: { type: 'boolean' },
        details: { type: 'object', additionalProperties: {} },
      },
      required: ['code', 'message', 'retryable'],
      additionalProperties: false,
    },
  },
  required: ['error'],
  additionalProperties: false,
};

const errorDescriptions: Record<number, string> = {
  400: 'Invalid request (`INVALID_MESSAGE`, `INVALID_TENANT`, `DIMENSION_MISMATCH`).',
  401: 'No API key, or a malformed, unknown or revoked one (`UNAUTHENTICATED`).',
  404: 'Not found (also: an id of another tenant) (`NOT_FOUND`).',
  409: 'Conflict with an existing memory (`CONFLICT`).',
  413: 'A limit was exceeded: body size, batch size, text length (`LIMIT_EXCEEDED`).',
  500: 'Internal error (`INTERNAL`).',
  503: 'A service or backend is unavailable; retry after `Retry-After` seconds.',
  504: 'No answer in time (`TIMEOUT`); retryable.',
};

/** Component names of the shared error body and the schemas of each route. */
const ERROR = 'Error';

/**
 * The OpenAPI 3.1 document of the routes, generated: each route's request and response schemas
 * are the contract's (`operationJsonSchemas()`) as HTTP shapes them, in `components.schemas`
 * under `<operationId>Request` / `<operationId>Response`; `x-membus-operation` names the
 * operation a route serves.
 */
export function openApiDocument(
  routes: readonly Route[],
  options: { version: string; serverUrl?: string },
): JsonSchema {
  const schemas: Record<string, JsonSchema> = { [ERROR]: errorSchema };
  const paths: Record<string, Record<string, unknown>> = {};
  const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
  const errorResponse = (status: number) => ({
    description: errorDescriptions[status] ?? 'Error.',
    ...(status === 503
      ? { headers: { 'Retry-After': { schema: { type: 'integer' } } } }
      : status === 401
        ? { headers: { 'WWW-Authenticate': { schema: { type: 'string' } } } }
        : {}),
    content: { 'application/json': { schema: ref(ERROR) } },
  });
  for (const route of routes) {
    const operation = Operations[route.operation];
    schemas[`${route.operationId}Response`] = route.response;
    if (route.requestBody) schemas[`${route.operationId}Request`] = route.requestBody.schema;
    const statuses = [400, 401, ...(route.errors ?? []), 413, 500, 503, 504];
    const successStatuses =
      route.status === 202 && route.parameters?.some((p) => p.name === 'wait')
        ? [201, 202]
        : [route.status];
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, unknown>)[route.method.toLowerCase()] = {
      operationId: route.operationId,
      summary: route.summary,
      description: `Serves \`${operation.name}\` (${operation.description})`,
      'x-membus-operation': operation.name,
      ...(route.parameters ? { parameters: route.parameters } : {}),
      ...(route.requestBody
        ? {
            requestBody: {
              required: route.requestBody.required,
              content: { 'application/json': { schema: ref(`${route.operationId}Request`) } },
            },
          }
        : {}),
      responses: Object.fromEntries([
        ...successStatuses.map((status) => [
          String(status),
          {
            description: status === 202 ? 'Accepted (durable).' : 'Success.',
            content: { 'application/json': { schema: ref(`${route.operationId}Response`) } },
          },
        ]),
        ...[...new Set(statuses)].map((status) => [String(status), errorResponse(status)]),
      ]),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'membus HTTP API',
      version: options.version,
      description:
        'Memory for AI agents over HTTP. Every request acts for the tenant of its API key (`Authorization: Bearer mbk_…`); schemas are generated from the membus contract.',
    },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    security: [{ apiKey: [] }],
    paths,
    components: {
      schemas,
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key from `membus apikey create --tenant NAME`.',
        },
      },
    },
  };
}
