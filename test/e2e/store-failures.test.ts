/**
 * A caller that waits is told of every failure of its store (issue 19, finding 3), not left
 * to its timeout: here a valid text that grows past the text limit once its secrets are
 * masked. The dead letter's copy of the payload is cut at 64 KiB; the notice's id is read
 * from the message as it was received.
 */
import { performance } from 'node:perf_hooks';
import { MembusError, type MemoryClient } from '@membus/client';
import { Limits } from '@membus/contracts';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deadLetterCount } from '../helpers/faults.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

let stack: TestStack;
let client: MemoryClient;

beforeAll(async () => {
  stack = await startTestStack();
  client = await stack.client('failures');
}, 90_000);

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

it('tells a waiting caller at once when redaction grows a text past the limit', async () => {
  // 12 characters that become 36 once masked (`pw=[REDACTED:credential-assignment] `).
  const text = 'pw=abcd1234 '.repeat(Math.floor(30_000 / 12));
  expect(text.length).toBeLessThanOrEqual(Limits.textLength);
  const started = performance.now();
  const error = await client
    .store({ text }, { wait: 'queryable', timeoutMs: 60_000 })
    .catch((caught: unknown) => caught);
  const seconds = (performance.now() - started) / 1000;
  console.log(`[failures] redaction growth: told after ${seconds.toFixed(2)} s`);
  expect({
    isMembusError: error instanceof MembusError,
    code: error instanceof MembusError ? error.code : String(error),
    deadLettered: await deadLetterCount(stack.nats.url, 'failures', stack.admin),
  }).toEqual({ isMembusError: true, code: 'LIMIT_EXCEEDED', deadLettered: 1 });
});

it('tells a waiting caller of a store that fails in the vector-store (a conflicting id)', async () => {
  const [first] = await client.storeMany([{ text: 'The first text of this id' }], {
    wait: 'queryable',
  });
  const error = await client
    .store(
      { id: first?.id, text: 'Another text under the same id' },
      { wait: 'queryable', timeoutMs: 60_000 },
    )
    .catch((caught: unknown) => caught);
  expect(error instanceof MembusError ? error.code : String(error)).toBe('CONFLICT');
});
