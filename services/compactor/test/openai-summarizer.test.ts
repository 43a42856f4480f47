/**
 * The OpenAI-compatible chat summariser against a local protocol test double of
 * `/v1/chat/completions`: no model endpoint is reachable from the test machines, so the double
 * speaks the wire protocol (and scripted errors) instead of a model.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOpenAISummarizer } from '../src/adapters/openai-summarizer.ts';
import type { SummaryOutcome } from '../src/domain/session-compactor.ts';
import {
  type ChatProtocolServer,
  startChatProtocolServer,
} from './support/chat-protocol-server.ts';
import { compactorOver, sessionMemory } from './support/session-fixture.ts';

const CHAT_SUMMARY = 'Session s1: jobs 1-4 ran on nodes n-1 to n-4; all succeeded.';
let server: ChatProtocolServer;

beforeAll(async () => {
  server = await startChatProtocolServer({ reply: () => CHAT_SUMMARY });
});

afterAll(async () => {
  await server?.close();
});

beforeEach(() => {
  server.requests.length = 0;
});

const session = () => [1, 2, 3, 4].map((index) => sessionMemory(index));

function summarizer() {
  return createOpenAISummarizer({
    baseURL: server.baseURL,
    apiKey: 'test-key',
    model: 'test-chat',
    maxOutputTokens: 256,
    timeoutMs: 5_000,
    // One retry keeps the 500 case short while still exercising the client's retries.
    maxRetries: 1,
  });
}

/** Session s1 of tenant t summarised by the chat summariser. */
function summarizeSession(maxChars = 1_000): Promise<string> {
  return summarizer().summarize({ tenant: 't', sessionId: 's1', memories: session(), maxChars });
}

function compactorWithChat(summaries: SummaryOutcome['result'][] = []) {
  return compactorOver(session(), {
    summarizer: summarizer(),
    onSummary: (summary) => summaries.push(summary.result),
  });
}

describe('OpenAI chat summariser', () => {
  it('returns the model’s message as the summary', async () => {
    const text = await summarizeSession();
    expect(text).toBe(CHAT_SUMMARY);
  });

  it('sends every memory text, the model and the output token limit', async () => {
    await summarizeSession();
    const request = server.requests[0];
    const user = request?.messages.find((message) => message.role === 'user')?.content ?? '';
    expect({
      model: request?.model,
      maxTokens: request?.maxTokens,
      texts: session().every((memory) => user.includes(memory.text)),
    }).toEqual({ model: 'test-chat', maxTokens: 256, texts: true });
  });

  it('asks to keep ids, numbers, error messages and outcomes', async () => {
    await summarizeSession();
    const system = server.requests[0]?.messages.find((message) => message.role === 'system');
    expect(system?.content).toMatch(/ids.*numbers.*error messages.*outcomes/);
  });

  it('cuts an overlong answer to the character limit', async () => {
    const text = await summarizeSession(20);
    expect(text.length).toBeLessThanOrEqual(20);
  });

  it('puts the chat summary in the compacted session’s summary memory', async () => {
    const { compactor, stored } = compactorWithChat();
    await compactor.compact('t', 's1');
    expect(stored.map((memory) => memory.text)).toEqual([CHAT_SUMMARY]);
  });

  it('falls back to the extractive summary after 500s outlast the retries', async () => {
    const extractive = await compactorOver(session()).compactor.compact('t', 's1');
    server.script({ status: 500 }, { status: 500 });
    const report = await compactorWithChat().compactor.compact('t', 's1');
    expect(report.summary).toBe(extractive.summary);
  });

  it('retries a 500 once before falling back', async () => {
    server.script({ status: 500 }, { status: 500 });
    await compactorWithChat().compactor.compact('t', 's1');
    expect(server.requests.length).toBe(2);
  });

  it('counts a fallback after 500s', async () => {
    const summaries: SummaryOutcome['result'][] = [];
    server.script({ status: 500 }, { status: 500 });
    await compactorWithChat(summaries).compactor.compact('t', 's1');
    expect(summaries).toEqual(['fallback']);
  });

  it('falls back to the extractive summary on a response without message text', async () => {
    const extractive = await compactorOver(session()).compactor.compact('t', 's1');
    server.script({ status: 200, body: { id: 'chatcmpl-test', object: 'chat.completion' } });
    const report = await compactorWithChat().compactor.compact('t', 's1');
    expect(report.summary).toBe(extractive.summary);
  });

  it('counts a fallback on a response without message text', async () => {
    const summaries: SummaryOutcome['result'][] = [];
    server.script({ status: 200, body: { choices: [{ message: { content: '' } }] } });
    await compactorWithChat(summaries).compactor.compact('t', 's1');
    expect(summaries).toEqual(['fallback']);
  });
});
