import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the server does with one request instead of answering normally. */
export type ScriptedResponse =
  | { status: number; headers?: Record<string, string>; body?: unknown }
  /** Never answers (until the server closes): the client times out. */
  | { hang: true };

export interface EmbeddingsRequestLog {
  model: string;
  input: string[];
  dimensions?: number;
  encodingFormat?: string;
  authorization?: string;
}

export interface EmbeddingsProtocolServer extends AsyncDisposable {
  /** Base URL to give the client, e.g. `http://127.0.0.1:1234/v1`. */
  readonly baseURL: string;
  /** Every request received, in order (scripted ones included). */
  readonly requests: EmbeddingsRequestLog[];
  /** The next requests get these answers, in order; then normal answers resume. */
  script(...responses: ScriptedResponse[]): void;
  close(): Promise<void>;
}

/**
 * A protocol test double of OpenAI's `POST /v1/embeddings` on a random local port: no model
 * endpoint is reachable from the test machines, so this speaks the wire protocol (request
 * body, `data[].index/embedding`, `usage`, error bodies, `retry-after`) with deterministic
 * vectors: a text's vector is derived from SHA-256 of the text, deliberately not
 * L2-normalised, so the provider's normalisation is exercised too.
 */
export async function startEmbeddingsProtocolServer(options: {
  dimension: number;
}): Promise<EmbeddingsProtocolServer> {
  const requests: EmbeddingsRequestLog[] = [];
  const scripted: ScriptedResponse[] = [];
  const hanging = new Set<ServerResponse>();

  const server = createServer((request, response) => {
    void handle(request, response);
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    if (request.method !== 'POST' || request.url !== '/v1/embeddings') {
      reply(response, 404, { error: { message: 'not found', type: 'invalid_request_error' } });
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      model: string;
      input: string | string[];
      dimensions?: number;
      encoding_format?: string;
    };
    const input = Array.isArray(body.input) ? body.input : [body.input];
    requests.push({
      model: body.model,
      input,
      ...(body.dimensions !== undefined ? { dimensions: body.dimensions } : {}),
      ...(body.encoding_format !== undefined ? { encodingFormat: body.encoding_format } : {}),
      ...(request.headers.authorization !== undefined
        ? { authorization: request.headers.authorization }
        : {}),
    });
    const next = scripted.shift();
    if (next !== undefined) {
      if ('hang' in next) {
        hanging.add(response);
        response.on('close', () => hanging.delete(response));
        return;
      }
      reply(
        response,
        next.status,
        next.body ?? { error: { message: `scripted ${next.status}`, type: 'server_error' } },
        next.headers,
      );
      return;
    }
    const dimension = body.dimensions ?? options.dimension;
    const data = input.map((text, index) => {
      const vector = deterministicVector(text, dimension);
      return {
        object: 'embedding',
        index,
        embedding:
          body.encoding_format === 'base64'
            ? Buffer.from(new Float32Array(vector).buffer).toString('base64')
            : vector,
      };
    });
    const tokens = input.reduce((sum, text) => sum + Math.max(1, Math.ceil(text.length / 4)), 0);
    reply(response, 200, {
      object: 'list',
      data,
      model: body.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
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

function reply(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

/** Entries in [-2, 2) from SHA-256(text || counter): stable, distinct per text, not unit length. */
export function deterministicVector(text: string, dimension: number): number[] {
  const vector: number[] = [];
  for (let block = 0; vector.length < dimension; block++) {
    const digest = createHash('sha256').update(`${block}\u0000${text}`).digest();
    for (let offset = 0; offset + 2 <= digest.length && vector.length < dimension; offset += 2) {
      vector.push((digest.readUInt16BE(offset) / 65_536) * 4 - 2);
    }
  }
  return vector;
}
