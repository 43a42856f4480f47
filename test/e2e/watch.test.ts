/**
 * The change feed (issue 23, decision 008): `watch()` follows a tenant's changes from now, replays
 * them from a time or a sequence, narrows them by filter, and only ever carries its own tenant's
 * events, whatever the request names.
 */
import { randomUUID } from 'node:crypto';
import { request } from '@membus/bus';
import type { ChangeEvent, ChangeStream, MemoryClient } from '@membus/client';
import { MembusError, WatchReplySchema } from '@membus/contracts';
import { beforeAll, describe, expect, it } from 'vitest';
import { stackForFile } from '../helpers/stack.ts';

const file = stackForFile('acme');
let acme: MemoryClient;
let globex: MemoryClient;

beforeAll(async () => {
  acme = file.client;
  globex = await file.stack.client('globex');
});

/** `prefix` and 8 random characters: a namespace no other test writes to. */
const uniqueNamespace = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

/** Stores `text` in `namespace` as `client` (acme unless said), once it can be found. */
const storeIn = (namespace: string, text: string, client: MemoryClient = acme) =>
  client.store({ namespace, text }, { wait: 'queryable' });

/** The next `count` events of a feed (fails after `timeoutMs`); the feed stays open. */
async function take(feed: ChangeStream, count: number, timeoutMs = 20_000): Promise<ChangeEvent[]> {
  const events: ChangeEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(`feed gave ${events.length} of ${count} events: ${JSON.stringify(events)}`),
        ),
      timeoutMs,
    );
  });
  try {
    while (events.length < count) {
      const next = await Promise.race([feed.next(), timeout]);
      if (next.done) throw new Error(`feed ended after ${events.length} of ${count} events`);
      events.push(next.value);
    }
  } finally {
    clearTimeout(timer);
  }
  return events;
}

/** Reads a feed until `until` holds for an event; returns every event up to it. */
async function takeUntil(
  feed: ChangeStream,
  until: (event: ChangeEvent) => boolean,
  timeoutMs = 20_000,
): Promise<ChangeEvent[]> {
  const events: ChangeEvent[] = [];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const [event] = await take(feed, 1, deadline - Date.now());
    events.push(event as ChangeEvent);
    if (until(event as ChangeEvent)) return events;
  }
  throw new Error('deadline passed');
}

/**
 * Stores `before` in a new namespace (`prefix`-...), starts a watch of it, stores `after`: the
 * namespace and the first event the watch sees (the watch is closed then).
 */
async function storeAroundWatch(
  prefix: string,
  before: string,
  after: string,
): Promise<{ namespace: string; event: ChangeEvent | undefined }> {
  const namespace = uniqueNamespace(prefix);
  await storeIn(namespace, before);
  await using feed = acme.watch({ memory: { namespace } });
  await feed.started;
  await storeIn(namespace, after);
  const [event] = await take(feed, 1);
  return { namespace, event };
}

describe('watch from now', () => {
  it('delivers each new change once, in order, with the memory and its stream sequence', async () => {
    const namespace = uniqueNamespace('now');
    await using feed = acme.watch({ memory: { namespace } });
    await feed.started;
    const stored = await acme.storeMany(
      [1, 2, 3].map((n) => ({ namespace, text: `Watch from now, memory ${n}` })),
      { wait: 'queryable' },
    );
    const first = stored[0]?.id as string;
    await acme.update(first, { tags: ['seen'] });
    await acme.delete(first);
    const events = await take(feed, 5);
    // storeMany publishes concurrently: the three creations come in the order they were written.
    expect(events.slice(0, 3).map((event) => event.change)).toEqual([
      'created',
      'created',
      'created',
    ]);
    expect(new Set(events.slice(0, 3).map((event) => event.id))).toEqual(
      new Set(stored.map((result) => result.id)),
    );
    expect(events.slice(3).map((event) => [event.change, event.id])).toEqual([
      ['updated', first],
      ['deleted', first],
    ]);
    expect(events[3]?.memory?.tags).toEqual(['seen']);
    expect(events[0]?.memory?.text).toMatch(/^Watch from now, memory \d$/);
    const sequences = events.map((event) => event.seq);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    expect(new Set(sequences).size).toBe(5);
  });

  it('does not replay what was stored before the watch started', async () => {
    const { event } = await storeAroundWatch(
      'before',
      'Stored before the watch',
      'Stored after the watch',
    );
    expect(event?.memory?.text).toBe('Stored after the watch');
  });
});

