/**
 * Fault (a): the embedder is SIGKILLed in the middle of a load and restarted. Messages it had
 * pulled but not acked are redelivered after the ack wait; nothing is lost or doubled.
 */
import { expect, it } from 'vitest';
import { expectedCounts, FAULT_COUNT, runKillScenario } from '../helpers/faults.ts';

it(`keeps exactly ${FAULT_COUNT} memories when the embedder is killed mid-load`, async () => {
  expect(await runKillScenario('embedder')).toEqual(expectedCounts());
}, 300_000);
