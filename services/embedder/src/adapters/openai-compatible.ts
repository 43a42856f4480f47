import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Limits, MembusError, unpackVector } from '@membus/contracts';
import { z } from 'zod';
import type { Embedder } from '../domain/embedder.ts';

/** The OpenAI embeddings request, as far as membus honours it. */
const EmbeddingsRequestSchema = z.object({
  input: z.union([z.string().min(1), z.array(z.string().min(1)).min(1).max(Limits.embedBatch)]),
  model: z.string().optional(),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().positive().optional(),
  user: z.string().optional(),
});

export interface OpenAiCompatibleServer extends AsyncDisposable {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * `POST /v1/embeddings` in the OpenAI wire format, backed by the embedder's provider, so
 * other tools (and the mem0 comparison in the bench) can use membus's local embeddings.
 * Opt-in (EMBEDDINGS_HTTP_PORT). Texts are embedded as given: no redaction, no storage.
 */
export async function startOpenAiCompatibleServer(options: {
  embedder: Embedder;
  port: number;
  host?: string;
}): Promise<OpenAiCompatibleServer> {
  const server: Server = createServer((request, response) => {
    handle(options.embedder, request, response).catch((error: unknown) => {
      const failure = MembusError.from(error);
      send(response, failure.category === 'user' ? 400 : 500, {
        error: { message: failure.message, type: failure.code.toLowerCase(), code: failure.code },
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return { port: (server.address() as AddressInfo).port, close, [Symbol.asyncDispose]: close };
}

async function handle(
  embedder: Embedder,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const path = (request.url ?? '').split('?')[0];
  if (request.method !== 'POST' || (path !== '/v1/embeddings' && path !== '/embeddings')) {
    send(response, 404, {
      error: { message: 'not found: use POST /v1/embeddings', type: 'not_found' },
    });
    return;
  }
  const body = await readBody(request, Limits.messageBytes * 4);
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new MembusError('INVALID_MESSAGE', 'body is not JSON');
  }
  const parsed = EmbeddingsRequestSchema.safeParse(json);
  if (!parsed.success)
    throw new MembusError('INVALID_MESSAGE', parsed.error.issues[0]?.message ?? 'invalid request');
  const texts = typeof parsed.data.input === 'string' ? [parsed.data.input] : parsed.data.input;
  const reply = await embedder.embedRequest({ v: 1, texts, purpose: 'query' });
  const base64 = parsed.data.encoding_format === 'base64';
  const tokens = texts.reduce((sum, text) => sum + Math.ceil(text.length / 4), 0);
  send(response, 200, {
    object: 'list',
    model: reply.model,
    data: reply.vectors.map((packed, index) => ({
      object: 'embedding',
      index,
      embedding: base64 ? packed : Array.from(unpackVector(packed) ?? []),
    })),
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}

function readBody(request: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new MembusError('LIMIT_EXCEEDED', `body larger than ${limit} bytes`));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}
