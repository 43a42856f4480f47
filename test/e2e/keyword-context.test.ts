/**
 * A memory's keyword-only `context` through the stack (issue 24): stored and returned on the
 * record, its secrets redacted, searched by the keyword leg, never embedded.
 */
import type { MemoryClient } from '@membus/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

let stack: TestStack;
let agent: MemoryClient;
let answerId: string;

beforeAll(async () => {
  stack = await startTestStack();
  agent = await stack.client('context');
  const [answer] = await agent.storeMany(
    [
      {
        userId: 'mel',
        text: 'Caroline: Yes, last Tuesday!',
        context: 'Melanie: Did you go to the pottery class? password=hunter2!',
        mergeSimilar: false,
      },
      { userId: 'mel', text: 'Melanie: I painted a sunrise by the lake.', mergeSimilar: false },
    ],
    { wait: 'queryable' },
  );
  answerId = answer?.memoryId ?? answer?.id ?? '';
}, 90_000);

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

describe('keyword context', () => {
  it('finds a memory by a word only its context holds', async () => {
    const { hits } = await agent.query('pottery class', {
      filter: { userId: 'mel' },
      mode: 'keyword',
      topK: 5,
    });
    expect(hits.map((hit) => hit.memory.id)).toEqual([answerId]);
  });

  it('returns the context on the record, its secrets redacted', async () => {
    const memory = await agent.get(answerId);
    expect(memory?.context).toBe(
      'Melanie: Did you go to the pottery class? password=[REDACTED:credential-assignment]!',
    );
  });
});
