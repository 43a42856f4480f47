/**
 * Every input limit of packages/contracts/src/limits.ts, enforced by the running services with
 * a typed error reply (requests sent raw, past the client's own checks).
 */
import { connectBus, type NatsConnection } from '@membus/bus';
import { Limits } from '@membus/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

let stack: TestStack;
let send: (subject: string, body: unknown) => Promise<string | undefined>;

let operator: NatsConnection;

beforeAll(async () => {
  stack = await startTestStack();
  const client = await stack.client('limits');
  // `memory.embed` is internal (services only): sent as the operators' admin user.
  operator = await connectBus({ servers: stack.nats.url, name: 'limits-operator', ...stack.admin });
  send = async (subject, body) => {
    const connection = subject.endsWith('.limits') ? client.connection : operator;
    const reply = await connection.request(subject, JSON.stringify(body), {
      timeout: 5_000,
    });
    return reply.json<{ error?: { code: string } }>().error?.code;
  };
}, 90_000);

afterAll(async () => {
  await operator?.close();
  await stack?.[Symbol.asyncDispose]();
});

const id = '01935c3e-8f5a-7c3b-9d2e-4f6a8b1c2d3e';
const deep = (levels: number): unknown => (levels === 0 ? 1 : { a: deep(levels - 1) });
const deepFilter = (levels: number): unknown =>
  levels === 0 ? { field: 'a', op: 'eq', value: 1 } : { not: deepFilter(levels - 1) };

/** [limit, subject, request over the limit, expected code]. */
const cases: [string, string, unknown, string][] = [
  [
    'textLength (query text)',
    'memory.query.limits',
    { v: 1, text: 'x'.repeat(Limits.textLength + 1) },
    'LIMIT_EXCEEDED',
  ],
  ['topK', 'memory.query.limits', { v: 1, text: 'x', topK: Limits.topK + 1 }, 'LIMIT_EXCEEDED'],
  [
    'vectorDimension',
    'memory.query.limits',
    { v: 1, vector: new Array(Limits.vectorDimension + 1).fill(0.1) },
    'LIMIT_EXCEEDED',
  ],
  [
    'float32Max (a query vector of 1e39)',
    'memory.query.limits',
    { v: 1, vector: [1, 1e39, 0.5] },
    'INVALID_MESSAGE',
  ],
  [
    'filterConditions',
    'memory.query.limits',
    {
      v: 1,
      text: 'x',
      filter: {
        metadata: {
          and: new Array(Limits.filterConditions + 1).fill({ field: 'a', op: 'eq', value: 1 }),
        },
      },
    },
    'INVALID_MESSAGE',
  ],
  [
    'filterDepth',
    'memory.query.limits',
    { v: 1, text: 'x', filter: { metadata: deepFilter(Limits.filterDepth + 1) } },
    'INVALID_MESSAGE',
  ],
  [
    'filterValues',
    'memory.query.limits',
    {
      v: 1,
      text: 'x',
      filter: {
        metadata: { field: 'a', op: 'in', value: new Array(Limits.filterValues + 1).fill(1) },
      },
    },
    'INVALID_MESSAGE',
  ],
  [
    'labelLength',
    'memory.query.limits',
    { v: 1, text: 'x', filter: { userId: 'u'.repeat(Limits.labelLength + 1) } },
    'LIMIT_EXCEEDED',
  ],
  ['ids', 'memory.get.limits', { v: 1, ids: new Array(Limits.ids + 1).fill(id) }, 'LIMIT_EXCEEDED'],
  ['pageSize', 'memory.list.limits', { v: 1, limit: Limits.pageSize + 1 }, 'LIMIT_EXCEEDED'],
  [
    'embedBatch',
    'memory.embed',
    { v: 1, texts: new Array(Limits.embedBatch + 1).fill('x') },
    'LIMIT_EXCEEDED',
  ],
  [
    'metadataBytes',
    'memory.update.limits',
    { v: 1, id, metadata: { blob: 'x'.repeat(Limits.metadataBytes) } },
    'LIMIT_EXCEEDED',
  ],
  [
    'metadataDepth',
    'memory.update.limits',
    { v: 1, id, metadata: deep(Limits.metadataDepth + 1) },
    'INVALID_MESSAGE',
  ],
  [
    'labelCount',
    'memory.update.limits',
    { v: 1, id, tags: Array.from({ length: Limits.labelCount + 1 }, (_, i) => `t${i}`) },
    'LIMIT_EXCEEDED',
  ],
  [
    'messageBytes',
    'memory.query.limits',
    { v: 1, text: 'x', pad: 'y'.repeat(Limits.messageBytes) },
    'LIMIT_EXCEEDED',
  ],
];

describe('input limits', () => {
  it.each(cases)('%s over its limit gets a typed error', async (_, subject, body, code) => {
    expect(await send(subject, body)).toBe(code);
  });

  it('a store with createdAt past Limits.createdAtFutureMs is refused by the client', async () => {
    const client = await stack.client('limits');
    const createdAt = new Date(Date.now() + Limits.createdAtFutureMs + 60_000).toISOString();
    const error = await client
      .store({ text: 'x', createdAt })
      .catch((caught: { code?: string }) => caught.code);
    expect(error).toBe('INVALID_MESSAGE');
  });

  it('storeMany over the batch size is refused by the client', async () => {
    const client = await stack.client('limits');
    const error = await client
      .storeMany(Array.from({ length: Limits.batchSize + 1 }, () => ({ text: 'x' })))
      .catch((caught: { code?: string }) => caught.code);
    expect(error).toBe('LIMIT_EXCEEDED');
  });
});
