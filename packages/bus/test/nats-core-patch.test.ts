/**
 * The patch of @nats-io/nats-core (patches/, pnpm-workspace.yaml patchedDependencies): a
 * request that was answered no longer goes through `RequestOne.cancel`, which built a
 * `RequestError("cancelled")` with a stack trace on every successful request and threw it
 * away (~3 % of the vector-store's and ~5 % of the embedder's CPU during steady stores: every
 * JetStream publish is a request). Requests that fail must still fail as before.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { RequestOne } from '@nats-io/nats-core/internal';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { connectBus } from '../src/index.ts';
import { type NatsServer, startNatsServer } from '../src/testing/index.ts';

let server: NatsServer;
let nc: NatsConnection;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectBus({ servers: server.url, name: 'nats-core-patch-test' });
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('patched RequestOne', () => {
  it('settles an answered request without cancelling it', async () => {
    const cancel = vi.spyOn(RequestOne.prototype, 'cancel');
    const sub = nc.subscribe('patch.echo', {
      callback: (_error, msg) => {
        msg.respond(msg.data);
      },
    });
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, n) => nc.request('patch.echo', String(n))),
    );
    expect(replies.map((reply) => reply.string())).toEqual(
      Array.from({ length: 20 }, (_, n) => String(n)),
    );
    expect(cancel).not.toHaveBeenCalled();
    sub.unsubscribe();
  });

  it('still answers JetStream publishes (each one a request)', async () => {
    const cancel = vi.spyOn(RequestOne.prototype, 'cancel');
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'PATCH_TEST', subjects: ['patch.stream'] });
    const js = jetstream(nc);
    const acks = await Promise.all(
      Array.from({ length: 5 }, (_, n) => js.publish('patch.stream', String(n))),
    );
    expect(acks.map((ack) => ack.seq).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
    expect(cancel).not.toHaveBeenCalled();
  });

  it('still rejects a request nobody answers, and one that times out', async () => {
    await expect(nc.request('patch.nobody', 'x')).rejects.toThrow(/no responders/i);
    const sub = nc.subscribe('patch.silent', { callback: () => {} });
    await expect(nc.request('patch.silent', 'x', { timeout: 50 })).rejects.toThrow(/timeout/i);
    sub.unsubscribe();
    // The connection's request mux is left clean: a later request is answered.
    const echo = nc.subscribe('patch.later', {
      callback: (_e, msg) => {
        msg.respond('ok');
      },
    });
    expect((await nc.request('patch.later', 'x')).string()).toBe('ok');
    echo.unsubscribe();
  });
});
