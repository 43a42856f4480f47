import { type ProtocolDouble, startProtocolDouble } from '@membus/bus/testing';

export type { ScriptedResponse } from '@membus/bus/testing';

interface ChatMessage {
  role: string;
  content: string;
}

export interface ChatRequestLog {
  model: string;
  messages: ChatMessage[];
  maxTokens?: number;
  authorization?: string;
}

export type ChatProtocolServer = ProtocolDouble<ChatRequestLog>;

/**
 * A protocol test double of OpenAI's `POST /v1/chat/completions` on a random local port: no
 * model endpoint is reachable from the test machines, so this speaks the wire protocol
 * (request body, `choices[].message.content`, `usage`, error bodies) and answers with
 * `reply(userMessage)`, deterministic unless scripted otherwise.
 */
export function startChatProtocolServer(options: {
  reply: (userMessage: string) => string;
}): Promise<ChatProtocolServer> {
  return startProtocolDouble<
    { model: string; messages: ChatMessage[]; max_tokens?: number },
    ChatRequestLog
  >({
    path: '/v1/chat/completions',
    record: (body) => ({
      model: body.model,
      messages: body.messages,
      ...(body.max_tokens !== undefined ? { maxTokens: body.max_tokens } : {}),
    }),
    answer: (body) => {
      const user = body.messages.findLast((message) => message.role === 'user')?.content ?? '';
      const content = options.reply(user);
      const promptTokens = Math.ceil(
        body.messages.reduce((sum, message) => sum + message.content.length, 0) / 4,
      );
      const completionTokens = Math.ceil(content.length / 4);
      return {
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
      };
    },
  });
}