describe('replay', () => {
  it('replays from a point in time, then follows live changes', async () => {
    // The point is the time of the first event stored after it: read from a feed, not a clock.
    const { namespace, event: marker } = await storeAroundWatch(
      'time',
      'Before the point in time',
      'After the point in time',
    );
    const point = new Date(marker?.at as string);

    await using feed = acme.watch({ memory: { namespace } }, { from: point });
    const state = await feed.started;
    expect(state.truncated).toBe(false);
    const [replayed] = await take(feed, 1);
    expect(replayed?.memory?.text).toBe('After the point in time');
    await storeIn(namespace, 'Live after the replay');
    const [live] = await take(feed, 1);
    expect(live?.memory?.text).toBe('Live after the replay');
  });

  it('resumes from a sequence: from last.seq + 1 gives exactly what came after', async () => {
    const namespace = uniqueNamespace('seq');
    await using first = acme.watch({ memory: { namespace } });
    await first.started;
    for (const n of [1, 2, 3])
      await acme.store({ namespace, text: `Sequence memory ${n}` }, { wait: 'queryable' });
    const all = await take(first, 3);
    await using resumed = acme.watch({ memory: { namespace } }, { from: (all[0]?.seq ?? 0) + 1 });
    const rest = await take(resumed, 2);
    expect(rest.map((event) => [event.seq, event.memory?.text])).toEqual(
      all.slice(1).map((event) => [event.seq, event.memory?.text]),
    );
  });

  it('replays from the oldest event kept when asked for sequence 1', async () => {
    const namespace = uniqueNamespace('oldest');
    await storeIn(namespace, 'Kept since the start');
    // Earlier tests' deletions pass a memory filter (a deletion carries only its id): only
    // creations here.
    await using feed = acme.watch({ changes: ['created'], memory: { namespace } }, { from: 1 });
    expect((await feed.started).startSeq).toBe(1);
    const [event] = await take(feed, 1);
    expect(event?.memory?.text).toBe('Kept since the start');
  });
});

describe('filters', () => {
  it('narrows by change and by memory fields', async () => {
    const namespace = uniqueNamespace('filter');
    await using updates = acme.watch({
      changes: ['updated'],
      memory: { namespace, userId: 'alice' },
    });
    await updates.started;
    const [alice, bob] = await acme.storeMany(
      [
        { namespace, userId: 'alice', text: "Alice's memory to update" },
        { namespace, userId: 'bob', text: "Bob's memory to update" },
      ],
      { wait: 'queryable' },
    );
    await acme.update(bob?.id as string, { importance: 0.9 });
    await acme.update(alice?.id as string, { importance: 0.8 });
    const [event] = await take(updates, 1);
    expect([event?.change, event?.id, event?.memory?.importance]).toEqual([
      'updated',
      alice?.id,
      0.8,
    ]);
  });

  it('refuses an invalid filter with INVALID_MESSAGE', async () => {
    const feed = acme.watch({ memory: { kinds: ['not-a-kind' as 'fact'] } });
    const error = await feed.started.catch((caught: unknown) => caught);
    expect(MembusError.is(error) ? error.code : error).toBe('INVALID_MESSAGE');
  });
});

