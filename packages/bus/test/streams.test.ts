/**
 * The pipeline's streams: created when missing, and refused when another stream, not one of
 * ours, holds their subjects. (A stack's services starting together on a fresh server, with the
 * retry of the start: packages/service-runtime/test/jetstream-start.test.ts.)
 */
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureStreams, streamConfigs } from '../src/index.ts';
import { natsForTests } from '../src/testing/nats-for-tests.ts';

const bus = natsForTests('service');
let jsm: JetStreamManager;

beforeAll(async () => {
  jsm = await jetstreamManager(bus.nc);
});

const ourNames = (): string[] =>
  streamConfigs()
    .map((c) => String(c.name))
    .sort();

describe('ensureStreams', () => {
  it('creates every stream on a fresh server, and changes nothing when run again', async () => {
    await ensureStreams(jsm);
    await ensureStreams(jsm);
    expect((await jsm.streams.names().next()).sort()).toEqual(ourNames());
  });

  it('still refuses when another stream, not one of ours, holds the subjects', async () => {
    for (const name of ourNames()) await jsm.streams.delete(name);
    const [first] = streamConfigs();
    await jsm.streams.add({ name: 'SQUATTER', subjects: [...(first!.subjects ?? [])] });
    await expect(ensureStreams(jsm)).rejects.toThrow(/subjects overlap/);
  });
});
