import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the server does with one request instead of answering normally. */
export type ScriptedResponse = { status: number; headers?: Record<string, string>; body?: unknown };

export interface ChatRequestLog {
  model: string;
  messages: { role: string; content: string }[];
  maxTokens?: number;
  authorization?: string;
}

export interface ChatProtocolServer extends AsyncDisposable {
  /** Base URL to give the client, e.g. `http://127.0.0.1:1234/v1`. */
  readonly baseURL: string;
  /** Every request received, in order (scripted ones included). */
  readonly requests: ChatRequestLog[];
  /** The next requests get these answers, in order; then normal answers resume. */
  script(...responses: ScriptedResponse[]): void;
  close(): Promise<void>;
}

/**
 * A protocol test double of OpenAI's `POST /v1/chat/completions` on a random local port: no
 * model endpoint is reachable from the test machines, so this speaks the wire protocol
 * (request body, `choices[].message.content`, `usage`, error bodies) and answers with
 * `reply(userMessage)`, deterministic unless scripted otherwise.
 */
export async function startChatProtocolServer(options: {
  reply: (userMessage: string) => string;
}): Promise<ChatProtocolServer> {
  const requests: ChatRequestLog[] = [];
  const scripted: ScriptedResponse[] = [];

  const server = createServer((request, response) => {
    void handle(request, response);
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    if (request.method !== 'POST' || request.url !== '/v1/chat/completions') {
      send(response, 404, { error: { message: 'not found', type: 'invalid_request_error' } });
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      model: string;
      messages: { role: string; content: string }[];
      max_tokens?: number;
    };
    requests.push({
      model: body.model,
      messages: body.messages,
      ...(body.max_tokens !== undefined ? { maxTokens: body.max_tokens } : {}),
      ...(request.headers.authorization !== undefined
        ? { authorization: request.headers.authorization }
        : {}),
    });
    const next = scripted.shift();
    if (next !== undefined) {
      send(
        response,
        next.status,
        next.body ?? { error: { message: `scripted ${next.status}`, type: 'server_error' } },
        next.headers,
      );
      return;
    }
    const user = body.messages.findLast((message) => message.role === 'user')?.content ?? '';
    const content = options.reply(user);
    const promptTokens = Math.ceil(
      body.messages.reduce((sum, message) => sum + message.content.length, 0) / 4,
    );
    const completionTokens = Math.ceil(content.length / 4);
    send(response, 200, {
      id: 'chatcmpl-test',
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content, refusal: null },
          finish_reason: 'stop',
          logprobs: null,
        },
      ],
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      },
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const close = async (): Promise<void> => {
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
