/**
 * The extraction stage end to end (issue 22, decision 010): nats-server, embedder, vector-store
 * and extractor as separate processes; the chat model is a protocol double of OpenAI's
 * `/v1/chat/completions` (scripted answers, malformed answers, 429 with Retry-After, a hang).
 */
import { connectBus, jetstreamManager } from '@membus/bus';
import { type ProtocolDouble, startProtocolDouble } from '@membus/bus/testing';
import type { MemoryClient } from '@membus/client';
import { Headers, Streams } from '@membus/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

interface ChatBody {
  model: string;
  messages: { role: string; content: string }[];
  response_format?: { type: string };
}

/** The facts the double's "model" draws from a turn, by the turn's text. */
const factsOf: Record<string, { text: string; category?: string }[]> = {
  'I always deploy the web app to Vercel production.': [
    { text: 'Alice deploys the web app to Vercel production', category: 'github_deploys' },
  ],
  'Hi there!': [],
  'Production now runs in region fra1.': [
    { text: 'Alice deploys the web app to Vercel production in region fra1' },
  ],
  'We moved the web app off Vercel; it deploys to Netlify now.': [
    { text: 'Alice deploys the web app to Netlify' },
  ],
  'Reminder: the web app goes to Netlify.': [{ text: 'Alice deploys the web app to Netlify' }],
  'The payments API depends on the orders queue.': [
    { text: 'The payments API depends on the orders queue', category: 'aws_resources' },
  ],
};

/** How the "model" decides: exact match NONE, these rules, else ADD. */
const rules: Record<string, (known: { id: string; text: string }[]) => object> = {
  'Alice deploys the web app to Vercel production in region fra1': (known) => ({
    event: 'UPDATE',
    id: known.find((memory) => memory.text.includes('Vercel production'))?.id ?? null,
    text: 'Alice deploys the web app to Vercel production in region fra1',
  }),
  'Alice deploys the web app to Netlify': (known) => {
    const same = known.find((memory) => memory.text === 'Alice deploys the web app to Netlify');
    if (same) return { event: 'NONE', id: same.id, text: null };
    return {
      event: 'DELETE',
      id: known.find((memory) => memory.text.includes('Vercel'))?.id ?? null,
      text: null,
    };
  },
};

function answer(body: ChatBody): string {
  const user = body.messages.findLast((message) => message.role === 'user')?.content ?? '';
  const lines = user.split('\n');
  if (lines[0]?.startsWith('Conversation')) {
    const facts = lines.flatMap((line) => {
      const turn = /^\[(t\d+)\] \w+: (.*)$/.exec(line);
      if (!turn) return [];
      return (factsOf[turn[2] as string] ?? []).map((fact) => ({
        text: fact.text,
        category: fact.category ?? null,
        sources: [turn[1]],
        importance: 0.7,
      }));
    });
    return JSON.stringify({ facts });
  }
  const known = lines.flatMap((line) => {
    const memory = /^\[(\d+)\] (.*)$/.exec(line);
    return memory ? [{ id: memory[1] as string, text: memory[2] as string }] : [];
  });
  const decisions = lines.flatMap((line) => {
    const fact = /^(\d+)\. (.*)$/.exec(line);
    if (!fact) return [];
    const text = fact[2] as string;
    const index = Number(fact[1]);
    const rule = rules[text];
    if (rule) return [{ fact: index, ...rule(known) }];
    const same = known.find((memory) => memory.text === text);
    return [
      same
        ? { fact: index, event: 'NONE', id: same.id, text: null }
        : { fact: index, event: 'ADD', id: null, text: null },
    ];
  });
  return JSON.stringify({ decisions });
}

function completion(content: string, usage = { prompt_tokens: 100, completion_tokens: 20 }) {
  return {
    id: 'chatcmpl-test',
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: 'test-model',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content, refusal: null },
        finish_reason: 'stop',
        logprobs: null,
      },
    ],
    usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
  };
}

let model: ProtocolDouble<ChatBody>;
let stack: TestStack;
let memory: MemoryClient;
const BUDGET = 50_000;

