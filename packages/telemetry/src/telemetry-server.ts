import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** The outcome of one readiness check. */
export interface ReadinessCheck {
  /** Whether the dependency is usable right now. */
  ok: boolean;
  /** Why it is not (or any short note); shown in the `/readyz` body. */
  detail?: string;
}

/** What a service reports when `/readyz` is called. */
export interface ReadinessReport {
  /** An overall verdict besides the checks; the service is ready only if this is not `false` and every check is ok. */
  ready?: boolean;
  /** Named checks, e.g. `{ nats: { ok: true } }`. */
  checks: Readonly<Record<string, ReadinessCheck>>;
}

export interface TelemetryServerOptions {
  /** Service name, reported by `/healthz`. */
  service: string;
  /** Port to listen on; 0 picks a free one. */
  port: number;
  /** Bind address; default `0.0.0.0`. */
  host?: string;
  /** Registry served on `/metrics`. */
  registry: Registry;
  /** Called on every `/readyz`; without it the service is always ready. */
  readiness?: () => Promise<ReadinessReport> | ReadinessReport;
}

export interface TelemetryServer extends AsyncDisposable {
  /** The port actually bound. */
  readonly port: number;
  /** Base URL, e.g. `http://127.0.0.1:9464`. */
  readonly url: string;
  /** Stops listening and drops open connections. Safe to call twice. */
  close(): Promise<void>;
}

/** Body of `/readyz`. */
export interface ReadinessBody {
  ready: boolean;
  checks: Record<string, ReadinessCheck>;
}

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** Serves `GET /metrics`, `/healthz` and `/readyz`; anything else is 404. */
export async function startTelemetryServer(
  options: TelemetryServerOptions,
): Promise<TelemetryServer> {
  const host = options.host ?? '0.0.0.0';
  const routes: Readonly<Record<string, () => Promise<Reply>>> = {
    '/metrics': () => metricsReply(options.registry),
    '/healthz': async () => jsonReply(200, { status: 'ok', service: options.service }),
    '/readyz': () => readinessReply(options.readiness),
  };

  const server = createServer((request, response) => {
    void handle(routes, request, response);
  });
  server.listen(options.port, host);
  await once(server, 'listening');

  const address = server.address() as AddressInfo;
  const url = `http://${urlHost(address.address)}:${address.port}`;
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      // Keep-alive scrapers would otherwise hold close() open.
      server.closeAllConnections();
    });
    return closed;
  };
  return { port: address.port, url, close, [Symbol.asyncDispose]: close };
}

interface Reply {
  status: number;
  contentType: string;
  body: string;
}

async function handle(
  routes: Readonly<Record<string, () => Promise<Reply>>>,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
  let reply: Reply;
  if (!route) {
    reply = jsonReply(404, { error: 'not found' });
  } else if (request.method !== 'GET' && request.method !== 'HEAD') {
    reply = jsonReply(405, { error: 'method not allowed' });
    response.setHeader('allow', 'GET, HEAD');
  } else {
    try {
      reply = await route();
    } catch (error) {
      reply = jsonReply(500, { error: errorMessage(error) });
    }
  }
  response.writeHead(reply.status, {
    'content-type': reply.contentType,
    'content-length': Buffer.byteLength(reply.body),
    'cache-control': 'no-store',
  });
  response.end(request.method === 'HEAD' ? undefined : reply.body);
}

async function metricsReply(registry: Registry): Promise<Reply> {
  return { status: 200, contentType: registry.contentType, body: await registry.metrics() };
}

async function readinessReply(readiness: TelemetryServerOptions['readiness']): Promise<Reply> {
  let body: ReadinessBody;
  try {
    const report = readiness ? await readiness() : { checks: {} };
    const checks = { ...report.checks };
    const allOk = Object.values(checks).every((check) => check.ok);
    body = { ready: report.ready !== false && allOk, checks };
  } catch (error) {
    body = { ready: false, checks: { readiness: { ok: false, detail: errorMessage(error) } } };
  }
  return jsonReply(body.ready ? 200 : 503, body);
}

function jsonReply(status: number, value: unknown): Reply {
  return { status, contentType: JSON_CONTENT_TYPE, body: JSON.stringify(value) };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A URL host for a bound address; the unspecified addresses become loopback. */
function urlHost(address: string): string {
  if (address === '0.0.0.0') return '127.0.0.1';
  if (address === '::') return '[::1]';
  return address.includes(':') ? `[${address}]` : address;
}
