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
  // Every service runs it at startup, and a stack starts them together: on a fresh server one
  // service's add can lose to another's, which nats-server may report as a name in use or as
  // subjects overlapping the stream just created. Both mean the stream is there.
  it('creates the streams when five services start at once on a fresh server', async () => {
    for (let round = 0; round < 8; round += 1) {
      server = await startNatsServer();
      const services = await Promise.all(
        Array.from({ length: 5 }, (_, i) => connectBus({ servers: server!.url, name: `s${i}` })),
      );
      connections.push(...services);
      const managers = await Promise.all(services.map((nc) => jetstreamManager(nc)));
      await Promise.all(managers.map((jsm) => ensureStreams(jsm)));
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
