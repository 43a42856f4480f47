/** The policies' KV store and the embedder's cache of them, on a real nats-server. */
import { connectBus, jetstream, openKv } from '@membus/bus';
import { startNatsServer } from '@membus/bus/testing';
import { type IngestPolicyInput, IngestPolicySchema, MembusError } from '@membus/contracts';
import { describe, expect, it } from 'vitest';
import { evaluatePolicy } from '../src/index.ts';
import { KvPolicyStore, POLICY_BUCKET, PolicyRegistry } from '../src/kv/index.ts';

const policy = (reason: string) =>
  IngestPolicySchema.parse({
    v: 1,
    rules: [
      { name: 'hello', match: { text: [{ contains: 'hello' }] }, action: { type: 'drop', reason } },
    ],
  } satisfies IngestPolicyInput);

async function open() {
  const nats = await startNatsServer();
  const nc = await connectBus({ servers: nats.url, name: 'policy-test' });
  const kv = await openKv(jetstream(nc), POLICY_BUCKET, { ttlMs: 0 });
  let now = Date.parse('2026-12-06T00:00:00.000Z');
  const clock = () => now;
  return {
    kv,
    store: new KvPolicyStore(kv, clock),
    advance: (ms: number) => {
      now += ms;
    },
    clock,
    async [Symbol.asyncDispose]() {
      await nc.close();
      await nats[Symbol.asyncDispose]();
    },
  };
}

const store = {
  text: 'hello there',
  kind: 'fact' as const,
  metadata: {},
  categories: [],
  tags: [],
  importance: 0.5,
};

describe('KvPolicyStore', () => {
  it('writes versions 1, 2, 3 and keeps each one', async () => {
    await using fixture = await open();
    expect(await fixture.store.current('acme')).toBeUndefined();
    for (const [expected, reason] of [
      [0, 'a'],
      [1, 'b'],
      [2, 'c'],
    ] as const)
      await fixture.store.put('acme', policy(reason), expected);
    expect((await fixture.store.current('acme'))?.version).toBe(3);
    const reasons = await Promise.all(
      [1, 2, 3].map(async (version) => {
        const rule = (await fixture.store.version('acme', version))?.policy.rules[0];
        return rule?.action.type === 'drop' ? rule.action.reason : undefined;
      }),
    );
    expect(reasons).toEqual(['a', 'b', 'c']);
    expect(await fixture.store.version('acme', 4)).toBeUndefined();
    expect(await fixture.store.current('globex')).toBeUndefined();
  });

  it('refuses a put on any version but the current one with CONFLICT', async () => {
    await using fixture = await open();
    await fixture.store.put('acme', policy('a'), 0);
    for (const stale of [0, 2]) {
      const error = await fixture.store.put('acme', policy('x'), stale).catch((caught) => caught);
      expect([MembusError.is(error) && error.code, error.details]).toEqual([
        'CONFLICT',
        { currentVersion: 1, expectedVersion: stale },
      ]);
    }
    expect((await fixture.store.current('acme'))?.version).toBe(1);
  });

  it('lets one of two racing puts on the same version win', async () => {
    await using fixture = await open();
    await fixture.store.put('acme', policy('a'), 0);
    const results = await Promise.allSettled([
      fixture.store.put('acme', policy('b'), 1),
      fixture.store.put('acme', policy('c'), 1),
    ]);
    expect(results.map((result) => result.status).sort()).toEqual(['fulfilled', 'rejected']);
    const rejected = results.find((result) => result.status === 'rejected');
    expect((rejected as PromiseRejectedResult).reason.code).toBe('CONFLICT');
    expect((await fixture.store.current('acme'))?.version).toBe(2);
  });

  it('pages the history newest first', async () => {
    await using fixture = await open();
    for (let version = 0; version < 5; version++)
      await fixture.store.put('acme', policy(`r${version}`), version);
    const first = await fixture.store.history('acme', { limit: 2 });
    expect([first.version, first.entries.map((entry) => entry.version), first.nextBefore]).toEqual([
      5,
      [5, 4],
      4,
    ]);
    const last = await fixture.store.history('acme', { before: 2, limit: 2 });
    expect([last.entries.map((entry) => entry.version), last.nextBefore]).toEqual([[1], undefined]);
  });

  it('restores a version the crash of a put left out of the history, on the next put', async () => {
    await using fixture = await open();
    await fixture.store.put('acme', policy('a'), 0);
    await fixture.store.put('acme', policy('b'), 1);
    // As if the put of version 2 stopped between the head and its history entry.
    await fixture.kv.purge('version.acme.2');
    await fixture.store.put('acme', policy('c'), 2);
    const versions = (await fixture.store.history('acme', { limit: 10 })).entries.map(
      (entry) => entry.version,
    );
    expect(versions).toEqual([3, 2, 1]);
  });
});

describe('PolicyRegistry', () => {
  it('loads a policy once, serves it from memory, and reloads it when told of a change', async () => {
    await using fixture = await open();
    const registry = new PolicyRegistry(fixture.store, { clock: fixture.clock });
    expect((await registry.forTenant('acme')).version).toBe(0);
    await fixture.store.put('acme', policy('first'), 0);
    // Still the cached empty policy: nobody said it changed.
    expect((await registry.forTenant('acme')).version).toBe(0);
    registry.invalidate('acme', 1);
    const loaded = await registry.forTenant('acme');
    expect(evaluatePolicy(loaded, store)).toMatchObject({
      action: 'drop',
      reason: 'first',
      version: 1,
    });
    // An event of an older version than the one held changes nothing.
    await fixture.store.put('acme', policy('second'), 1);
    registry.invalidate('acme', 1);
    expect((await registry.forTenant('acme')).version).toBe(1);
  });

  it('reloads after maxAgeMs even without an event (a replica that missed it)', async () => {
    await using fixture = await open();
    const registry = new PolicyRegistry(fixture.store, { clock: fixture.clock, maxAgeMs: 30_000 });
    expect((await registry.forTenant('acme')).version).toBe(0);
    await fixture.store.put('acme', policy('late'), 0);
    fixture.advance(30_000);
    expect((await registry.forTenant('acme')).version).toBe(1);
  });
});
