/** The JetStream reader behind the backlog and DLQ metrics, against a real nats-server. */
import {
  connectBus,
  createHeaders,
  ensureConsumer,
  ensureStreams,
  jetStreamStatusReader,
  jetstream,
  jetstreamManager,
} from '@membus/bus';
import { type NatsServer, startNatsServer } from '@membus/bus/testing';
import { Streams, Subjects } from '@membus/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let nats: NatsServer;
let status: Awaited<ReturnType<ReturnType<typeof jetStreamStatusReader>>>;

beforeAll(async () => {
  nats = await startNatsServer();
  const nc = await connectBus({ servers: nats.url, name: 'jetstream-status-test' });
  try {
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    await ensureStreams(jsm, { storage: 'memory' });
    await ensureConsumer(jsm, { stream: Streams.store.name, durable: 'embedder' });
    for (const tenant of ['acme', 'acme', 'globex']) {
      await js.publish(`${Subjects.store}.${tenant}`, '{}');
      await js.publish(`${Subjects.dlq}.${tenant}`, '{}', { headers: createHeaders() });
    }
    status = await jetStreamStatusReader(jsm, [
      { stream: Streams.store.name, consumer: 'embedder' },
      { stream: Streams.store.name, consumer: 'absent' },
    ])();
  } finally {
    await nc.close();
  }
});

afterAll(async () => {
  await nats?.stop();
});

describe('jetStreamStatusReader', () => {
  it('reads the pending messages of existing consumers only', () => {
    expect(status.consumers.map((consumer) => [consumer.consumer, consumer.pending])).toEqual([
      ['embedder', 3],
    ]);
  });

  it('counts dead letters per tenant', () => {
    expect(status.deadLetters).toEqual({ acme: 2, globex: 1 });
  });
});
