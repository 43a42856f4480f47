/**
 * Fault (c): nats-server is SIGKILLed mid-load and restarted on the same port and JetStream
 * store. Services and the client reconnect; a store whose publish failed while NATS was down
 * is sent again by the load generator with the same id (idempotent).
 */
import { connect } from '@membus/client';
import { expect, it } from 'vitest';
import { expectedCounts, longTests, runFaultScenario } from '../helpers/faults.ts';
import { startTestStack } from '../helpers/stack.ts';

const COUNT = longTests ? 10_000 : 1_500;

it(`keeps exactly ${COUNT} memories when nats-server is killed mid-load`, async () => {
  await using stack = await startTestStack();
  // A short request timeout so publishes during the outage fail fast and are retried.
  await using client = await connect({
    servers: stack.nats.url,
    tenant: 'fault-nats',
    timeoutMs: 2_000,
    ...(await stack.credentials('fault-nats')),
  });
  const counts = await runFaultScenario({
    logs: stack.logs,
    name: 'nats-server SIGKILL',
    stack,
    client,
    count: COUNT,
    fault: [
      {
        at: Math.floor(COUNT * 0.4),
        action: async () => {
          await stack.nats.kill('SIGKILL');
          // Restarted from the load's side: the next batch's publish fails until it is back.
          void stack.nats.restart();
        },
      },
    ],
  });
  expect(counts).toEqual(expectedCounts(COUNT));
}, 300_000);