beforeAll(async () => {
  model = await startProtocolDouble<ChatBody, ChatBody>({
    path: '/v1/chat/completions',
    record: (body) => body,
    answer: (body) => completion(answer(body)),
  });
  stack = await startTestStack(
    {
      EXTRACT_BASE_URL: model.baseURL,
      EXTRACT_MODEL: 'test-model',
      EXTRACT_MAX_RETRIES: '2',
      EXTRACT_RETRY_BASE_MS: '1',
      EXTRACT_TIMEOUT_MS: '1500',
      EXTRACT_WINDOW_MS: '20',
      EXTRACT_DAILY_TOKEN_BUDGET: String(BUDGET),
      EXTRACT_NAMESPACES: JSON.stringify({
        oncall: {
          instructions: 'Keep incidents with root causes; never health checks when all is green.',
          categories: ['incidents', 'aws_resources', 'github_deploys', 'troubleshooting'],
        },
      }),
    },
    ['embedder', 'vector-store', 'extractor'],
  );
  memory = await stack.client('extraction');
}, 120_000);

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
  await model?.close();
});

const alice = { userId: 'alice', sessionId: 'session-1', namespace: 'oncall' } as const;

describe('extraction', () => {
  let vercelId: string;

  it('keeps the facts of a conversation, with provenance, and asks for structured output', async () => {
    const result = await memory.ingest(
      [
        { id: 'm1', role: 'user', content: 'Hi there!' },
        { id: 'm2', role: 'user', content: 'I always deploy the web app to Vercel production.' },
        { id: 'm3', role: 'assistant', content: 'Noted.' },
      ],
      { ...alice, wait: 'extracted' },
    );
    expect(result).toMatchObject({
      status: 'extracted',
      model: 'test-model',
      decisions: [{ event: 'ADD', text: 'Alice deploys the web app to Vercel production' }],
    });
    vercelId = result.decisions?.[0]?.memoryId as string;
    const stored = await memory.get(vercelId);
    expect(stored).toMatchObject({
      kind: 'fact',
      scope: 'user',
      userId: 'alice',
      namespace: 'oncall',
      text: 'Alice deploys the web app to Vercel production',
      categories: ['github_deploys'],
      metadata: {
        source: 'extraction',
        ingestId: result.id,
        sourceMessageIds: ['m2'],
        extractionModel: 'test-model',
        promptVersion: 'extract-v1',
        sessionId: 'session-1',
      },
    });
    const last = model.requests.at(-2);
    expect(last?.response_format?.type).toBe('json_schema');
    expect(last?.messages[0]?.content).toContain('never health checks when all is green');
  });

  it('rewrites a known fact on UPDATE (its history shows the earlier text)', async () => {
    const result = await memory.ingest(
      [{ id: 'm4', role: 'user', content: 'Production now runs in region fra1.' }],
      { ...alice, wait: 'extracted' },
    );
    expect(result.decisions).toEqual([
      {
        event: 'UPDATE',
        text: 'Alice deploys the web app to Vercel production in region fra1',
        memoryId: vercelId,
        previousText: 'Alice deploys the web app to Vercel production',
      },
    ]);
    const history = await memory.history(vercelId);
    expect(history.map((entry) => entry.event)).toEqual(['ADD', 'UPDATE']);
    expect((await memory.get(vercelId))?.text).toBe(
      'Alice deploys the web app to Vercel production in region fra1',
    );
  });

  it('retires a contradicted fact (DELETE) and keeps the new one', async () => {
    const result = await memory.ingest(
      [
        {
          id: 'm5',
          role: 'user',
          content: 'We moved the web app off Vercel; it deploys to Netlify now.',
        },
      ],
      { ...alice, wait: 'extracted' },
    );
    expect(result.decisions?.map(({ event, memoryId }) => [event, memoryId === vercelId])).toEqual([
      ['DELETE', true],
      ['ADD', false],
    ]);
    expect(await memory.get(vercelId)).toBeUndefined();
    expect((await memory.history(vercelId)).map((entry) => entry.event)).toEqual([
      'ADD',
      'UPDATE',
      'DELETE',
    ]);
  });

  it('stores nothing on NONE', async () => {
    const before = await memory.stats({ userId: 'alice' });
    const result = await memory.ingest('Reminder: the web app goes to Netlify.', {
      ...alice,
      wait: 'extracted',
    });
    expect(result.decisions?.map((decision) => decision.event)).toEqual(['NONE']);
    expect((await memory.stats({ userId: 'alice' })).total).toBe(before.total);
  });

  it('dead-letters an ingest the model answers with garbage, and stores its text raw', async () => {
    const garbage = { status: 200, body: completion('Sure! Here are the facts: none, really.') };
    model.script(garbage, garbage, garbage);
    const result = await memory.ingest(
      [{ id: 'm6', role: 'user', content: 'The payments API depends on the orders queue.' }],
      { ...alice, wait: 'extracted' },
    );
    expect(result).toMatchObject({ status: 'raw', reason: 'model_failed', decisions: [] });
    // The notice comes once the raw text is queryable.
    expect(await memory.get(result.rawMemoryIds?.[0] as string)).toMatchObject({
      kind: 'episode',
      text: 'user: The payments API depends on the orders queue.',
      sessionId: 'session-1',
      metadata: { source: 'ingest', ingestId: result.id, extraction: 'model_failed' },
    });
    const nc = await connectBus({ servers: stack.nats.url, name: 'dlq-reader', ...stack.admin });
    try {
      const jsm = await jetstreamManager(nc);
      const letter = await jsm.streams.getMessage(Streams.dlq.name, {
        last_by_subj: 'memory.dlq.extraction',
      });
      expect([
        letter?.header?.get(Headers.errorCode),
        letter?.header?.get(Headers.originalSubject),
        letter?.header?.get(Headers.errorMessage),
      ]).toEqual([
        'BACKEND_FAILED',
        'memory.ingest.extraction',
        expect.stringContaining('the model answered garbage 3 times: no JSON object in the answer'),
      ]);
    } finally {
      await nc.close();
    }
  });

  it('retries a 429 after its Retry-After', async () => {
    const calls = model.requests.length;
    model.script({ status: 429, headers: { 'retry-after': '1' } });
    const started = performance.now();
    const result = await memory.ingest(
      [{ id: 'm7', role: 'user', content: 'The payments API depends on the orders queue.' }],
      { ...alice, wait: 'extracted' },
    );
    expect([
      result.decisions?.map((decision) => decision.event),
      model.requests.length - calls,
      performance.now() - started >= 1_000,
    ]).toEqual([['ADD'], 3, true]);
  });

  it('retries a call that times out', async () => {
    const calls = model.requests.length;
    model.script({ hang: true });
    const result = await memory.ingest('Hi there!', { ...alice, wait: 'extracted' });
    expect([result.status, result.decisions, model.requests.length - calls]).toEqual([
      'extracted',
      [],
      2,
    ]);
  });

  it('stores the text raw once the tenant spent its daily token budget', async () => {
    const frugal = await stack.client('frugal');
    model.script({
      status: 200,
      body: completion('{"facts":[]}', { prompt_tokens: BUDGET, completion_tokens: 1 }),
    });
    const spent = await frugal.ingest('Hi there!', { wait: 'extracted' });
    const calls = model.requests.length;
    const over = await frugal.ingest('The payments API depends on the orders queue.', {
      wait: 'extracted',
    });
    expect([spent.status, over.status, over.reason, model.requests.length - calls]).toEqual([
      'extracted',
      'raw',
      'budget_exhausted',
      0,
    ]);
  });

  it('stores the text raw when the caller asks for no extraction', async () => {
    const calls = model.requests.length;
    const result = await memory.ingest('Deploy log line 42', {
      ...alice,
      extract: false,
      wait: 'extracted',
    });
    expect([result.status, result.reason, model.requests.length - calls]).toEqual([
      'raw',
      'not_requested',
      0,
    ]);
  });

  it('acks an ingest once durable, as fast as a plain store (the model is not waited for)', async () => {
    const timings = { ingest: [] as number[], store: [] as number[] };
    for (let round = 0; round < 20; round++) {
      let started = performance.now();
      await memory.store({ text: `plain store ${round}`, userId: 'bob' });
      timings.store.push(performance.now() - started);
      started = performance.now();
      await memory.ingest(`ingest ${round}`, { userId: 'bob', extract: false });
      timings.ingest.push(performance.now() - started);
    }
    const median = (values: number[]) =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
    console.log(
      `[extraction] ack median: ingest ${median(timings.ingest).toFixed(2)} ms, store ${median(timings.store).toFixed(2)} ms`,
    );
    // Both are one JetStream publish and its ack: within a few milliseconds of each other.
    expect(median(timings.ingest)).toBeLessThan(median(timings.store) + 5);
  });
});
