/**
 * Graceful shutdown: SIGTERM to the embedder and the vector-store in the middle of a load.
 * Each drains (stops pulling, finishes and acks its in-flight batches) and exits 0; after a
 * restart every memory is there exactly once.
 */

import type { ServiceName } from '@membus/cli';
import { expect, it } from 'vitest';
import { expectedCounts, FAULT_COUNT, runFaultScenario } from '../helpers/faults.ts';
import { startTestStack } from '../helpers/stack.ts';

it(`drains on SIGTERM, exits 0 and loses none of ${FAULT_COUNT} memories`, async () => {
  await using stack = await startTestStack();
  const client = await stack.client('fault-sigterm');
  const exitCodes: (number | null)[] = [];
  const drainAndRestart = (service: ServiceName) => async () => {
    exitCodes.push((await stack.services.get(service)?.stop('SIGTERM')) ?? null);
    await stack.restart(service);
  };
  const counts = await runFaultScenario({
    name: 'SIGTERM (graceful drain)',
    stack,
    client,
    faults: [
      { after: 0.3, action: drainAndRestart('vector-store') },
      { after: 0.6, action: drainAndRestart('embedder') },
    ],
  });
  expect({ ...counts, exitCodes }).toEqual({ ...expectedCounts(), exitCodes: [0, 0] });
}, 300_000);
