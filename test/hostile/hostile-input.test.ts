import { waitFor } from '@membus/bus/testing';
import { ErrorReplySchema } from '@membus/contracts';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { deadLetterCount, healthStatus, isAlive, longTests } from '../helpers/faults.ts';
import { hostilePayload } from './hostile-corpus.ts';
import { hostileStack } from './hostile-stack.ts';

const TOTAL = longTests ? 50_000 : 10_000;
const BATCH = 500;
const TENANT = 'hostile';
const requestSubjects = ['query', 'get', 'list', 'update', 'delete', 'history', 'stats'].map(
  (name) => `memory.${name}.${TENANT}`,
);
const probe = hostileStack(TENANT, 'hostile');

interface Outcome {
  requests: number;
  typedErrors: number;
  untyped: string[];
  stores: number;
  validAfterBatch: number;
}

it(`survives ${TOTAL} hostile messages with typed errors, dead letters and working valid traffic`, async () => {
  const payloads = fc.sample(hostilePayload, { numRuns: TOTAL, seed: 8 });
  const outcome: Outcome = {
    requests: 0,
    typedErrors: 0,
    untyped: [],
    stores: 0,
    validAfterBatch: 0,
  };
  for (let start = 0; start < payloads.length; start += BATCH) {
    const batch = payloads.slice(start, start + BATCH);
    await Promise.all(
      batch.map(async (payload, offset) => {
        const index = start + offset;
        // Every fifth message is a JetStream store; the rest rotate over the request subjects
        // and memory.embed.
        if (index % 5 === 0) {
          outcome.stores++;
          await probe.nc.request(`memory.store.${TENANT}`, payload, { timeout: 10_000 });
          return;
        }
        const subjects = [...requestSubjects, 'memory.embed'];
        const subject = subjects[index % subjects.length] as string;
        outcome.requests++;
        const reply = await probe.nc.request(subject, payload, { timeout: 10_000 });
        const parsed = ErrorReplySchema.safeParse(JSON.parse(new TextDecoder().decode(reply.data)));
        if (parsed.success) outcome.typedErrors++;
        else if (outcome.untyped.length < 5)
          outcome.untyped.push(`${subject}: ${new TextDecoder().decode(reply.data).slice(0, 200)}`);
      }),
    );
    // Valid traffic after every batch.
    const stored = await probe.client.store(
      { text: `valid memory after hostile batch ${start}` },
      { wait: 'queryable', timeoutMs: 20_000 },
    );
    const found = await probe.client.get(stored.memoryId ?? stored.id);
    if (found) outcome.validAfterBatch++;
    else
      console.log(
        `[hostile] valid store after batch ${start} not found: ${JSON.stringify(stored)}`,
      );
  }
  const deadLettered = await waitFor(
    async () => {
      const count = await deadLetterCount(probe.stack.nats.url, TENANT, probe.stack.admin);
      return count >= outcome.stores ? count : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250, what: 'every bad store in the DLQ' },
  ).catch(async () => deadLetterCount(probe.stack.nats.url, TENANT, probe.stack.admin));
  const processes = [...probe.stack.services.values()];
  const health = await Promise.all(processes.map((service) => healthStatus(service.metricsPort)));
  const batches = Math.ceil(payloads.length / BATCH);
  console.log(
    `[hostile] messages=${payloads.length} requests=${outcome.requests} typedErrors=${outcome.typedErrors} stores=${outcome.stores} deadLettered=${deadLettered} validAfterBatch=${outcome.validAfterBatch}/${batches}`,
  );
  expect({
    typedErrors: outcome.typedErrors,
    untyped: outcome.untyped,
    deadLettered,
    validAfterBatch: outcome.validAfterBatch,
    alive: processes.map((service) => isAlive(service.process.pid)),
    health,
  }).toEqual({
    typedErrors: outcome.requests,
    untyped: [],
    deadLettered: outcome.stores,
    validAfterBatch: batches,
    alive: processes.map(() => true),
    health: processes.map(() => 200),
  });
}, 240_000);
