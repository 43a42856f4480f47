/**
 * Graceful shutdown: SIGTERM to the embedder and the vector-store in the middle of a load.
 * Each drains (stops pulling, finishes and acks its in-flight batches) and exits 0; after a
 * restart every memory is there exactly once.
 */
import { expect, it } from 'vitest';
import { expectedCounts, longTests, runFaultScenario } from '../helpers/faults.ts';
import { startTestStack } from '../helpers/stack.ts';

const COUNT = longTests ? 10_000 : 1_500;

it(`drains on SIGTERM, exits 0 and loses none of ${COUNT} memories`, async () => {
  await using stack = await startTestStack();
  const client = await stack.client('fault-sigterm');
  const exitCodes: (number | null)[] = [];
  const counts = await runFaultScenario({
    name: 'SIGTERM (graceful drain)',
    stack,
    client,
    count: COUNT,
    fault: [
      {
        at: Math.floor(COUNT * 0.3),
        action: async () => {
          exitCodes.push((await stack.services.get('vector-store')?.stop('SIGTERM')) ?? null);
          await stack.restart('vector-store');
        },
      },
      {
        at: Math.floor(COUNT * 0.6),
        action: async () => {
          exitCodes.push((await stack.services.get('embedder')?.stop('SIGTERM')) ?? null);
          await stack.restart('embedder');
        },
      },
    ],
  });
  expect({ ...counts, exitCodes }).toEqual({ ...expectedCounts(COUNT), exitCodes: [0, 0] });
}, 300_000);
