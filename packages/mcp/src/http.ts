/**
 * MCP over streamable HTTP (the SDK's StreamableHTTPServerTransport), stateless: each POST to
 * `/mcp` gets a transport and a server of its own over the one tenant client.
 */
import { hash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MemoryClient } from '@membus/client';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createMcpServer } from './server.ts';

/** The path MCP clients post to. */
export const MCP_PATH = '/mcp';
/** The largest request body read (a store's text is at most 32,000 characters). */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface HttpOptions {
  /** Address to listen on; default 127.0.0.1. Any other needs `token`. */
  host?: string;
  /** Port; 0 picks a free one. */
  port: number;
  /** Bearer token every request must carry (required off loopback). */
  token?: string;
  /**
   * Host headers accepted (`name:port`), against DNS rebinding. Default on a loopback bind:
   * the loopback names with the port; elsewhere: any (the token guards it).
   */
  allowedHosts?: readonly string[];
  /** Origin headers accepted when one is sent. Default on a loopback bind: the loopback origins. */
  allowedOrigins?: readonly string[];
  /** Where failures of single requests are told (default: nowhere). */
  onError?: (error: Error) => void;
}

export interface HttpMcpServer extends AsyncDisposable {
  /** `http://host:port/mcp`. */
  url: string;
  port: number;
  close(): Promise<void>;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** Whether `host` only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Compared as digests: equal lengths, so the time tells nothing of the token, its length included. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => hash('sha256', value, 'buffer');
  return timingSafeEqual(digest(given), digest(expected));
}

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

const rpcError = (code: number, message: string) => ({
  jsonrpc: '2.0',
  error: { code, message },
  id: null,
});

/** The body as JSON, or the response already sent (too large, not JSON). */
async function readJson(
  request: IncomingMessage,
  response: ServerResponse,
): Promise<{ ok: true; body: unknown } | { ok: false }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      sendJson(response, 413, rpcError(-32600, `request body over ${MAX_BODY_BYTES} bytes`), {
        connection: 'close',
      });
      request.destroy();
      return { ok: false };
    }
    chunks.push(chunk as Buffer);
  }
  try {
    return { ok: true, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
  } catch {
    sendJson(response, 400, rpcError(-32700, 'request body is not JSON'));
    return { ok: false };
  }
}

/** Starts the HTTP server; every tool call goes through `client`. */
export async function startHttpServer(
  client: MemoryClient,
  options: HttpOptions,
): Promise<HttpMcpServer> {
  const host = options.host ?? '127.0.0.1';
  const loopback = isLoopback(host);
  if (!loopback && !options.token)
    throw new Error(
      `listening on ${host} (not loopback) needs a bearer token (--token or MEMBUS_MCP_TOKEN)`,
    );
  const token = options.token;
  // Filled in once the port is known (port 0 picks one).
  let allowedHosts: string[] = [];
  let allowedOrigins: string[] = [];

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path !== MCP_PATH) {
      sendJson(response, 404, rpcError(-32601, `not found: MCP is served at ${MCP_PATH}`));
      return;
    }
    if (token !== undefined) {
      const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
      if (!match?.[1] || !sameSecret(match[1], token)) {
        sendJson(response, 401, rpcError(-32001, 'missing or wrong bearer token'), {
          'www-authenticate': 'Bearer realm="membus-mcp"',
        });
        return;
      }
    }
    if (request.method !== 'POST') {
      // Stateless: no server-initiated stream (GET) and no session to end (DELETE).
      sendJson(response, 405, rpcError(-32000, 'method not allowed: POST JSON-RPC'), {
        allow: 'POST',
      });
      return;
    }
    const body = await readJson(request, response);
    if (!body.ok) return;
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
      enableDnsRebindingProtection: allowedHosts.length > 0 || allowedOrigins.length > 0,
      allowedHosts,
      allowedOrigins,
    });
    const server = createMcpServer(client);
    response.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(request, response, body.body);
  };

  const http = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      options.onError?.(error as Error);
      if (!response.headersSent) sendJson(response, 500, rpcError(-32603, 'internal error'));
      else response.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  const loopbackNames = ['127.0.0.1', 'localhost', '[::1]'];
  allowedHosts = [
    ...(options.allowedHosts ?? (loopback ? loopbackNames.map((name) => `${name}:${port}`) : [])),
  ];
  allowedOrigins = [
    ...(options.allowedOrigins ??
      (loopback ? loopbackNames.map((name) => `http://${name}:${port}`) : [])),
  ];
  const urlHost = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const close = () =>
    new Promise<void>((resolve) => {
      http.close(() => resolve());
      http.closeAllConnections();
    });
  return {
    url: `http://${urlHost}:${port}${MCP_PATH}`,
    port,
    close,
    [Symbol.asyncDispose]: close,
  };
}
