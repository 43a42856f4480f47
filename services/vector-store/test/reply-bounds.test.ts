/**
 * Issue 19, finding 2: every reply of the vector-store is bounded by design. 500 memories of
 * 2,000 characters are 1.2 MB of JSON; no list, get, query, history, stats or delete reply
 * may pass the 256 KiB message limit for a valid request (before: INTERNAL in the SDK).
 */

import { randomUUID as uuidv7 } from 'node:crypto';
import { allPages } from '@membus/bus/testing';
import {
  DeleteReplySchema,
  GetReplySchema,
  HistoryReplySchema,
  Limits,
  ListReplySchema,
  type MemoryRecord,
  QueryReplySchema,
  QueryRequestSchema,
  StatsReplySchema,
} from '@membus/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countThatFits, jsonBytes, largestCounts } from '../src/domain/reply-budget.ts';
import {
  embeddedOf,
  openServiceFixture,
  type ServiceFixture,
  TENANT,
  textOf,
} from './service-fixture.ts';

const COUNT = 500;
let fixture: ServiceFixture;
let ids: string[];

/** The reply as it goes on the wire: valid, and under the message limit. */
function onTheWire<T>(schema: { parse(value: unknown): T }, reply: unknown): T {
  expect(jsonBytes(reply)).toBeLessThanOrEqual(Limits.messageBytes);
  return schema.parse(JSON.parse(JSON.stringify(reply)));
}

beforeAll(async () => {
  fixture = await openServiceFixture();
  ids = Array.from({ length: COUNT }, () => uuidv7());
  const items = ids.map((id, index) =>
    embeddedOf({
      id,
      userId: 'alice',
      text: textOf(index),
      metadata: { dia_id: `D1:${index}` },
      createdAt: new Date(Date.UTC(2024, 0, 1) + index * 60_000).toISOString(),
    }),
  );
  for (let start = 0; start < items.length; start += 100) {
    const results = await fixture.service.ingest(items.slice(start, start + 100));
    expect(results.every((result) => result.ok && result.status === 'stored')).toBe(true);
  }
  // The finding: these memories together are far above one message.
  const all = await Promise.all(ids.map((id) => fixture.service.get(TENANT, [id])));
  expect(jsonBytes(all.flatMap((reply) => reply.memories))).toBeGreaterThan(
    4 * Limits.messageBytes,
  );
}, 120_000);

afterAll(async () => {
  await fixture?.[Symbol.asyncDispose]();
});

describe('reply budget', () => {
  it('fits items by their JSON bytes, at least one', () => {
    const item = { text: 'x'.repeat(100) }; // 111 bytes of JSON
    expect(jsonBytes(item)).toBe(111);
    expect(jsonBytes({ text: 'é'.repeat(50) })).toBe(111); // bytes, not characters
    expect(countThatFits([item, item, item], 223)).toBe(2);
    expect(countThatFits([item, item, item], 222)).toBe(1);
    expect(countThatFits([item, item, item], 10)).toBe(1);
    expect(countThatFits([], 10)).toBe(0);
  });

  it('keeps the largest counts of an open-ended map', () => {
    expect(largestCounts({ a: 1, b: 5, c: 3, d: 3 }, 2)).toEqual({
      counts: { b: 5, c: 3 },
      omitted: 2,
    });
  });
});

describe('list of 500 memories of 2,000 characters', () => {
  it('pages through all of them with limit 500, each page under the limit', async () => {
    const pages = await allPages(async (cursor) =>
      onTheWire(
        ListReplySchema,
        await fixture.service.list(TENANT, {
          v: 1,
          limit: Limits.pageSize,
          ...(cursor ? { cursor } : {}),
        }),
      ),
    );
    for (const reply of pages) expect(reply.memories.length).toBeGreaterThan(0);
    const seen: MemoryRecord[] = pages.flatMap((reply) => reply.memories);
    expect(pages.length).toBeGreaterThan(1);
    expect(seen.map((memory) => memory.id)).toEqual([...ids].reverse()); // newest first, once each
  });

  it('still fills a page to its count when the memories are small', async () => {
    const reply = await fixture.service.list(TENANT, { v: 1, limit: 5 });
    expect(reply.memories).toHaveLength(5);
    expect(reply.nextCursor).toBeDefined();
  });
});

