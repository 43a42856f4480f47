/**
 * Issue 19 through the running stack. Finding 2: 500 conversation turns of ~2,000 characters
 * (1.2 MB of JSON) - list with limit 500, listAll, query topK 200 and getMany of 500 ids all
 * answer (before: INTERNAL "message is 299595 bytes; the limit is 262144"). Finding 4: what a
 * store is told for a repeated, deleted or conflicting id, and for `mergeSimilar: false`.
 */

import { randomUUID } from 'node:crypto';
import { allPages } from '@membus/bus/testing';
import type { MemoryClient } from '@membus/client';
import { Limits } from '@membus/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

const COUNT = 500;
let stack: TestStack;
let client: MemoryClient;
const ids: string[] = [];

/** A turn of about 2,000 characters, distinct for each index. */
function turn(index: number): string {
  const words = ['deploy', 'billing', 'latency', 'rollback', 'alice', 'queue', 'cache', 'index'];
  let text = `turn ${index}:`;
  for (let word = 0; text.length < 2_000; word++)
    text += ` ${words[(index * 7 + word * word) % words.length]}${word % 13}`;
  return text.slice(0, 2_000);
}

beforeAll(async () => {
  stack = await startTestStack();
  client = await stack.client('bounds');
  const results = await client.storeMany(
    Array.from({ length: COUNT }, (_, index) => ({
      userId: 'locomo',
      text: turn(index),
      metadata: { dia_id: `D1:${index + 1}` },
    })),
    { wait: 'queryable', timeoutMs: 120_000 },
  );
  ids.push(...results.map((result) => result.id));
  expect(results.map((result) => result.status)).toEqual(new Array(COUNT).fill('stored'));
}, 180_000);

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

describe('replies bounded by bytes (500 memories of 2,000 characters)', () => {
  it('list with limit 500 pages through all of them', async () => {
    const pages = await allPages((cursor) =>
      client.list({ limit: Limits.pageSize, ...(cursor ? { cursor } : {}) }),
    );
    for (const page of pages) expect(page.memories.length).toBeGreaterThan(0);
    const seen = pages.flatMap((page) => page.memories.map((memory) => memory.id));
    expect(pages.length).toBeGreaterThan(1);
    expect(seen.sort()).toEqual([...ids].sort());
  });

  it('listAll returns every memory exactly once', async () => {
    const seen: string[] = [];
    for await (const memory of client.listAll({ userId: 'locomo' }, Limits.pageSize))
      seen.push(memory.id);
    expect(seen).toHaveLength(COUNT);
    expect(new Set(seen).size).toBe(COUNT);
    expect(seen.sort()).toEqual([...ids].sort());
  });

  it('query topK 200 answers the best hits that fit, flagged truncated', async () => {
    const reply = await client.query(turn(42), { topK: Limits.topK });
    expect(reply.truncated).toBe(true);
    expect(reply.hits.length).toBeGreaterThan(0);
    expect(reply.hits.length + (reply.omitted ?? 0)).toBe(Limits.topK);
    expect(reply.hits[0]?.memory.text).toBe(turn(42));
  });

  it('getMany of 500 ids returns all of them', async () => {
    const { memories, missing } = await client.getMany(ids);
    expect(missing).toEqual([]);
    expect(memories.map((memory) => memory.id).sort()).toEqual([...ids].sort());
  });
});

describe('what a store is told', () => {
  it('storeMany with one id twice is refused before publishing', async () => {
    const id = randomUUID();
    const error = await client
      .storeMany([
        { id, text: 'first' },
        { id, text: 'second' },
      ])
      .catch((caught: { code?: string }) => caught.code);
    expect(error).toBe('INVALID_MESSAGE');
    expect(await client.get(id)).toBeUndefined();
  });

  /** A store expected to be refused: its error code (the reply itself if it was not refused). */
  const refusedStore = (input: { id: string; text: string }) =>
    client
      .store(input, { wait: 'queryable', timeoutMs: 10_000 })
      .catch((caught: { code?: string }) => caught.code);

  it('a second store of an id with another text fails with CONFLICT; the first text stays', async () => {
    const id = randomUUID();
    await client.store({ id, text: 'Deploy window is Friday' }, { wait: 'queryable' });
    expect(await refusedStore({ id, text: 'Deploy window is Monday' })).toBe('CONFLICT');
    expect((await client.get(id))?.text).toBe('Deploy window is Friday');
  });

  it('re-storing a deleted id fails with CONFLICT, and the memory stays deleted', async () => {
    const id = randomUUID();
    await client.store({ id, text: 'Temporary note' }, { wait: 'queryable' });
    expect(await client.delete(id)).toEqual([id]);
    expect(await refusedStore({ id, text: 'Temporary note' })).toBe('CONFLICT');
    expect(await client.get(id)).toBeUndefined();
  });

  it('a retried store of a present memory is answered `stored` again', async () => {
    const id = randomUUID();
    await client.store({ id, text: 'Alice prefers tea' }, { wait: 'queryable' });
    expect(await client.store({ id, text: 'Alice prefers tea' }, { wait: 'queryable' })).toEqual({
      id,
      status: 'stored',
      memoryId: id,
    });
  });

  it('mergeSimilar: false keeps two identical texts apart, each with its metadata', async () => {
    const [first, second] = await client.storeMany(
      [
        { userId: 'dialog', text: 'Okay.', metadata: { dia_id: 'D1:1' } },
        { userId: 'dialog', text: 'Okay.', metadata: { dia_id: 'D1:2' }, mergeSimilar: false },
      ],
      { wait: 'queryable' },
    );
    expect([first?.status, second?.status]).toEqual(['stored', 'stored']);
    const { memories } = await client.getMany([first?.id ?? '', second?.id ?? '']);
    expect(memories.map((memory) => memory.metadata.dia_id).sort()).toEqual(['D1:1', 'D1:2']);
  });

  it('a merged exact duplicate keeps the earlier metadata', async () => {
    const [first] = await client.storeMany(
      [{ userId: 'dialog2', text: 'Sure thing.', metadata: { dia_id: 'D2:1' } }],
      { wait: 'queryable' },
    );
    const second = await client.store(
      { userId: 'dialog2', text: 'Sure thing.', metadata: { dia_id: 'D2:7' } },
      { wait: 'queryable' },
    );
    expect(second).toMatchObject({ status: 'duplicate', memoryId: first?.id });
    expect((await client.get(first?.id ?? ''))?.metadata).toEqual({ dia_id: 'D2:1' });
    const history = await client.history(first?.id ?? '');
    expect(history.at(-1)).toMatchObject({
      event: 'DUPLICATE',
      details: { metadata: { dia_id: 'D2:7' } },
    });
  });

  it('a createdAt far in the future is refused by the client', async () => {
    const error = await client
      .store({ text: 'from the future', createdAt: '9999-12-31T00:00:00Z' })
      .catch((caught: { code?: string }) => caught.code);
    expect(error).toBe('INVALID_MESSAGE');
  });
});
