/**
 * A service's JetStream start against a real nats-server: a stack's services start together on a
 * fresh server, and nats-server 2.9 now and then leaves some of the JetStream API requests that
 * arrive together unanswered; the start runs again from the start. A relay in front of the real
 * API that drops the requests chosen makes those losses happen on purpose.
 */
import { connectBus, isUnanswered, type NatsConnection, streamConfigs } from '@membus/bus';
import { type NatsServer, startNatsServer } from '@membus/bus/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { startJetStream } from '../src/index.ts';

let server: NatsServer | undefined;
const connections: NatsConnection[] = [];

afterEach(async () => {
  await Promise.all(connections.splice(0).map((nc) => nc.close()));
  await server?.stop();
  server = undefined;
});

describe('startJetStream', () => {
  // On a fresh server one service's add can lose to another's, which nats-server may report as a
  // name in use or as subjects overlapping the stream just created (both mean the stream is
  // there); and some of five requests arriving together may go unanswered.
  it('creates the streams when five services start at once on a fresh server', async () => {
    for (let round = 0; round < 8; round += 1) {
      server = await startNatsServer();
      const services = await Promise.all(
        Array.from({ length: 5 }, (_, i) => connectBus({ servers: server!.url, name: `s${i}` })),
      );
      connections.push(...services);
      const managers = await Promise.all(services.map((nc) => startJetStream(nc)));
      const names = (await managers[0]!.streams.names().next()).sort();
      expect(names).toEqual(
        streamConfigs()
          .map((c) => c.name)
          .sort(),
      );
      await Promise.all(connections.splice(0).map((nc) => nc.close()));
      await server.stop();
      server = undefined;
    }
  });

  /**
   * A relay in front of the real JetStream API (`LOSSY.API.>` → `$JS.API.>`) that leaves the
   * requests `drop` chooses unanswered, as nats-server 2.9 did: the start's retries run against
   * real streams.
   */
  async function lossyApi(drop: (index: number) => boolean): Promise<{ requests: () => number }> {
    server = await startNatsServer();
    const relay = await connectBus({ servers: server.url, name: 'relay' });
    connections.push(relay);
    let index = 0;
    relay.subscribe('LOSSY.API.>', {
      callback: (error, msg) => {
        if (error !== null) return;
        index += 1;
        if (drop(index)) return;
        const subject = `$JS.API.${msg.subject.slice('LOSSY.API.'.length)}`;
        relay.request(subject, msg.data, { timeout: 5_000 }).then(
          (reply) => msg.respond(reply.data),
          () => {},
        );
      },
    });
    await relay.flush();
    return { requests: () => index };
  }

  it('tries again from the start when a JetStream API request gets no answer', async () => {
    const relay = await lossyApi((index) => index === 3);
    const nc = await connectBus({ servers: server!.url, name: 'service' });
    connections.push(nc);
    const retries: number[] = [];
    const jsm = await startJetStream(nc, {
      manager: { apiPrefix: 'LOSSY.API', timeout: 300 },
      consumers: [{ stream: streamConfigs()[0]!.name as string, durable: 'worker' }],
      onRetry: (attempt, error) => {
        expect(isUnanswered(error)).toBe(true);
        retries.push(attempt);
      },
    });
    expect(retries).toEqual([1]);
    expect((await jsm.streams.names().next()).sort()).toEqual(
      streamConfigs()
        .map((c) => c.name)
        .sort(),
    );
    expect((await jsm.consumers.info(streamConfigs()[0]!.name as string, 'worker')).name).toBe(
      'worker',
    );
    expect(relay.requests()).toBeGreaterThan(3);
  });

  it('fails the start with the timeout once every try went unanswered', async () => {
    const relay = await lossyApi(() => true);
    const nc = await connectBus({ servers: server!.url, name: 'service' });
    connections.push(nc);
    const retries: number[] = [];
    await expect(
      startJetStream(nc, {
        manager: { apiPrefix: 'LOSSY.API', timeout: 200 },
        attempts: 3,
        onRetry: (attempt) => retries.push(attempt),
      }),
    ).rejects.toSatisfy(isUnanswered);
    expect(retries).toEqual([1, 2]);
    expect(relay.requests()).toBe(3);
  });
});
