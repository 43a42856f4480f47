/**
 * Hostile input on the pattern-extractor's and compactor's subjects: the shared corpus plus
 * near-valid messages (one field wrong) for each schema. Every bad outcome and session end is
 * dead-lettered with its reason, every bad request gets a typed error reply, the services stay
 * alive and healthy, and a valid outcome, patterns, metrics and audit request work after
 * every batch.
 */
import { randomUUID } from 'node:crypto';
import { decode, jetstream, jetstreamManager } from '@membus/bus';
import { waitFor } from '@membus/bus/testing';
import {
  AuditRequestSchema,
  CompactRequestSchema,
  Consumers,
  DeadLetterSchema,
  ErrorCodes,
  ErrorReplySchema,
  Headers,
  MetricsRequestSchema,
  OutcomeSchema,
  PatternsRequestSchema,
  SessionEndSchema,
  Streams,
  Subjects,
} from '@membus/contracts';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import type { z } from 'zod';
import { deadLetterCount, healthStatus, isAlive, longTests, metricSum } from '../helpers/faults.ts';
import { encoder, hostilePayload, nasty } from './hostile-corpus.ts';
import { hostileStack } from './hostile-stack.ts';

const TOTAL = longTests ? 30_000 : 10_000;
const BATCH = 500;
const TENANT = 'hostile-lifecycle';
const decoder = new TextDecoder();
const now = '2026-11-21T10:00:00.000Z';

interface Target {
  subject: string;
  schema: z.ZodType;
  /** JetStream (dead-lettered) or request/reply (typed error reply). */
  kind: 'stream' | 'request';
  /** Objects that are valid except for one field. */
  nearValid: fc.Arbitrary<unknown>;
}

/** `base` with one of `mutations` applied (a key set to `undefined` is dropped by JSON). */
const mutate = (base: Record<string, unknown>, mutations: Record<string, unknown>[]) =>
  fc.constantFrom(...mutations).map((mutation) => ({ ...base, ...mutation }));
const notALabel = fc.constantFrom('', ' leading space', 'x'.repeat(500), 'tab\tin\u0007bell', 7);

const validOutcome = {
  v: 1,
  id: '01935c3e-8f5a-7c3b-9d2e-4f6a8b1c2d3e',
  taskType: 'deployment',
  success: true,
  steps: ['build', 'deploy'],
  config: { platform: 'vercel' },
  occurredAt: now,
};
const targets: Target[] = [
  {
    subject: `${Subjects.outcome}.${TENANT}`,
    schema: OutcomeSchema,
    kind: 'stream',
    nearValid: fc.oneof(
      mutate(validOutcome, [
        { id: undefined },
        { id: 'not-a-uuid' },
        { success: 'yes' },
        { success: undefined },
        { occurredAt: 'yesterday' },
        { occurredAt: undefined },
        { config: { nested: { platform: 'vercel' } } },
        { config: [1, 2] },
        { config: Object.fromEntries(Array.from({ length: 40 }, (_, index) => [`k${index}`, 1])) },
        { steps: Array.from({ length: 65 }, () => 'step') },
        { steps: ['   '] },
        { steps: ['x'.repeat(201)] },
        { durationMs: -1 },
        { cost: 'free' },
        { error: '' },
        { request: 'r'.repeat(4_001) },
        { metadata: [1] },
        { tenant: 'other' },
        { v: 2 },
      ]),
      notALabel.map((label) => ({ ...validOutcome, taskType: label })),
      nasty
        .filter((value) => !/^[0-9a-f-]{36}$/i.test(value))
        .map((value) => ({ ...validOutcome, id: value })),
    ),
  },
  {
    subject: `${Subjects.sessionEnd}.${TENANT}`,
    schema: SessionEndSchema,
    kind: 'stream',
    nearValid: fc.oneof(
      mutate({ v: 1, sessionId: 's-1', endedAt: now }, [
        { sessionId: undefined },
        { endedAt: 'later' },
        { endedAt: 1_700_000_000 },
        { compact: true },
        { v: '1' },
      ]),
      notALabel.map((label) => ({ v: 1, sessionId: label })),
    ),
  },
  {
    subject: `${Subjects.patterns}.${TENANT}`,
    schema: PatternsRequestSchema,
    kind: 'request',
    nearValid: mutate({ v: 1, taskType: 'deployment' }, [
      { limit: 0 },
      { limit: 101 },
      { minSuccessRate: 2 },
      { minSupport: 0 },
      { objective: 'speed' },
      { variantKinds: [] },
      { variantKinds: ['dag'] },
      { includeFailures: 'no' },
      { request: '' },
      { taskType: '' },
      { v: undefined },
    ]),
  },
  {
    subject: `${Subjects.metrics}.${TENANT}`,
    schema: MetricsRequestSchema,
    kind: 'request',
    nearValid: fc.oneof(
      mutate({ v: 1 }, [{ window: 7 }, { v: 0 }]),
      notALabel.map((label) => ({ v: 1, taskType: label })),
      notALabel.map((label) => ({ v: 1, namespace: label })),
    ),
  },
  {
    subject: `${Subjects.compact}.${TENANT}`,
    schema: CompactRequestSchema,
    kind: 'request',
    nearValid: fc.oneof(
      mutate({ v: 1, sweeps: ['expire'], dryRun: true }, [
        { sweeps: undefined },
        { sweeps: [] },
        { sweeps: ['vacuum'] },
        { sweeps: ['expire', 'expire', 'tiers', 'tiers', 'duplicates', 'importance'] },
        { dryRun: 'yes' },
        { tenant: 'other' },
      ]),
      notALabel.map((label) => ({ v: 1, sessionId: label, dryRun: true })),
    ),
  },
  {
    subject: `${Subjects.audit}.${TENANT}`,
    schema: AuditRequestSchema,
    kind: 'request',
    nearValid: mutate({ v: 1, maxMemories: 10 }, [
      { staleDays: 0 },
      { staleDays: -1 },
      { duplicateThreshold: 2 },
      { maxMemories: 0 },
      { maxMemories: 1.5 },
      { maxMemories: 1_000_000_000 },
      { namespace: '' },
      { filter: {} },
    ]),
  },
];

