import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the server does with one request instead of answering normally. */
export type ScriptedResponse =
  | { status: number; headers?: Record<string, string>; body?: unknown }
  /** Never answers (until the server closes): the client times out. */
  | { hang: true };

/** The `Authorization` header a request carried, logged beside its body. */
export interface RequestAuthorization {
  authorization?: string;
}

export interface ProtocolDouble<Log> extends AsyncDisposable {
  /** Base URL to give the client, e.g. `http://127.0.0.1:1234/v1`. */
  readonly baseURL: string;
  /** Every request received, in order (scripted ones included). */
  readonly requests: (Log & RequestAuthorization)[];
  /** The next requests get these answers, in order; then normal answers resume. */
  script(...responses: ScriptedResponse[]): void;
  close(): Promise<void>;
}

/**
 * A protocol test double of one JSON endpoint, `POST <path>`, on a random loopback port: no
 * model endpoint is reachable from the test machines, so the doubles of OpenAI's endpoints
 * speak the wire protocol through this. Every request is logged with `record(body)` and
 * answered 200 with `answer(body)`, unless a scripted response is due; other routes get an
 * OpenAI-style 404.
 */
export async function startProtocolDouble<Body, Log>(options: {
  /** The one route served, e.g. `/v1/embeddings`. */
  path: string;
  record: (body: Body) => Log;
  answer: (body: Body) => unknown;
}): Promise<ProtocolDouble<Log>> {
  const requests: (Log & RequestAuthorization)[] = [];
  const scripted: ScriptedResponse[] = [];
  const hanging = new Set<ServerResponse>();

  const server = createServer((request, response) => {
    void handle(request, response);
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    if (request.method !== 'POST' || request.url !== options.path) {
      send(response, 404, { error: { message: 'not found', type: 'invalid_request_error' } });
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Body;
    requests.push({
      ...options.record(body),
      ...(request.headers.authorization !== undefined
        ? { authorization: request.headers.authorization }
        : {}),
    });
    const next = scripted.shift();
    if (next === undefined) {
      send(response, 200, options.answer(body));
    } else if ('hang' in next) {
      hanging.add(response);
      response.on('close', () => hanging.delete(response));
    } else {
      send(
        response,
        next.status,
        next.body ?? { error: { message: `scripted ${next.status}`, type: 'server_error' } },
        next.headers,
      );
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const close = async (): Promise<void> => {
    for (const response of hanging) response.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    script: (...responses) => {
      scripted.push(...responses);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

function send(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}
