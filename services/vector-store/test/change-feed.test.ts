/**
 * The change feed's relays (domain/change-feed.ts, decision 008) over an in-memory event log, no
 * NATS: where a feed starts, what its filter passes, flow control, leases and tenant isolation.
 */
import { randomUUID } from 'node:crypto';
import { waitFor } from '@membus/bus/testing';
import {
  type FeedMessage,
  MembusError,
  type MemoryEvent,
  type WatchRequestInput,
  WatchRequestSchema,
} from '@membus/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ChangeFeed,
  type ChangeFeedOptions,
  type EventLogPort,
} from '../src/domain/change-feed.ts';

interface Logged {
  seq: number;
  time: number;
  tenant: string;
  event: MemoryEvent;
}

/** An event stream in memory: `MEMORY_EVENTS` as the feed reads it. */
function memoryLog() {
  const events: Logged[] = [];
  let firstSeq = 1;
  const log: EventLogPort = {
    async bounds() {
      return { firstSeq, lastSeq: events.length === 0 ? firstSeq - 1 : (events.at(-1)?.seq ?? 0) };
    },
    async nextOf(tenant, seq) {
      const found = events.find((entry) => entry.seq >= seq && entry.tenant === tenant);
      return found && { seq: found.seq, time: found.time, event: found.event };
    },
    async nextAny(seq) {
      const found = events.find((entry) => entry.seq >= seq);
      return found && { seq: found.seq, time: found.time };
    },
  };
  return {
    log,
    append(
      tenant: string,
      event: Partial<MemoryEvent> & { change: MemoryEvent['change'] },
      time = 0,
    ) {
      const seq = (events.at(-1)?.seq ?? firstSeq - 1) + 1;
      const id = event.id ?? randomUUID();
      events.push({
        seq,
        time,
        tenant,
        event: { v: 1, at: new Date(time).toISOString(), ...event, id },
      });
      return seq;
    },
    /** Drops the oldest events, as the stream's 24 h limit does. */
    ageOut(count: number) {
      events.splice(0, count);
      firstSeq = events[0]?.seq ?? firstSeq + count;
    },
  };
}

function memoryRecord(tenant: string, fields: Record<string, unknown> = {}) {
  const at = '2026-06-01T00:00:00.000Z';
  return {
    id: randomUUID(),
    tenant,
    scope: 'app',
    kind: 'fact',
    text: 'x',
    metadata: {},
    categories: [],
    tags: [],
    importance: 0.5,
    tier: 'short',
    createdAt: at,
    updatedAt: at,
    accessCount: 0,
    contentHash: 'a'.repeat(64),
    embeddingModel: 'm',
    occurrences: 1,
    ...fields,
  } as unknown as MemoryEvent['memory'];
}

let feeds: ChangeFeed[] = [];
afterEach(() => {
  for (const feed of feeds) feed.close();
  feeds = [];
});

function open(log: EventLogPort, options: Partial<ChangeFeedOptions> = {}) {
  const sent: { tenant: string; token: string; message: FeedMessage }[] = [];
  const feed = new ChangeFeed({
    log,
    publish: (tenant, token, message) => void sent.push({ tenant, token, message }),
    leaseMs: 60_000,
    heartbeatMs: 60_000,
    pollMs: 5,
    window: 1_000,
    maxPerTenant: 4,
    maxTotal: 8,
    ...options,
  });
  feeds.push(feed);
  const events = (token: string) =>
    sent.flatMap(({ token: to, message }) =>
      to === token && message.type === 'event' ? [message] : [],
    );
  return { feed, sent, events };
}

const watch = (input: Omit<WatchRequestInput, 'v'>) => WatchRequestSchema.parse({ v: 1, ...input });

describe('where a feed starts', () => {
  it('from now: only events after the request', async () => {
    const stream = memoryLog();
    stream.append('acme', { change: 'created' });
    const { feed, events } = open(stream.log);
    const reply = await feed.handle('acme', watch({ token: 't' }));
    expect(reply.startSeq).toBe(2);
    const seq = stream.append('acme', { change: 'created' });
    feed.wake('acme');
    await waitFor(() => events('t').length === 1);
    expect(events('t').map((message) => [message.seq, message.previous])).toEqual([[seq, 0]]);
  });

  it('from a time: the first event at or after it (binary search)', async () => {
    const stream = memoryLog();
    for (let index = 0; index < 100; index++)
      stream.append('acme', { change: 'created' }, index * 10);
    const { feed } = open(stream.log);
    const reply = await feed.handle(
      'acme',
      watch({ token: 't', from: { time: new Date(425).toISOString() } }),
    );
    expect([reply.startSeq, reply.truncated]).toEqual([44, false]);
  });

  it('from a sequence older than the stream keeps: from the oldest, truncated', async () => {
    const stream = memoryLog();
    for (let index = 0; index < 10; index++) stream.append('acme', { change: 'created' });
    stream.ageOut(4);
    const { feed } = open(stream.log);
    const reply = await feed.handle('acme', watch({ token: 't', from: { seq: 2 } }));
    expect([reply.startSeq, reply.truncated]).toEqual([5, true]);
  });
});

