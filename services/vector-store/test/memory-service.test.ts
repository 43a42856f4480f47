/**
 * MemoryService, one operation at a time (domain/memory/*): in process, over the embedded index
 * and the SQLite history store in a temp directory, no NATS. Each case asserts one outcome.
 */
import { randomUUID } from 'node:crypto';
import {
  ListRequestSchema,
  MembusError,
  MergeRequestSchema,
  packVector,
  QueryRequestSchema,
} from '@membus/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { embeddedOf, openServiceFixture, type ServiceFixture, TENANT } from './service-fixture.ts';

const START = Date.parse('2026-06-01T00:00:00.000Z');
let now = START;
let fixture: ServiceFixture;

beforeEach(async () => {
  now = START;
  fixture = await openServiceFixture({ clock: () => now });
});

afterEach(async () => {
  await fixture[Symbol.asyncDispose]();
});

/** Stores `text` under a new id; returns the memory id it went into. */
async function store(
  text: string,
  fields: Omit<Parameters<typeof embeddedOf>[0], 'id' | 'text'> = {},
) {
  const [result] = await fixture.service.ingest([
    embeddedOf({ ...fields, id: randomUUID(), text }),
  ]);
  if (!result?.ok) throw new Error(`store failed: ${result?.error.message}`);
  return result.memoryId;
}

/** The MembusError code `promise` rejects with. */
async function errorCode(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof MembusError)) throw new Error(`expected a MembusError, got ${error}`);
  return error.code;
}

describe('ingest', () => {
  it('stores a new memory with one occurrence', async () => {
    const id = await store('Alice deploys on Fridays', { userId: 'alice' });
    const { memories } = await fixture.service.get(TENANT, [id]);
    expect(memories.map(({ text, occurrences }) => ({ text, occurrences }))).toEqual([
      { text: 'Alice deploys on Fridays', occurrences: 1 },
    ]);
  });

  it('publishes a created event and records ADD', async () => {
    const id = await store('Alice deploys on Fridays');
    expect(fixture.events.map((event) => [event.change, event.id])).toEqual([['created', id]]);
    expect((await fixture.service.history(TENANT, id)).entries.map((entry) => entry.event)).toEqual(
      ['ADD'],
    );
  });

  it('folds an exact duplicate into the first memory as a second occurrence', async () => {
    const first = await store('Alice deploys on Fridays', { userId: 'alice' });
    const [result] = await fixture.service.ingest([
      embeddedOf({ id: randomUUID(), text: 'Alice deploys on Fridays', userId: 'alice' }),
    ]);
    expect(result).toEqual({ ok: true, status: 'duplicate', memoryId: first, replayed: false });
    const { memories } = await fixture.service.get(TENANT, [first]);
    expect(memories[0]?.occurrences).toBe(2);
  });

  it('keeps the same text of two users apart', async () => {
    const alice = await store('deploys on Fridays', { userId: 'alice' });
    const bob = await store('deploys on Fridays', { userId: 'bob' });
    expect(bob).not.toBe(alice);
  });

  it('refuses a vector of another dimension than the index holds', async () => {
    const item = embeddedOf({ id: randomUUID(), text: 'short vector' });
    item.embedded = {
      ...item.embedded,
      vector: packVector(Float32Array.from([1, 0, 0, 0])),
      dimension: 4,
    };
    const [result] = await fixture.service.ingest([item]);
    expect(result?.ok === false ? result.error.code : result).toBe('DIMENSION_MISMATCH');
  });
});

describe('query', () => {
  it('ranks the memory with the query text first', async () => {
    await store('billing runs nightly');
    const id = await store('Alice deploys on Fridays');
    await store('the cache is warm');
    const reply = await fixture.service.query(
      TENANT,
      QueryRequestSchema.parse({ v: 1, text: 'Alice deploys on Fridays', mode: 'dense' }),
    );
    expect(reply.hits[0]?.memory.id).toBe(id);
  });

  it('returns at most topK hits', async () => {
    for (const text of ['one', 'two', 'three', 'four']) await store(text);
    const reply = await fixture.service.query(
      TENANT,
      QueryRequestSchema.parse({ v: 1, text: 'one', topK: 2 }),
    );
    expect(reply.hits).toHaveLength(2);
  });
});

