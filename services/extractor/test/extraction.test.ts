import {
  type IngestMessage,
  IngestMessageSchema,
  type MemoryRecord,
  type StoreMemoryInput,
} from '@membus/contracts';
import { describe, expect, it } from 'vitest';
import {
  type ChatModel,
  type ExtractionObserver,
  Extractor,
  type ExtractorOptions,
  jsonObjectIn,
  type MemoryPort,
  ProviderLimiter,
  TokenBudget,
} from '../src/index.ts';

const ingest = (fields: Partial<IngestMessage> & { text?: string }): IngestMessage =>
  IngestMessageSchema.parse({
    v: 1,
    id: '019300e0-0000-7000-8000-000000000001',
    userId: 'alice',
    ...fields,
  });

/** A model answering from a list, in order; counts its calls. */
function scriptedModel(...answers: string[]): ChatModel & { calls: number } {
  const model = {
    model: 'scripted',
    calls: 0,
    async complete() {
      const content = answers[model.calls++] ?? '{}';
      return { content, inputTokens: 10, outputTokens: 5 };
    },
  };
  return model;
}

/** The vector-store's operations, in memory: what was stored, updated and deleted. */
function memoryPort(known: MemoryRecord[] = []) {
  const stored: Omit<StoreMemoryInput, 'v'>[] = [];
  const port: MemoryPort = {
    async nearest() {
      return known;
    },
    async add(_tenant, memory) {
      stored.push(memory);
      return { status: 'stored', memoryId: memory.id };
    },
    async update() {},
    async delete() {},
  };
  return { port, stored };
}

const quiet: ExtractionObserver = { call() {}, decision() {}, fallback() {} };

function extractor(options: Partial<ExtractorOptions> & Pick<ExtractorOptions, 'memories'>) {
  return new Extractor({
    limiter: new ProviderLimiter({ concurrency: 2, perMinute: 600 }),
    budget: new TokenBudget(0),
    observer: quiet,
    fallback: 'raw',
    namespaces: {},
    nearest: 5,
    garbageRetries: 1,
    ...options,
  });
}

describe('jsonObjectIn', () => {
  it.each([
    ['a bare object', '{"facts":[]}', { facts: [] }],
    ['a code fence', '```json\n{"facts":[{"text":"a } b"}]}\n```', { facts: [{ text: 'a } b' }] }],
    ['a sentence around it', 'Here you go: {"a":{"b":1}} Hope it helps!', { a: { b: 1 } }],
    ['no object', 'I cannot help with that.', undefined],
    ['a cut-off object', '{"facts":[{"text":"a"', undefined],
  ])('finds %s', (_name, content, expected) => {
    expect(jsonObjectIn(content)).toEqual(expected);
  });
});