describe('query topK 200 over 2,000-character memories', () => {
  it('returns the best hits that fit, flagged truncated with the count left out', async () => {
    const request = QueryRequestSchema.parse({ v: 1, text: textOf(7), topK: 200, mode: 'dense' });
    const reply = onTheWire(QueryReplySchema, await fixture.service.query(TENANT, request));
    expect(reply.truncated).toBe(true);
    expect(reply.hits.length).toBeGreaterThan(0);
    expect(reply.hits.length + (reply.omitted ?? 0)).toBe(200);
    // The best ones are kept: the first hit is the exact text.
    expect(reply.hits[0]?.memory.text).toBe(textOf(7));
    const scores = reply.hits.map((hit) => hit.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });

  it('is not flagged when everything fits', async () => {
    const request = QueryRequestSchema.parse({ v: 1, text: textOf(7), topK: 10, mode: 'dense' });
    const reply = await fixture.service.query(TENANT, request);
    expect(reply.hits).toHaveLength(10);
    expect(reply.truncated).toBeUndefined();
    expect(reply.omitted).toBeUndefined();
  });
});

describe('get of 500 ids', () => {
  it('returns what fits and the rest as pending, which a second ask returns', async () => {
    const unknown = uuidv7();
    const first = onTheWire(
      GetReplySchema,
      await fixture.service.get(TENANT, [...ids.slice(0, Limits.ids - 1), unknown]),
    );
    expect(first.missing).toEqual([unknown]);
    expect(first.pending?.length).toBeGreaterThan(0);
    const got = [...first.memories];
    let pending = first.pending ?? [];
    while (pending.length > 0) {
      const reply = onTheWire(GetReplySchema, await fixture.service.get(TENANT, pending));
      expect(reply.memories.length).toBeGreaterThan(0);
      got.push(...reply.memories);
      pending = reply.pending ?? [];
    }
    expect(got.map((memory) => memory.id)).toEqual(ids.slice(0, Limits.ids - 1));
  });
});

describe('history of a memory with many large entries', () => {
  it('comes in pages under the limit, oldest first, every entry once', async () => {
    const id = ids[0] as string;
    for (let round = 0; round < 6; round++)
      await fixture.service.update(TENANT, {
        v: 1,
        id,
        text: `${'revised '.repeat(3_900)} ${round}`,
      });
    const pages = await allPages(async (cursor) =>
      onTheWire(HistoryReplySchema, await fixture.service.history(TENANT, id, cursor)),
    );
    const entries = pages.flatMap((reply) => reply.entries);
    expect(pages.length).toBeGreaterThan(1);
    expect(entries.map((entry) => entry.event)).toEqual(['ADD', ...new Array(6).fill('UPDATE')]);
    expect(entries.at(-1)?.text).toMatch(/ 5$/);
  });

  it('refuses a cursor it did not issue', async () => {
    await expect(
      fixture.service.history(TENANT, ids[0] as string, 'bm90LWEtY3Vyc29y'),
    ).rejects.toMatchObject({ code: 'INVALID_MESSAGE' });
  });
});

describe('stats over many namespaces and categories', () => {
  it('keeps the largest counts and says how many were left out', async () => {
    await using small = await openServiceFixture();
    const results = await small.service.ingest(
      Array.from({ length: Limits.statsKeys + 50 }, (_, index) =>
        embeddedOf({
          id: uuidv7(),
          namespace: `ns-${index}`,
          categories: [`c-${index}`, 'common'],
          text: `memory ${index}`,
        }),
      ),
    );
    expect(results.every((result) => result.ok)).toBe(true);
    const stats = onTheWire(StatsReplySchema, await small.service.stats(TENANT, undefined));
    expect(stats.total).toBe(Limits.statsKeys + 50);
    expect(Object.keys(stats.byNamespace)).toHaveLength(Limits.statsKeys);
    expect(Object.keys(stats.byCategory)).toHaveLength(Limits.statsKeys);
    expect(stats.byCategory.common).toBe(Limits.statsKeys + 50);
    expect(stats.omittedKeys).toEqual({ byNamespace: 50, byCategory: 51 });
  });
});

describe('delete by filter over more memories than a reply lists', () => {
  it('deletes all of them, counts them all and lists the first Limits.replyIds', async () => {
    await using large = await openServiceFixture();
    const count = Limits.replyIds * 2 + 200;
    const items = Array.from({ length: count }, (_, index) =>
      embeddedOf({ id: uuidv7(), sessionId: 's1', text: `turn ${index}` }),
    );
    for (let start = 0; start < items.length; start += 250)
      await large.service.ingest(items.slice(start, start + 250));
    const reply = onTheWire(
      DeleteReplySchema,
      await large.service.delete(TENANT, { v: 1, filter: { sessionId: 's1' } }),
    );
    expect(reply.deleted).toBe(count);
    expect(reply.ids).toHaveLength(Limits.replyIds);
    expect(reply.truncated).toBe(true);
    expect((await large.service.stats(TENANT, { sessionId: 's1' })).total).toBe(0);
    expect(large.events.filter((event) => event.change === 'deleted')).toHaveLength(count);
  });

  it('lists every id, untruncated, when they fit', async () => {
    await using small = await openServiceFixture();
    const id = uuidv7();
    await small.service.ingest([embeddedOf({ id, sessionId: 's2', text: 'one' })]);
    const reply = await small.service.delete(TENANT, { v: 1, filter: { sessionId: 's2' } });
    expect(reply).toEqual({ v: 1, deleted: 1, ids: [id] });
  });
});

describe('expire over more memories than a reply lists', () => {
  it('counts them all and lists the first Limits.replyIds', async () => {
    let now = Date.now();
    await using large = await openServiceFixture({ clock: () => now });
    const count = Limits.replyIds + 100;
    const expiresAt = new Date(now + 60_000).toISOString();
    const items = Array.from({ length: count }, (_, index) =>
      embeddedOf({ id: uuidv7(), text: `fleeting ${index}`, expiresAt }),
    );
    for (let start = 0; start < items.length; start += 300)
      await large.service.ingest(items.slice(start, start + 300));
    expect(await large.service.expire(TENANT, { dryRun: true })).toEqual({
      v: 1,
      expired: 0,
      ids: [],
    });
    now += 120_000;
    const dryRun = await large.service.expire(TENANT, { dryRun: true });
    expect(dryRun.expired).toBe(count);
    expect(dryRun.ids).toHaveLength(Limits.replyIds);
    const reply = await large.service.expire(TENANT);
    expect(reply.expired).toBe(count);
    expect(reply.ids).toHaveLength(Limits.replyIds);
    expect(jsonBytes(reply)).toBeLessThanOrEqual(Limits.messageBytes);
    expect(large.events.filter((event) => event.change === 'expired')).toHaveLength(count);
    expect((await large.service.expire(TENANT)).expired).toBe(0);
  });
});