describe('get and list', () => {
  it('answers the live memories in the order asked and names the missing ids', async () => {
    const first = await store('first');
    const second = await store('second');
    const missing = randomUUID();
    const reply = await fixture.service.get(TENANT, [second, missing, first]);
    expect({ ids: reply.memories.map((memory) => memory.id), missing: reply.missing }).toEqual({
      ids: [second, first],
      missing: [missing],
    });
  });

  it('pages newest first with a cursor to the rest', async () => {
    const ids: string[] = [];
    for (const [offset, text] of ['oldest', 'middle', 'newest'].entries())
      ids.push(
        await store(text, { createdAt: new Date(START - 3_000 + offset * 1_000).toISOString() }),
      );
    const first = await fixture.service.list(TENANT, ListRequestSchema.parse({ v: 1, limit: 2 }));
    const second = await fixture.service.list(
      TENANT,
      ListRequestSchema.parse({ v: 1, limit: 2, cursor: first.nextCursor }),
    );
    expect([...first.memories, ...second.memories].map((memory) => memory.id)).toEqual(
      [...ids].reverse(),
    );
  });
});

describe('update', () => {
  it('re-embeds a new text and records the previous one', async () => {
    const id = await store('Alice deploys on Fridays');
    await fixture.service.update(TENANT, { v: 1, id, text: 'Alice deploys on Mondays' });
    const { entries } = await fixture.service.history(TENANT, id);
    expect(entries.at(-1)).toMatchObject({
      event: 'UPDATE',
      previousText: 'Alice deploys on Fridays',
      text: 'Alice deploys on Mondays',
    });
  });

  it('fails with NOT_FOUND for an unknown id', async () => {
    expect(await errorCode(fixture.service.update(TENANT, { v: 1, id: randomUUID() }))).toBe(
      'NOT_FOUND',
    );
  });

  it('refuses metadata when the embed port cannot redact it (never stored unredacted)', async () => {
    const id = await store('Alice deploys on Fridays');
    expect(
      await errorCode(fixture.service.update(TENANT, { v: 1, id, metadata: { token: 'x' } })),
    ).toBe('INTERNAL');
  });
});

describe('delete and expire', () => {
  it('deletes by ids and answers those that existed', async () => {
    const id = await store('Alice deploys on Fridays');
    const reply = await fixture.service.delete(TENANT, { v: 1, ids: [id, randomUUID()] });
    expect(reply).toEqual({ v: 1, deleted: 1, ids: [id] });
  });

  it('deletes by filter only what matches', async () => {
    await store('alice one', { userId: 'alice' });
    const bob = await store('bob one', { userId: 'bob' });
    await fixture.service.delete(TENANT, { v: 1, filter: { userId: 'alice' } });
    const page = await fixture.service.list(TENANT, ListRequestSchema.parse({ v: 1 }));
    expect(page.memories.map((memory) => memory.id)).toEqual([bob]);
  });

  it('expires what is past its expiry once the clock passes it', async () => {
    const id = await store('short-lived', { ttlSeconds: 60 });
    await store('lasting');
    now = START + 61_000;
    expect(await fixture.service.expire(TENANT)).toEqual({ v: 1, expired: 1, ids: [id] });
  });

  it('deletes nothing on a dry run', async () => {
    const id = await store('short-lived', { ttlSeconds: 60 });
    now = START + 61_000;
    await fixture.service.expire(TENANT, { dryRun: true });
    now = START;
    expect((await fixture.service.get(TENANT, [id])).memories).toHaveLength(1);
  });
});

describe('merge', () => {
  it('sums occurrences, unites tags and deletes the sources', async () => {
    const target = await store('Alice deploys on Fridays', { tags: ['deploy'] });
    const source = await store('Alice ships on Fridays', { tags: ['ship'] });
    const reply = await fixture.service.merge(
      TENANT,
      MergeRequestSchema.parse({ v: 1, targetId: target, sourceIds: [source] }),
    );
    expect({
      occurrences: reply.memory.occurrences,
      tags: reply.memory.tags,
      merged: reply.merged,
      left: (await fixture.service.get(TENANT, [source])).missing,
    }).toEqual({ occurrences: 2, tags: ['deploy', 'ship'], merged: [source], left: [source] });
  });

  it('fails with NOT_FOUND when the target is gone', async () => {
    const source = await store('Alice ships on Fridays');
    expect(
      await errorCode(
        fixture.service.merge(
          TENANT,
          MergeRequestSchema.parse({ v: 1, targetId: randomUUID(), sourceIds: [source] }),
        ),
      ),
    ).toBe('NOT_FOUND');
  });
});

describe('history and stats', () => {
  it('refuses a history cursor it did not issue', async () => {
    const id = await store('Alice deploys on Fridays');
    expect(await errorCode(fixture.service.history(TENANT, id, 'not-a-cursor'))).toBe(
      'INVALID_MESSAGE',
    );
  });

  it('counts memories by kind', async () => {
    await store('a fact');
    await store('a preference', { kind: 'preference' });
    await store('another fact');
    const stats = await fixture.service.stats(TENANT, undefined);
    expect({ total: stats.total, byKind: stats.byKind }).toEqual({
      total: 3,
      byKind: { fact: 2, preference: 1 },
    });
  });
});
