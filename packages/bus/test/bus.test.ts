import { DeadLetterSchema, Headers, Limits, MembusError, Streams } from '@membus/contracts';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  AGENT_STREAM_DUPLICATE_WINDOW_MS,
  consumeStream,
  decode,
  encode,
  ensureConsumer,
  ensureStreams,
  privateMessageId,
  publishDurable,
  request,
  type ServeOptions,
  serve,
} from '../src/index.ts';
import { waitFor } from '../src/testing/index.ts';
import { natsForTests } from '../src/testing/nats-for-tests.ts';

const Ping = z.strictObject({ v: z.literal(1), n: z.number().int() });
const Pong = z.object({ v: z.literal(1), doubled: z.number() });

const bus = natsForTests('bus-test');

beforeAll(async () => {
  await ensureStreams(await jetstreamManager(bus.nc), { duplicateWindowMs: 60_000 });
});

describe('decode', () => {
  it('rejects bytes that are not JSON with INVALID_MESSAGE', () => {
    const result = decode(Ping, new TextEncoder().encode('{nope'));
    expect(result.ok ? undefined : result.error.code).toBe('INVALID_MESSAGE');
  });

  it('names the offending field of a schema violation', () => {
    const result = decode(Ping, encode({ v: 1, n: 'x' }));
    expect(result.ok ? undefined : result.error.message).toMatch(/^n:/);
  });
});

describe('request/reply', () => {
  /** A tenant-scoped Ping service in queue group q. */
  const servePing = <R>(subject: string, handler: ServeOptions<typeof Ping, R>['handler']) =>
    serve(bus.nc, { subject, queue: 'q', schema: Ping, tenantScoped: true, handler });

  it('answers a typed request with the tenant from the subject', async () => {
    const service = servePing('test.double.*', async (value, context) => ({
      v: 1 as const,
      doubled: value.n * 2,
      tenant: context.tenant,
    }));
    const reply = await request(
      bus.nc,
      'test.double.acme',
      { v: 1, n: 21 },
      Pong.extend({ tenant: z.string() }),
    );
    await service.drain();
    expect(reply).toEqual({ v: 1, doubled: 42, tenant: 'acme' });
  });

  it('turns an invalid request into a typed INVALID_MESSAGE error for the caller', async () => {
    const service = servePing('test.invalid.*', async (value) => ({
      v: 1 as const,
      doubled: value.n,
    }));
    const error = await request(bus.nc, 'test.invalid.acme', { v: 1, n: 'seven' }, Pong).catch(
      (e: unknown) => e,
    );
    await service.drain();
    expect(error instanceof MembusError ? error.code : error).toBe('INVALID_MESSAGE');
  });

  it('reports a request with no responder as retryable UNAVAILABLE', async () => {
    const error = await request(bus.nc, 'test.nobody.acme', { v: 1, n: 1 }, Pong).catch(
      (e: unknown) => e,
    );
    expect(error instanceof MembusError ? [error.code, error.retryable] : error).toEqual([
      'UNAVAILABLE',
      true,
    ]);
  });
});