describe('what a feed carries', () => {
  it("only its own tenant's events, chained by `previous`", async () => {
    const stream = memoryLog();
    const acme = [stream.append('acme', { change: 'created' })];
    stream.append('globex', { change: 'created' });
    acme.push(stream.append('acme', { change: 'deleted' }));
    stream.append('globex', { change: 'updated' });
    const { feed, sent, events } = open(stream.log);
    await feed.handle('acme', watch({ token: 't', from: { seq: 1 } }));
    await waitFor(() => events('t').length === 2);
    expect(events('t').map((message) => [message.seq, message.previous])).toEqual([
      [acme[0], 0],
      [acme[1], acme[0]],
    ]);
    expect(sent.every((entry) => entry.tenant === 'acme')).toBe(true);
  });

  it('what the filter passes: changes, memory fields, a deletion unless `ids` excludes it', async () => {
    const stream = memoryLog();
    const kept = stream.append('acme', {
      change: 'updated',
      memory: memoryRecord('acme', { namespace: 'deploy' }),
    });
    stream.append('acme', {
      change: 'updated',
      memory: memoryRecord('acme', { namespace: 'other' }),
    });
    stream.append('acme', {
      change: 'created',
      memory: memoryRecord('acme', { namespace: 'deploy' }),
    });
    const deletion = stream.append('acme', { change: 'deleted' });
    const { feed, events } = open(stream.log);
    await feed.handle(
      'acme',
      watch({
        token: 't',
        from: { seq: 1 },
        filter: { changes: ['updated', 'deleted'], memory: { namespace: 'deploy' } },
      }),
    );
    await waitFor(() => events('t').length === 2);
    expect(events('t').map((message) => message.seq)).toEqual([kept, deletion]);
  });
});

describe('flow control and lifetime', () => {
  it('sends at most a window beyond what the client consumed', async () => {
    const stream = memoryLog();
    for (let index = 0; index < 10; index++) stream.append('acme', { change: 'created' });
    const { feed, events } = open(stream.log, { window: 3 });
    await feed.handle('acme', watch({ token: 't', from: { seq: 1 } }));
    await waitFor(() => events('t').length === 3);
    await feed.handle('acme', watch({ token: 't', action: 'renew', consumed: 2 }));
    await waitFor(() => events('t').length === 5);
    expect(events('t').map((message) => message.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('stops when its lease runs out without a renew', async () => {
    const stream = memoryLog();
    const { feed } = open(stream.log, { leaseMs: 50, heartbeatMs: 20 });
    await feed.handle('acme', watch({ token: 't' }));
    expect(feed.size).toBe(1);
    await waitFor(() => feed.size === 0);
    const renewed = await feed.handle('acme', watch({ token: 't', action: 'renew' }));
    expect(renewed.active).toBe(false);
  });

  it('sends heartbeats carrying the last sequence sent', async () => {
    const stream = memoryLog();
    const seq = stream.append('acme', { change: 'created' });
    const { feed, sent } = open(stream.log, { heartbeatMs: 20 });
    await feed.handle('acme', watch({ token: 't', from: { seq: 1 } }));
    const heartbeat = await waitFor(() =>
      sent.find((entry) => entry.message.type === 'heartbeat' && entry.message.previous === seq),
    );
    expect(heartbeat.tenant).toBe('acme');
  });

  it("a token selects within the tenant: another tenant's stop leaves the feed running", async () => {
    const stream = memoryLog();
    const { feed } = open(stream.log);
    await feed.handle('globex', watch({ token: 'same' }));
    await feed.handle('acme', watch({ token: 'same', action: 'stop' }));
    const renewed = await feed.handle('globex', watch({ token: 'same', action: 'renew' }));
    expect(renewed.active).toBe(true);
  });

  it('refuses more feeds than a tenant may run with LIMIT_EXCEEDED', async () => {
    const { feed } = open(memoryLog().log, { maxPerTenant: 2 });
    await feed.handle('acme', watch({ token: 'a' }));
    await feed.handle('acme', watch({ token: 'b' }));
    const error = await feed
      .handle('acme', watch({ token: 'c' }))
      .catch((caught: unknown) => caught);
    expect(MembusError.is(error) ? error.code : error).toBe('LIMIT_EXCEEDED');
  });
});