/** For each target: mostly the shared corpus, a third near-valid messages for its schema. */
const corpusFor = (target: Target): fc.Arbitrary<Uint8Array> =>
  fc.oneof(
    { arbitrary: hostilePayload, weight: 2 },
    {
      arbitrary: target.nearValid.map((value) => encoder.encode(JSON.stringify(value))),
      weight: 1,
    },
  );

const probe = hostileStack(TENANT, 'hostile-lifecycle', [
  'embedder',
  'vector-store',
  'pattern-extractor',
  'compactor',
]);

/** Every dead letter of the tenant: its original subject, and whether it carries its reason. */
async function readDeadLetters(expected: number) {
  const js = jetstream(probe.nc);
  const consumer = await js.consumers.get(Streams.dlq.name, {
    // A string (not an array): filter_subject, which nats-server 2.9 understands.
    filter_subjects: `${Subjects.dlq}.${TENANT}`,
  });
  const letters: { subject: string; reasoned: boolean }[] = [];
  if (expected === 0) return letters;
  const messages = await consumer.consume();
  for await (const message of messages) {
    const code = message.headers?.get(Headers.errorCode) ?? '';
    const text = message.headers?.get(Headers.errorMessage) ?? '';
    const subject = message.headers?.get(Headers.originalSubject) ?? '';
    const body = decode(DeadLetterSchema, message.data);
    letters.push({
      subject,
      reasoned:
        code in ErrorCodes &&
        text.length > 0 &&
        body.ok &&
        body.value.error.code === code &&
        body.value.subject === subject,
    });
    if (message.info.pending === 0) break;
  }
  await messages.close();
  return letters;
}

/**
 * Waits until a durable consumer has been handed everything in its stream; the DLQ counts below
 * show each message was handled once (that nothing stays ack-pending after a dead letter is
 * `packages/bus/test/bus.test.ts`'s to prove).
 */
async function delivered(stream: string, consumer: string): Promise<void> {
  const jsm = await jetstreamManager(probe.nc);
  let last = '';
  await waitFor(
    async () => {
      const info = await jsm.consumers.info(stream, consumer);
      last = `pending=${info.num_pending} ackPending=${info.num_ack_pending} redelivered=${info.num_redelivered}`;
      return info.num_pending === 0;
    },
    { timeoutMs: 60_000, intervalMs: 100, what: `${consumer} on ${stream} to take everything` },
  ).catch((error: unknown) => {
    throw new Error(`${String(error)} (${last}); logs:\n${probe.stack.logs.slice(-20).join('\n')}`);
  });
}

/** Session compactions the compactor finished for session-end messages. */
const sessionEndCompactions = () =>
  metricSum(
    (probe.stack.services.get('compactor') as { metricsPort: number }).metricsPort,
    'membus_compactions_total',
    { trigger: 'session_end' },
  );

