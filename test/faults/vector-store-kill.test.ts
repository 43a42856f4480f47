/**
 * Fault (b): the vector-store is SIGKILLed in the middle of a load and restarted on the same
 * data directory. Un-acked writes are redelivered and recognised by id.
 */
import { expect, it } from 'vitest';
import { expectedCounts, FAULT_COUNT, runKillScenario } from '../helpers/faults.ts';

it(`keeps exactly ${FAULT_COUNT} memories when the vector-store is killed mid-load`, async () => {
  expect(await runKillScenario('vector-store')).toEqual(expectedCounts());
}, 300_000);
