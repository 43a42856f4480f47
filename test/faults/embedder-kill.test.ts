/**
 * Fault (a): the embedder is SIGKILLed in the middle of a load and restarted. Messages it had
 * pulled but not acked are redelivered after the ack wait; nothing is lost or doubled.
 */
import { expect, it } from 'vitest';
import { expectedCounts, longTests, runFaultScenario } from '../helpers/faults.ts';
import { startTestStack } from '../helpers/stack.ts';

const COUNT = longTests ? 10_000 : 1_500;

it(`keeps exactly ${COUNT} memories when the embedder is killed mid-load`, async () => {
  await using stack = await startTestStack();
  const client = await stack.client('fault-embedder');
  const counts = await runFaultScenario({
    name: 'embedder SIGKILL',
    stack,
    client,
    count: COUNT,
    fault: [
      {
        at: Math.floor(COUNT * 0.4),
        action: async () => {
          await stack.services.get('embedder')?.stop('SIGKILL');
        },
      },
      // Stores keep being accepted by JetStream while the embedder is down.
      {
        at: Math.floor(COUNT * 0.7),
        action: async () => {
          await stack.restart('embedder');
        },
      },
    ],
  });
  expect(counts).toEqual(expectedCounts(COUNT));
}, 300_000);
