import { randomUUID } from 'node:crypto';
import type { QueryRequest } from '@membus/contracts';
import { describe, expect, it } from 'vitest';
import { TIME_BOOST } from '../src/domain/memory/query.ts';
import { embeddedOf, openServiceFixture, TENANT } from './service-fixture.ts';

const request = (text: string, extra: Partial<QueryRequest> = {}): QueryRequest => ({
  v: 1,
  text,
  topK: 5,
  recencyHalfLifeHours: 168,
  ...extra,
});

describe('a query that names a day or month', () => {
  async function stack() {
    const fixture = await openServiceFixture();
    const memories = [
      { text: 'hiking in the alps with the whole team', createdAt: '2023-07-07T14:00:00.000Z' },
      { text: 'hiking hiking in the alps, hiking again', createdAt: '2023-08-03T10:00:00.000Z' },
      { text: 'hiking plans for the autumn', createdAt: '2023-07-20T09:00:00.000Z' },
    ];
    const results = await fixture.service.ingest(
      memories.map((memory) => embeddedOf({ id: randomUUID(), userId: 'u1', ...memory })),
    );
    expect(results.map((result) => result.ok)).toEqual([true, true, true]);
    return fixture;
  }

  it('ranks the memories of that period first, by their own relevance', async () => {
    await using fixture = await stack();
    const { service } = fixture;
    const onDay = await service.query(
      TENANT,
      request('hiking on 7 July, 2023', { mode: 'keyword' }),
    );
    const inMonth = await service.query(
      TENANT,
      request('hiking in July 2023', { mode: 'keyword' }),
    );
    const created = (reply: typeof onDay) =>
      reply.hits.map((hit) => hit.memory.createdAt.slice(0, 10));
    expect([created(onDay), created(inMonth)]).toEqual([
      ['2023-07-07', '2023-08-03', '2023-07-20'],
      [expect.stringMatching(/^2023-07/), expect.stringMatching(/^2023-07/), '2023-08-03'],
    ]);
    const [first] = onDay.hits;
    expect(first?.score).toBe((first?.scores.relevance ?? Number.NaN) + TIME_BOOST);
    expect(onDay.plan).toMatch(/, period /);
  });

  it('is left alone when the query has a time filter of its own or names no period', async () => {
    await using fixture = await stack();
    const { service } = fixture;
    const filtered = await service.query(
      TENANT,
      request('hiking on 7 July, 2023', {
        mode: 'keyword',
        filter: { createdAt: { gte: '2023-01-01T00:00:00.000Z' } },
      }),
    );
    const undated = await service.query(TENANT, request('hiking', { mode: 'keyword' }));
    const unboosted = (reply: typeof filtered) =>
      reply.hits.every((hit) => hit.score === hit.scores.relevance) &&
      !reply.plan.includes('period');
    expect([
      filtered.hits.length,
      unboosted(filtered),
      undated.hits.length,
      unboosted(undated),
    ]).toEqual([3, true, 3, true]);
  });
});
