/**
 * Fault (c): nats-server is SIGKILLed mid-load and restarted on the same port and JetStream
 * store. Services and the client reconnect; a store whose publish failed while NATS was down
 * is sent again by the load generator with the same id (idempotent).
 */
import { connect } from '@membus/client';
import { expect, it } from 'vitest';
import { expectedCounts, FAULT_COUNT, runFaultScenario } from '../helpers/faults.ts';
import { startTestStack } from '../helpers/stack.ts';

it(`keeps exactly ${FAULT_COUNT} memories when nats-server is killed mid-load`, async () => {
  await using stack = await startTestStack();
  // A short request timeout so publishes during the outage fail fast and are retried.
  await using client = await connect({
    servers: stack.nats.url,
    tenant: 'fault-nats',
    timeoutMs: 2_000,
    ...(await stack.credentials('fault-nats')),
  });
  const restartNats = async () => {
    await stack.nats.kill('SIGKILL');
    // Restarted from the load's side: the next batch's publish fails until it is back.
    void stack.nats.restart();
  };
  const faults = [{ after: 0.4, action: restartNats }];
  const counts = await runFaultScenario({ name: 'nats-server SIGKILL', stack, client, faults });
  expect(counts).toEqual(expectedCounts());
}, 300_000);
