import { MembusError } from '@membus/contracts';
import { isTransientStatus, messageOf, parseRetryAfter, retry } from '@membus/service-runtime';
import OpenAI, { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import { z } from 'zod';
import type { Summarizer, SummaryRequest } from '../ports/summarizer.ts';

export const OPENAI_SUMMARY_DEFAULT_MODEL = 'gpt-4o-mini';
/** Most characters of session text sent in one request (the rest is left out, newest last). */
const MAX_INPUT_CHARS = 48_000;

export interface OpenAISummarizerOptions {
  /** API key; self-hosted servers often take any string. */
  apiKey?: string;
  /** e.g. `http://127.0.0.1:11434/v1` (Ollama); OpenAI's API unless told. */
  baseURL?: string;
  /** Chat model id; gpt-4o-mini unless told. */
  model?: string;
  /** Most tokens the model may write. */
  maxOutputTokens: number;
  /** Per-request timeout in milliseconds. */
  timeoutMs: number;
  /** Retries on 408/409/429/5xx, timeouts and connection errors (Retry-After honoured). */
  maxRetries: number;
  /** First retry delay, doubled per retry, with full jitter; 500 ms unless told. */
  retryBaseMs?: number;
  /** Longest single wait, also the cap of Retry-After; 8 s unless told. */
  retryMaxMs?: number;
}

/** The part of a chat completion that is read: checked, not trusted. */
const ChatCompletionSchema = z.object({
  choices: z.array(z.object({ message: z.object({ content: z.string().trim().min(1) }) })).min(1),
});

const SYSTEM_PROMPT = [
  'You summarise the memories of one AI agent session so the agent can recall it later.',
  'Write short, factual prose: what was done, what happened, and how each task ended.',
  'Keep ids, names, numbers, durations, error messages and outcomes (succeeded or failed)',
  'exactly as written. Add nothing that is not in the memories; no advice, no headings.',
].join(' ');

/** The user message: the limit, the earlier summary, then one line per memory. */
export function summaryPrompt(request: SummaryRequest): string {
  const lines = [
    `Summarise session ${request.sessionId} in at most ${request.maxChars} characters.`,
  ];
  if (request.previousSummary) lines.push(`Earlier summary: ${request.previousSummary}`);
  lines.push('Memories, oldest first:');
  let used = lines.join('\n').length;
  for (const memory of request.memories) {
    const line = `- [${memory.kind}] ${memory.text.replace(/\s+/g, ' ')}`;
    if (used + line.length + 1 > MAX_INPUT_CHARS) break;
    lines.push(line);
    used += line.length + 1;
  }
  return lines.join('\n');
}

/**
 * Session summaries from any server speaking OpenAI's `/chat/completions` protocol (OpenAI,
 * Azure OpenAI's v1 endpoint, Ollama, vLLM, LM Studio). Transient failures are retried
 * `maxRetries` times (the one retry helper; the SDK's own retries are off); when they run out,
 * or the answer has no text, it throws a BACKEND_FAILED and the compactor falls back to the
 * extractive summary.
 */
export function createOpenAISummarizer(options: OpenAISummarizerOptions): Summarizer {
  const model = options.model ?? OPENAI_SUMMARY_DEFAULT_MODEL;
  const client = new OpenAI({
    apiKey: options.apiKey ?? 'unused',
    ...(options.baseURL !== undefined ? { baseURL: options.baseURL } : {}),
    timeout: options.timeoutMs,
    maxRetries: 0,
  });
  return {
    capabilities: Object.freeze({ name: 'openai', remote: true }),
    async summarize(request) {
      const response: unknown = await retry(
        () =>
          client.chat.completions.create({
            model,
            temperature: 0,
            max_tokens: options.maxOutputTokens,
            messages: [
              { role: 'system', content: SYSTEM_PROMPT },
              { role: 'user', content: summaryPrompt(request) },
            ],
          }),
        {
          attempts: options.maxRetries + 1,
          baseMs: options.retryBaseMs ?? 500,
          maxMs: options.retryMaxMs ?? 8_000,
          retryable: isTransient,
          retryAfterMs: (error) =>
            error instanceof APIError ? parseRetryAfter(error.headers) : undefined,
          giveUp: (error) =>
            new MembusError('BACKEND_FAILED', `chat summary failed: ${messageOf(error)}`, {
              cause: error,
              details: {
                provider: 'openai',
                model,
                ...(error instanceof APIError && error.status !== undefined
                  ? { status: error.status }
                  : {}),
              },
            }),
        },
      );
      const parsed = ChatCompletionSchema.safeParse(response);
      if (!parsed.success) {
        throw new MembusError('BACKEND_FAILED', 'chat summary response has no message text', {
          retryable: false,
          details: { provider: 'openai', model },
        });
      }
      return boundedText(parsed.data.choices[0]?.message.content ?? '', request.maxChars);
    },
  };
}

/** At most `maxChars` characters, cut at a word boundary when one is near. */
function boundedText(text: string, maxChars: number): string {
  const trimmed = text.trim().replace(/\s+/g, ' ');
  if (trimmed.length <= maxChars) return trimmed;
  const cut = trimmed.slice(0, maxChars);
  const space = cut.lastIndexOf(' ');
  return (space > maxChars * 0.8 ? cut.slice(0, space) : cut).trimEnd();
}

/** What the openai SDK itself retries: connection errors, timeouts, 408, 409, 429 and 5xx. */
function isTransient(error: unknown): boolean {
  if (error instanceof APIUserAbortError) return false;
  if (error instanceof APIConnectionError) return true;
  return (
    error instanceof APIError && typeof error.status === 'number' && isTransientStatus(error.status)
  );
}
