/**
 * The pipeline's streams: created when missing, and refused when another stream, not one of
 * ours, holds their subjects. (A stack's services starting together on a fresh server, with the
 * retry of the start: packages/service-runtime/test/jetstream-start.test.ts.)
 */
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterEach, describe, expect, it } from 'vitest';
import { connectBus, ensureStreams, streamConfigs } from '../src/index.ts';
import { type NatsServer, startNatsServer } from '../src/testing/index.ts';

let server: NatsServer | undefined;
const connections: NatsConnection[] = [];

afterEach(async () => {
  await Promise.all(connections.splice(0).map((nc) => nc.close()));
  await server?.stop();
  server = undefined;
});

describe('ensureStreams', () => {
  it('creates every stream on a fresh server, and changes nothing when run again', async () => {
    server = await startNatsServer();
    const nc = await connectBus({ servers: server.url, name: 'service' });
    connections.push(nc);
    const jsm = await jetstreamManager(nc);
    await ensureStreams(jsm);
    await ensureStreams(jsm);
    const names = (await jsm.streams.names().next()).sort();
    expect(names).toEqual(
      streamConfigs()
        .map((c) => c.name)
        .sort(),
    );
  });

  it('still refuses when another stream, not one of ours, holds the subjects', async () => {
    server = await startNatsServer();
    const nc = await connectBus({ servers: server.url, name: 'squatter' });
    connections.push(nc);
    const jsm = await jetstreamManager(nc);
    const [first] = streamConfigs();
    await jsm.streams.add({ name: 'SQUATTER', subjects: [...(first!.subjects ?? [])] });
    await expect(ensureStreams(jsm)).rejects.toThrow(/subjects overlap/);
  });
});
