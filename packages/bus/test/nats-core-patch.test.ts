/**
 * The patch of @nats-io/nats-core (patches/, pnpm-workspace.yaml patchedDependencies): a
 * request that was answered no longer goes through `RequestOne.cancel`, which built a
 * `RequestError("cancelled")` with a stack trace on every successful request and threw it
 * away (~3 % of the vector-store's and ~5 % of the embedder's CPU during steady stores: every
 * JetStream publish is a request). Requests that fail must still fail as before.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { RequestOne } from '@nats-io/nats-core/internal';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { natsForTests } from '../src/testing/nats-for-tests.ts';

const bus = natsForTests('nats-core-patch-test');

afterEach(() => {
  vi.restoreAllMocks();
});

describe('patched RequestOne', () => {
  it('settles an answered request without cancelling it', async () => {
    const cancel = vi.spyOn(RequestOne.prototype, 'cancel');
    const sub = bus.nc.subscribe('patch.echo', {
      callback: (_error, msg) => {
        msg.respond(msg.data);
      },
    });
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, n) => bus.nc.request('patch.echo', String(n))),
    );
    expect(replies.map((reply) => reply.string())).toEqual(
      Array.from({ length: 20 }, (_, n) => String(n)),
    );
    expect(cancel).not.toHaveBeenCalled();
    sub.unsubscribe();
  });

  it('still answers JetStream publishes (each one a request)', async () => {
    const cancel = vi.spyOn(RequestOne.prototype, 'cancel');
    const jsm = await jetstreamManager(bus.nc);
    await jsm.streams.add({ name: 'PATCH_TEST', subjects: ['patch.stream'] });
    const js = jetstream(bus.nc);
    const acks = await Promise.all(
      Array.from({ length: 5 }, (_, n) => js.publish('patch.stream', String(n))),
    );
    expect(acks.map((ack) => ack.seq).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
    expect(cancel).not.toHaveBeenCalled();
  });

  it('still rejects a request nobody answers, and one that times out', async () => {
    await expect(bus.nc.request('patch.nobody', 'x')).rejects.toThrow(/no responders/i);
    const sub = bus.nc.subscribe('patch.silent', { callback: () => {} });
    await expect(bus.nc.request('patch.silent', 'x', { timeout: 50 })).rejects.toThrow(/timeout/i);
    sub.unsubscribe();
    // The connection's request mux is left clean: a later request is answered.
    const echo = bus.nc.subscribe('patch.later', {
      callback: (_e, msg) => {
        msg.respond('ok');
      },
    });
    expect((await bus.nc.request('patch.later', 'x')).string()).toBe('ok');
    echo.unsubscribe();
  });
});