describe('isolation (red team: acme attacks globex)', () => {
  it("never delivers another tenant's events, whatever the watch asks for", async () => {
    const namespace = uniqueNamespace('iso');
    const { id: globexId } = await globex.store(
      { namespace, text: 'Globex secret: the launch is on Friday' },
      { wait: 'queryable' },
    );
    // Everything acme's feed can reach: from the first sequence with no filter, and from the
    // first sequence with a filter naming globex's memory (and an acme marker's id, so the feed
    // has something of acme's to deliver after globex's event).
    const marker = randomUUID();
    await using everything = acme.watch({}, { from: 1 });
    await using byId = acme.watch({ memory: { ids: [globexId, marker] } }, { from: 1 });
    await everything.started;
    await byId.started;
    await acme.store(
      { id: marker, namespace, text: 'Acme marker after globex' },
      { wait: 'queryable' },
    );
    const seen = await takeUntil(everything, (event) => event.id === marker);
    expect(seen.filter((event) => event.id === globexId)).toEqual([]);
    expect(
      seen.every((event) => event.memory?.tenant === undefined || event.memory.tenant === 'acme'),
    ).toBe(true);
    // In stream order, globex's earlier event would come first: the marker is the first event.
    const [first] = await take(byId, 1);
    expect([first?.id, first?.change]).toEqual([marker, 'created']);
  });

  it('refuses tokens that could widen the feed subject, and requests on another tenant', async () => {
    // acme's own connection (its agent user): what any of its agents could send.
    const nc = acme.connection;
    {
      for (const token of ['x.>', '*', '>', 'globex.token', 'a b', '', 'x'.repeat(65)]) {
        const error = await request(
          nc,
          'memory.watch.acme',
          { v: 1, token, action: 'start', from: { seq: 1 } },
          WatchReplySchema,
          { timeoutMs: 5_000 },
        ).catch((caught: unknown) => caught);
        expect([token, MembusError.is(error) ? error.code : String(error)]).toEqual([
          token,
          'INVALID_MESSAGE',
        ]);
      }
      // Payload fields naming another tenant or subject are refused as unknown fields.
      const forged = await request(
        nc,
        'memory.watch.acme',
        { v: 1, token: 't1', tenant: 'globex', subject: 'memory.feed.globex.t1' },
        WatchReplySchema,
        { timeoutMs: 5_000 },
      ).catch((caught: unknown) => caught);
      expect(MembusError.is(forged) ? forged.code : forged).toBe('INVALID_MESSAGE');
      // globex's watch subject is not imported by acme's account: a permission error.
      const other = await request(
        nc,
        'memory.watch.globex',
        { v: 1, token: 't1' },
        WatchReplySchema,
        { timeoutMs: 5_000 },
      ).catch((caught: unknown) => caught);
      expect(MembusError.is(other) ? other.code : other).toBe('INVALID_TENANT');
    }
  });

  it("cannot subscribe to globex's feed, and its own subscriptions see none of globex's", async () => {
    const snoop = acme.connection;
    const refused = snoop.subscribe('memory.feed.globex.>');
    const closed: unknown = await refused.closed;
    expect(closed instanceof Error ? closed.name : 'closed without error').toBe(
      'PermissionViolationError',
    );
    const subscriptions: { unsubscribe(): void }[] = [];
    try {
      const seen: string[] = [];
      // Allowed to acme (its own feed and inboxes): none may carry globex's events.
      for (const subject of ['memory.feed.acme.>', '_INBOX.>'])
        subscriptions.push(
          snoop.subscribe(subject, {
            callback: (_error, message) => void seen.push(message.string()),
          }),
        );
      await snoop.flush();
      const namespace = uniqueNamespace('snoop');
      // globex watches with a token acme also uses: tokens select within a tenant only.
      const sharedToken = `shared-${randomUUID().slice(0, 8)}`;
      const globexFeed = globex.connection.subscribe(`memory.feed.globex.${sharedToken}`);
      await request(
        globex.connection,
        'memory.watch.globex',
        { v: 1, token: sharedToken, filter: { memory: { namespace } } },
        WatchReplySchema,
      );
      // acme starts, then stops, a feed with the same token: only its own relay is touched.
      await request(snoop, 'memory.watch.acme', { v: 1, token: sharedToken }, WatchReplySchema);
      await request(
        snoop,
        'memory.watch.acme',
        { v: 1, token: sharedToken, action: 'stop' },
        WatchReplySchema,
      );
      await storeIn(namespace, 'Globex only: shared token', globex);
      const received = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('globex feed silent')), 10_000);
        (async () => {
          for await (const message of globexFeed) {
            const text = message.string();
            if (text.includes('"type":"event"')) {
              clearTimeout(timer);
              resolve(text);
              return;
            }
          }
        })().catch(reject);
      });
      globexFeed.unsubscribe();
      expect(received).toContain('Globex only: shared token');
      // Once globex has its event, a round trip of acme's connection has delivered anything
      // routed to it.
      await snoop.flush();
      expect(seen.filter((text) => text.includes('Globex only'))).toEqual([]);
      await request(
        globex.connection,
        'memory.watch.globex',
        { v: 1, token: sharedToken, action: 'stop' },
        WatchReplySchema,
      );
    } finally {
      for (const subscription of subscriptions) subscription.unsubscribe();
    }
  });
});