describe('consumeStream decision table', () => {
  const Item = z.strictObject({
    v: z.literal(1),
    id: z.string(),
    fail: z.enum(['no', 'retry', 'fatal']),
  });

  async function setup(durable: string) {
    const js = jetstream(bus.nc);
    await ensureConsumer(await jetstreamManager(bus.nc), {
      stream: Streams.store.name,
      durable,
      filterSubject: `memory.store.${durable}`,
      maxDeliver: 3,
      ackWaitMs: 5_000,
    });
    const seen: string[] = [];
    const consumer = await consumeStream({
      js,
      stream: Streams.store.name,
      consumer: durable,
      schema: Item,
      maxDeliver: 3,
      backoffMs: () => 10,
      handler: async (items) =>
        items.map((item) => {
          seen.push(`${item.value.id}#${item.deliveries}`);
          if (item.value.fail === 'retry') {
            return { ok: false, error: new MembusError('UNAVAILABLE', 'backend down') };
          }
          if (item.value.fail === 'fatal') {
            return { ok: false, error: new MembusError('CONFLICT', 'cannot ever work') };
          }
          return { ok: true };
        }),
    });
    return { js, seen, consumer };
  }

  async function deadLetters(tenant: string) {
    const jsm = await jetstreamManager(bus.nc);
    const info = await jsm.streams.info(Streams.dlq.name, {
      subjects_filter: `memory.dlq.${tenant}`,
    });
    const count = info.state.subjects?.[`memory.dlq.${tenant}`] ?? 0;
    const letters = [];
    for (let seq = 1; seq <= info.state.last_seq; seq++) {
      const message = await jsm.streams.getMessage(Streams.dlq.name, { seq }).catch(() => null);
      if (message?.subject === `memory.dlq.${tenant}`) {
        letters.push({
          code: message.header.get(Headers.errorCode),
          letter: DeadLetterSchema.parse(message.json()),
        });
      }
    }
    return { count, letters };
  }

  it('acks a good message once', async () => {
    const { js, seen, consumer } = await setup('tgood');
    await publishDurable(js, 'memory.store.tgood', { v: 1, id: 'a', fail: 'no' });
    await waitFor(() => seen.length === 1, { what: 'delivery' });
    await consumer.stop();
    const info = await (await jetstreamManager(bus.nc)).consumers.info(Streams.store.name, 'tgood');
    expect(info.num_ack_pending + info.num_pending).toBe(0);
  });

  it('dead-letters an undecodable message with its reason, without calling the handler', async () => {
    const { js, seen, consumer } = await setup('tbad');
    await js.publish('memory.store.tbad', new TextEncoder().encode('not json'));
    const { letters } = await waitFor(async () => {
      const found = await deadLetters('tbad');
      return found.count === 1 ? found : undefined;
    });
    await consumer.stop();
    expect({ code: letters[0]?.code, seen: seen.length }).toEqual({
      code: 'INVALID_MESSAGE',
      seen: 0,
    });
  });

  it('keeps a dead letter of an oversize message under the limit, saying it cut the payload', async () => {
    const { js, consumer } = await setup('tbig');
    await js.publish('memory.store.tbig', new TextEncoder().encode('x'.repeat(300_000)));
    const { letters } = await waitFor(async () => {
      const found = await deadLetters('tbig');
      return found.count === 1 ? found : undefined;
    });
    await consumer.stop();
    const letter = letters[0]?.letter;
    expect({
      code: letters[0]?.code,
      kept: letter?.payload.length,
      payloadBytes: letter?.payloadBytes,
      truncated: letter?.truncated,
    }).toEqual({
      code: 'LIMIT_EXCEEDED',
      kept: Limits.deadLetterPayloadBytes,
      payloadBytes: 300_000,
      truncated: true,
    });
  });

  it('retries a retryable failure up to maxDeliver, then dead-letters it', async () => {
    const { js, seen, consumer } = await setup('tretry');
    await publishDurable(js, 'memory.store.tretry', { v: 1, id: 'r', fail: 'retry' });
    await waitFor(async () => (await deadLetters('tretry')).count === 1, { what: 'dead letter' });
    await consumer.stop();
    expect(seen).toEqual(['r#1', 'r#2', 'r#3']);
  });

  it('dead-letters a non-retryable failure on first delivery', async () => {
    const { js, seen, consumer } = await setup('tfatal');
    await publishDurable(js, 'memory.store.tfatal', { v: 1, id: 'f', fail: 'fatal' });
    const { letters } = await waitFor(async () => {
      const found = await deadLetters('tfatal');
      return found.count === 1 ? found : undefined;
    });
    await consumer.stop();
    expect({ seen, code: letters[0]?.letter.error.code }).toEqual({
      seen: ['f#1'],
      code: 'CONFLICT',
    });
  });

  it('leaves nothing pending once a message is dead-lettered (the terminate is honoured)', async () => {
    const { js, consumer } = await setup('tterm');
    await publishDurable(js, 'memory.store.tterm', { v: 1, id: 't', fail: 'fatal' });
    await waitFor(async () => (await deadLetters('tterm')).count === 1, { what: 'dead letter' });
    const jsm = await jetstreamManager(bus.nc);
    // Well inside the 5 s ack wait: a terminate the server ignored would still be pending.
    const info = await waitFor(
      async () => {
        const current = await jsm.consumers.info(Streams.store.name, 'tterm');
        return current.num_ack_pending === 0 ? current : undefined;
      },
      { what: 'ack pending back to 0', timeoutMs: 2_000 },
    );
    await consumer.stop();
    expect(info.num_ack_pending + info.num_pending + info.num_redelivered).toBe(0);
  });

  it('with maxWaitMs 0 takes every message already delivered as one batch, without waiting for more', async () => {
    const durable = 'tdrain';
    const js = jetstream(bus.nc);
    const jsm = await jetstreamManager(bus.nc);
    await ensureConsumer(jsm, {
      stream: Streams.store.name,
      durable,
      filterSubject: `memory.store.${durable}`,
      maxDeliver: 3,
      ackWaitMs: 5_000,
    });
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const batches: string[][] = [];
    const consumer = await consumeStream({
      js,
      stream: Streams.store.name,
      consumer: durable,
      schema: Item,
      maxBatch: 128,
      maxWaitMs: 0,
      handler: async (items) => {
        batches.push(items.map((item) => item.value.id));
        if (batches.length === 1) await held;
        return items.map(() => ({ ok: true as const }));
      },
    });
    const publish = (id: string) =>
      publishDurable(js, `memory.store.${durable}`, { v: 1, id, fail: 'no' });
    await publish('first');
    await waitFor(() => batches.length === 1, { what: 'first batch' });
    // While the first batch is in flight, five more are delivered to this connection ...
    for (const id of ['a', 'b', 'c', 'd', 'e']) await publish(id);
    await waitFor(
      async () => (await jsm.consumers.info(Streams.store.name, durable)).num_ack_pending === 6,
      { what: 'six delivered' },
    );
    // ... and read by it (a round trip after the server sent them).
    await bus.nc.flush();
    release();
    await waitFor(() => batches.flat().length === 6, { what: 'all handled' });
    await consumer.stop();
    expect(batches).toEqual([['first'], ['a', 'b', 'c', 'd', 'e']]);
  });

  it('stores a re-published message id once on an internal stream (JetStream de-duplication)', async () => {
    const js = jetstream(bus.nc);
    const first = await publishDurable(
      js,
      'memory.embedded.tdup',
      { v: 1 },
      { messageId: 'same-id' },
    );
    const second = await publishDurable(
      js,
      'memory.embedded.tdup',
      { v: 1 },
      { messageId: 'same-id' },
    );
    expect([first.duplicate, second.duplicate, second.seq]).toEqual([false, true, first.seq]);
  });

  it('keeps the de-duplication window of the streams agents publish into at the minimum', async () => {
    const jsm = await jetstreamManager(bus.nc);
    const windows = await Promise.all(
      [
        Streams.store.name,
        Streams.outcomes.name,
        Streams.lifecycle.name,
        Streams.embedded.name,
      ].map(async (name) => (await jsm.streams.info(name)).config.duplicate_window / 1e6),
    );
    expect(windows).toEqual([
      AGENT_STREAM_DUPLICATE_WINDOW_MS,
      AGENT_STREAM_DUPLICATE_WINDOW_MS,
      AGENT_STREAM_DUPLICATE_WINDOW_MS,
      60_000,
    ]);
  });

  it('derives private message ids no one else can predict', () => {
    const id = privateMessageId('outcome', 'globex', 'x');
    expect([
      id === privateMessageId('outcome', 'globex', 'x'),
      id === privateMessageId('outcome', 'acme', 'x'),
      id.includes('globex'),
    ]).toEqual([true, false, false]);
  });
});
