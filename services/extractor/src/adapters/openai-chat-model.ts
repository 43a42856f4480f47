import { MembusError } from '@membus/contracts';
import { isTransientStatus, messageOf, parseRetryAfter, retry } from '@membus/service-runtime';
import OpenAI, { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import { z } from 'zod';
import type { ChatModel, ChatRequest } from '../ports/chat-model.ts';

export interface OpenAIChatModelOptions {
  /** e.g. `http://127.0.0.1:11434/v1` (Ollama), `http://127.0.0.1:8080/v1` (llama.cpp). */
  baseURL: string;
  apiKey?: string | undefined;
  model: string;
  /** `json_schema` (strict structured output), `json_object`, or `none` (prompt only). */
  responseFormat: 'json_schema' | 'json_object' | 'none';
  timeoutMs: number;
  /** Retries on 408/409/429/5xx, timeouts and connection errors (Retry-After honoured). */
  maxRetries: number;
  retryBaseMs: number;
  retryMaxMs: number;
  onRetry?: (delayMs: number, error: unknown) => void;
}

/** The part of a chat completion that is read: checked, not trusted. */
const CompletionSchema = z.object({
  choices: z.array(z.object({ message: z.object({ content: z.string().nullish() }) })).min(1),
  usage: z
    .object({ prompt_tokens: z.number().optional(), completion_tokens: z.number().optional() })
    .nullish(),
});

/**
 * A chat model behind OpenAI's `/chat/completions` protocol (OpenAI, Ollama, vLLM, llama.cpp's
 * server, LM Studio). Transient failures are retried with the one retry helper (the SDK's own
 * retries are off); when they run out it throws a BACKEND_FAILED (not retryable: the ingest
 * falls back and is dead-lettered with the reason).
 */
export function createOpenAIChatModel(options: OpenAIChatModelOptions): ChatModel {
  const client = new OpenAI({
    apiKey: options.apiKey ?? 'unused',
    baseURL: options.baseURL,
    timeout: options.timeoutMs,
    maxRetries: 0,
  });
  const responseFormat = (request: ChatRequest) =>
    options.responseFormat === 'json_schema'
      ? {
          response_format: {
            type: 'json_schema' as const,
            json_schema: { name: request.schemaName, strict: true, schema: request.jsonSchema },
          },
        }
      : options.responseFormat === 'json_object'
        ? { response_format: { type: 'json_object' as const } }
        : {};
  return {
    model: options.model,
    async complete(request) {
      const response: unknown = await retry(
        () =>
          client.chat.completions.create({
            model: options.model,
            temperature: 0,
            messages: [
              { role: 'system', content: request.system },
              { role: 'user', content: request.user },
            ],
            ...responseFormat(request),
          }),
        {
          attempts: options.maxRetries + 1,
          baseMs: options.retryBaseMs,
          maxMs: options.retryMaxMs,
          retryable: isTransient,
          retryAfterMs: (error) =>
            error instanceof APIError ? parseRetryAfter(error.headers) : undefined,
          onRetry: ({ delayMs, error }) => options.onRetry?.(delayMs, error),
          giveUp: (error, { attempts }) =>
            new MembusError(
              'BACKEND_FAILED',
              `chat model failed after ${attempts} call(s): ${messageOf(error)}`,
              {
                cause: error,
                retryable: false,
                details: {
                  model: options.model,
                  ...(error instanceof APIError && error.status !== undefined
                    ? { status: error.status }
                    : {}),
                },
              },
            ),
        },
      );
      const parsed = CompletionSchema.safeParse(response);
      const content = parsed.success ? (parsed.data.choices[0]?.message.content ?? '') : '';
      const usage = parsed.success ? parsed.data.usage : undefined;
      return {
        content,
        inputTokens:
          usage?.prompt_tokens ?? Math.ceil((request.system.length + request.user.length) / 4),
        outputTokens: usage?.completion_tokens ?? Math.ceil(content.length / 4),
      };
    },
  };
}

/** What the openai SDK itself retries: connection errors, timeouts, 408, 409, 429 and 5xx. */
function isTransient(error: unknown): boolean {
  if (error instanceof APIUserAbortError) return false;
  if (error instanceof APIConnectionError) return true;
  return (
    error instanceof APIError && typeof error.status === 'number' && isTransientStatus(error.status)
  );
}
