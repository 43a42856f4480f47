import { MembusError } from '@membus/contracts';
import { getTracer, type Logger, withSpan } from '@membus/telemetry';
import { type ApiKeyStore, authenticateApiKey } from '@membus/tenancy';
import { context as otelContext, propagation, SpanKind } from '@opentelemetry/api';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { type HttpError, httpError, unauthenticated } from './errors.ts';
import type { GatewayMetrics } from './metrics.ts';
import { openApiDocument } from './openapi.ts';
import type { Route, RouteContext } from './route.ts';
import { routes } from './routes.ts';
import type { TenantClients } from './tenant-clients.ts';

export interface GatewayOptions {
  keys: ApiKeyStore;
  clients: Pick<TenantClients, 'use'>;
  metrics?: GatewayMetrics;
  log?: Logger;
  /** Largest request body (bytes); a bigger one is answered 413. */
  bodyLimitBytes: number;
  timeouts: RouteContext['timeouts'];
  /** The version in the OpenAPI document. */
  version?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The tenant of the request's API key (set by the authentication hook). */
    tenant?: string;
    /** The error code answered, for the request metric. */
    errorCode?: string;
  }
}

const tracer = getTracer('@membus/gateway');

/** Paths answered without an API key. */
const PUBLIC_PATHS = new Set(['/healthz', '/openapi.json']);

/** The API key of a request: `Authorization: Bearer <key>` or `X-Api-Key: <key>`. */
function apiKeyOf(request: FastifyRequest): string | undefined {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match?.[1];
  }
  const header = request.headers['x-api-key'];
  return typeof header === 'string' ? header : undefined;
}

function send(reply: FastifyReply, error: HttpError): FastifyReply {
  return reply.code(error.status).headers(error.headers).send(error.body);
}

/**
 * The HTTP API as a Fastify app (not listening): authentication by API key, every route of
 * `routes` acting through the key's tenant's own client, errors as `{ error }` with the
 * contract's codes, `/openapi.json` and `/healthz`.
 */
export async function buildGateway(options: GatewayOptions): Promise<FastifyInstance> {
  const app = Fastify({
    bodyLimit: options.bodyLimitBytes,
    logger: false,
    // `__proto__` / `constructor` keys in a body are refused (400), never merged.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // Answered below with the contract's error body instead of Fastify's.
    return503OnClosing: false,
    routerOptions: { ignoreTrailingSlash: true },
  });
  // JSON only: a text/plain body is 415, not a string handed to a route.
  app.removeContentTypeParser('text/plain');
  const document = openApiDocument(routes, { version: options.version ?? '1.0.0' });

  // While closing, in-flight requests finish and new ones are told to retry elsewhere.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });

  app.addHook('onRequest', async (request, reply) => {
    if (closing) {
      const answer = httpError(new MembusError('UNAVAILABLE', 'the gateway is shutting down'));
      request.errorCode = answer.body.error.code;
      return send(reply, answer);
    }
    if (PUBLIC_PATHS.has(request.routeOptions.url ?? '')) return;
    const key = apiKeyOf(request);
    const tenant = key === undefined ? undefined : await authenticateApiKey(options.keys, key);
    if (tenant === undefined) {
      request.errorCode = 'UNAUTHENTICATED';
      return send(reply, unauthenticated);
    }
    request.tenant = tenant;
  });

  app.addHook('onResponse', async (request, reply) => {
    options.metrics?.request({
      route: request.routeOptions.url ?? 'unmatched',
      method: request.method,
      status: reply.statusCode,
      code: request.errorCode ?? '',
      seconds: reply.elapsedTime / 1000,
    });
  });

  app.setErrorHandler(async (error, request, reply) => {
    const answer = httpError(error);
    request.errorCode = answer.body.error.code;
    if (answer.status >= 500)
      options.log?.warn('request failed', {
        route: request.routeOptions.url,
        code: answer.body.error.code,
        error,
      });
    return send(reply, answer);
  });

  app.setNotFoundHandler(async (request, reply) => {
    request.errorCode = 'NOT_FOUND';
    return reply.code(404).send({
      error: {
        code: 'NOT_FOUND',
        message: `no route ${request.method} ${request.url.split('?')[0]}`,
        retryable: false,
      },
    });
  });

  app.get('/healthz', async () => ({ status: 'ok', service: 'gateway' }));
  app.get('/openapi.json', async () => document);

  for (const route of routes) {
    app.route({
      method: route.method,
      // OpenAPI's `{id}` is Fastify's `:id`.
      url: route.path.replace(/\{(\w+)\}/g, ':$1'),
      handler: (request, reply) => handle(route, request, reply, options),
    });
  }
  return app;
}

async function handle(
  route: Route,
  request: FastifyRequest,
  reply: FastifyReply,
  options: GatewayOptions,
): Promise<unknown> {
  const tenant = request.tenant as string;
  const parent = propagation.extract(otelContext.active(), request.headers);
  const answer = await withSpan(
    tracer,
    `${route.method} ${route.path}`,
    {
      kind: SpanKind.SERVER,
      parent,
      attributes: {
        'http.request.method': route.method,
        'http.route': route.path,
        'membus.operation': route.operation,
        'membus.tenant': tenant,
      },
    },
    () =>
      options.clients.use(tenant, (client) =>
        route.handle({
          tenant,
          client,
          body: request.body,
          params: request.params as Record<string, string>,
          query: queryOf(request),
          timeouts: options.timeouts,
        }),
      ),
  );
  return reply.code(answer.status ?? route.status).send(answer.body);
}

/** Query values as strings; a repeated one (`?tag=a&tag=b`) as its values comma-joined. */
function queryOf(request: FastifyRequest): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries((request.query ?? {}) as Record<string, unknown>).map(([name, value]) => [
      name,
      Array.isArray(value) ? value.join(',') : typeof value === 'string' ? value : undefined,
    ]),
  );
}