describe('Extractor', () => {
  it('stores every turn raw when extraction is off, one episode per turn', async () => {
    const { port, stored } = memoryPort();
    const [outcome] = await extractor({ memories: port }).process('acme', [
      ingest({
        sessionId: 's1',
        turns: [
          { id: 'm1', role: 'user', content: 'hello' },
          { role: 'assistant', content: 'hi' },
        ],
      }),
    ]);
    expect([outcome?.notice.status, outcome?.notice.reason, outcome?.deadLetter]).toEqual([
      'raw',
      'disabled',
      undefined,
    ]);
    expect(
      stored.map(({ text, kind, sessionId, metadata }) => [text, kind, sessionId, metadata]),
    ).toEqual([
      ['user: hello', 'episode', 's1', expect.objectContaining({ messageId: 'm1', role: 'user' })],
      ['assistant: hi', 'episode', 's1', expect.objectContaining({ role: 'assistant' })],
    ]);
  });

  it('asks again after a garbage answer, then gives up: raw fallback and a dead letter', async () => {
    const { port, stored } = memoryPort();
    const model = scriptedModel('not json', '{"wrong":true}');
    const [outcome] = await extractor({ memories: port, model }).process('acme', [
      ingest({ text: 'Alice prefers Vercel' }),
    ]);
    expect([model.calls, outcome?.notice.status, outcome?.deadLetter?.code]).toEqual([
      2,
      'raw',
      'BACKEND_FAILED',
    ]);
    expect(outcome?.deadLetter?.message).toContain('answered garbage 2 times');
    expect(stored.map((memory) => memory.text)).toEqual(['Alice prefers Vercel']);
  });

  it('adds a fact with its provenance, its category only when the namespace has it', async () => {
    const { port, stored } = memoryPort();
    const model = scriptedModel(
      '{"facts":[{"text":"Alice prefers Vercel","category":"deploys","sources":["t1"]},{"text":"Bob uses Netlify","category":"made-up","sources":["t9"]}]}',
      '{"decisions":[{"fact":0,"event":"ADD"},{"fact":1,"event":"ADD"}]}',
    );
    const [outcome] = await extractor({
      memories: port,
      model,
      namespaces: { deploy: { categories: ['deploys'] } },
    }).process('acme', [
      ingest({ namespace: 'deploy', turns: [{ id: 'm1', role: 'user', content: 'I use Vercel' }] }),
    ]);
    expect(outcome?.notice.decisions.map((decision) => decision.event)).toEqual(['ADD', 'ADD']);
    expect(
      stored.map(({ categories, metadata }) => [categories, metadata?.sourceMessageIds]),
    ).toEqual([
      [['deploys'], ['m1']],
      [[], undefined],
    ]);
    expect(stored[0]?.metadata).toMatchObject({
      extractionModel: 'scripted',
      promptVersion: 'extract-v1',
    });
  });

  it('treats an UPDATE of an unknown id as ADD and a DELETE of one as NONE', async () => {
    const { port, stored } = memoryPort();
    const model = scriptedModel(
      '{"facts":[{"text":"A"},{"text":"B"}]}',
      '{"decisions":[{"fact":0,"event":"UPDATE","id":"7","text":"A2"},{"fact":1,"event":"DELETE","id":"9"}]}',
    );
    const [outcome] = await extractor({ memories: port, model }).process('acme', [
      ingest({ text: 'A and B' }),
    ]);
    expect(outcome?.notice.decisions.map((decision) => decision.event)).toEqual(['ADD', 'NONE']);
    expect(stored.map((memory) => memory.text)).toEqual(['A']);
  });

  it('stores raw without calling the model once the tenant spent its budget', async () => {
    const { port } = memoryPort();
    const model = scriptedModel('{"facts":[]}');
    const budget = new TokenBudget(10);
    const run = () =>
      extractor({ memories: port, model, budget }).process('acme', [ingest({ text: 'x' })]);
    const [first] = await run();
    const [second] = await run();
    expect([
      first?.notice.status,
      second?.notice.reason,
      model.calls,
      budget.spent('acme'),
    ]).toEqual(['extracted', 'budget_exhausted', 1, 15]);
  });
});

describe('TokenBudget', () => {
  it('starts again on the next UTC day', () => {
    let now = Date.parse('2026-12-06T23:59:00Z');
    const budget = new TokenBudget(100, () => now);
    budget.spend('acme', 100);
    const before = budget.exhausted('acme');
    now = Date.parse('2026-12-07T00:01:00Z');
    expect([before, budget.exhausted('acme'), budget.exhausted('globex')]).toEqual([
      true,
      false,
      false,
    ]);
  });
});

describe('ProviderLimiter', () => {
  it('keeps at most `concurrency` calls in flight', async () => {
    const limiter = new ProviderLimiter({ concurrency: 2, perMinute: 60_000 });
    let running = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 6 }, () =>
        limiter.run(async () => {
          running++;
          most = Math.max(most, running);
          await new Promise((resolve) => setImmediate(resolve));
          running--;
        }),
      ),
    );
    expect(most).toBe(2);
  });

  it('starts no more than `perMinute` calls in a minute', async () => {
    let now = 0;
    const waits: number[] = [];
    const limiter = new ProviderLimiter({
      concurrency: 10,
      perMinute: 2,
      now: () => now,
      wait: async (ms) => {
        waits.push(ms);
        now += ms;
      },
    });
    let done = 0;
    await Promise.all([1, 2, 3, 4].map(() => limiter.run(async () => done++)));
    // The first two take the bucket's tokens; the third and fourth wait half a minute each.
    expect([done, waits]).toEqual([4, [30_000, 30_000]]);
  });
});
