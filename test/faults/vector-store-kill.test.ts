/**
 * Fault (b): the vector-store is SIGKILLed in the middle of a load and restarted on the same
 * data directory. Un-acked writes are redelivered and recognised by id.
 */
import { expect, it } from 'vitest';
import { expectedCounts, longTests, runFaultScenario } from '../helpers/faults.ts';
import { startTestStack } from '../helpers/stack.ts';

const COUNT = longTests ? 10_000 : 1_500;

it(`keeps exactly ${COUNT} memories when the vector-store is killed mid-load`, async () => {
  await using stack = await startTestStack();
  const client = await stack.client('fault-vector-store');
  const counts = await runFaultScenario({
    name: 'vector-store SIGKILL',
    stack,
    client,
    count: COUNT,
    fault: [
      {
        at: Math.floor(COUNT * 0.4),
        action: async () => {
          await stack.services.get('vector-store')?.stop('SIGKILL');
        },
      },
      {
        at: Math.floor(COUNT * 0.7),
        action: async () => {
          await stack.restart('vector-store');
        },
      },
    ],
  });
  expect(counts).toEqual(expectedCounts(COUNT));
}, 300_000);