it(`survives ${TOTAL} hostile lifecycle messages with typed errors, dead letters and working valid traffic`, async () => {
  const corpora = targets.map((target, index) =>
    fc.sample(corpusFor(target), {
      numRuns: Math.ceil(TOTAL / targets.length),
      seed: 80 + index,
    }),
  );
  // The corpus must be hostile: a message its schema accepts would test nothing.
  const accepted = targets.flatMap((target, index) =>
    (corpora[index] as Uint8Array[])
      .filter((payload) => decode(target.schema, payload).ok)
      .slice(0, 3)
      .map((payload) => `${target.subject}: ${decoder.decode(payload).slice(0, 200)}`),
  );
  expect(accepted).toEqual([]);

  const sent = new Map<string, number>(targets.map((target) => [target.subject, 0]));
  let requests = 0;
  let typedErrors = 0;
  const untyped: string[] = [];
  const rejectedPublishes: string[] = [];
  let validAfterBatch = 0;
  let messages = 0;
  const perTarget = Math.ceil(TOTAL / targets.length);
  const batches = Math.ceil((perTarget * targets.length) / BATCH);

  for (let batchIndex = 0; batchIndex < batches; batchIndex++) {
    const work: Promise<void>[] = [];
    for (let offset = 0; offset < BATCH; offset++) {
      const index = batchIndex * BATCH + offset;
      const target = targets[index % targets.length] as Target;
      const payload = corpora[index % targets.length]?.[Math.floor(index / targets.length)];
      if (!payload) continue;
      messages++;
      work.push(
        (async () => {
          const reply = await probe.nc.request(target.subject, payload, { timeout: 10_000 });
          const text = decoder.decode(reply.data);
          if (target.kind === 'stream') {
            // The JetStream PubAck: the stream holds it, so the consumer must dead-letter it.
            if (text.includes('"error"')) rejectedPublishes.push(`${target.subject}: ${text}`);
            else sent.set(target.subject, (sent.get(target.subject) ?? 0) + 1);
            return;
          }
          requests++;
          const parsed = ErrorReplySchema.safeParse(JSON.parse(text));
          if (parsed.success) typedErrors++;
          else if (untyped.length < 5)
            untyped.push(
              `${target.subject}: ${text.slice(0, 200)} <- ${decoder.decode(payload).slice(0, 100)}`,
            );
        })(),
      );
    }
    await Promise.all(work);
    // Valid traffic after every batch: an outcome is learned from, and every request answers.
    const expectedSupport = batchIndex + 1;
    await probe.client.recordOutcome({
      id: randomUUID(),
      taskType: 'deployment',
      namespace: 'valid',
      success: true,
      steps: ['build', 'deploy'],
    });
    const learned = await waitFor(
      async () => {
        const reply = await probe.client.patterns({
          taskType: 'deployment',
          namespace: 'valid',
          variantKinds: ['steps'],
        });
        return reply.patterns[0]?.support === expectedSupport ? reply : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 50, what: `valid outcome ${expectedSupport} learned` },
    ).catch((error: unknown) => {
      console.log(`[hostile-lifecycle] after batch ${batchIndex}: ${String(error)}`);
      return undefined;
    });
    await probe.client.endSession(`valid-session-${batchIndex}`);
    const compacted = await waitFor(
      async () => (await sessionEndCompactions()) === expectedSupport,
      { timeoutMs: 20_000, intervalMs: 100, what: `valid session end ${expectedSupport} handled` },
    ).catch((error: unknown) => {
      console.log(
        `[hostile-lifecycle] after batch ${batchIndex}: ${String(error)}; compactor logs:\n${probe.stack.logs
          .filter((line) => line.startsWith('compactor'))
          .slice(-8)
          .join('\n')}`,
      );
      return false;
    });
    const metrics = await probe.client.taskMetrics({ taskType: 'deployment', namespace: 'valid' });
    const audit = await probe.client.audit({ maxMemories: 50 });
    if (learned && compacted && metrics && audit) validAfterBatch++;
  }

  await delivered(Streams.outcomes.name, Consumers.patternExtractor);
  await delivered(Streams.lifecycle.name, Consumers.compactor);
  const expectedLetters = [...sent.values()].reduce((sum, count) => sum + count, 0);
  const deadLettered = await waitFor(
    async () => {
      const count = await deadLetterCount(probe.stack.nats.url, TENANT, probe.stack.admin);
      return count >= expectedLetters ? count : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250, what: 'every bad outcome and session end in the DLQ' },
  ).catch(async () => deadLetterCount(probe.stack.nats.url, TENANT, probe.stack.admin));
  const letters = await readDeadLetters(deadLettered);
  const lettersBySubject = Object.fromEntries(
    targets
      .filter((target) => target.kind === 'stream')
      .map((target) => [
        target.subject,
        letters.filter((letter) => letter.subject === target.subject).length,
      ]),
  );
  const processes = [...probe.stack.services.values()];
  const health = await Promise.all(processes.map((service) => healthStatus(service.metricsPort)));
  console.log(
    `[hostile] lifecycle messages=${messages} requests=${requests} typedErrors=${typedErrors} streamed=${expectedLetters} deadLettered=${deadLettered} withReason=${letters.filter((letter) => letter.reasoned).length} validAfterBatch=${validAfterBatch}/${batches}`,
  );
  expect({
    typedErrors,
    untyped,
    rejectedPublishes: rejectedPublishes.slice(0, 5),
    deadLettered,
    lettersBySubject,
    withoutReason: letters.filter((letter) => !letter.reasoned).length,
    validAfterBatch,
    alive: processes.map((service) => isAlive(service.process.pid)),
    health,
  }).toEqual({
    typedErrors: requests,
    untyped: [],
    rejectedPublishes: [],
    deadLettered: expectedLetters,
    lettersBySubject: Object.fromEntries(
      targets
        .filter((target) => target.kind === 'stream')
        .map((target) => [target.subject, sent.get(target.subject)]),
    ),
    withoutReason: 0,
    validAfterBatch: batches,
    alive: processes.map(() => true),
    health: processes.map(() => 200),
  });
}, 240_000);
