/**
 * A memory's whole life through the client: update (re-embedding), list paging, delete by
 * id and by filter, history, stats and expiry — USE-CASES §3's session handling among them.
 */
import { allPages } from '@membus/bus/testing';
import { MembusError } from '@membus/client';
import { describe, expect, it } from 'vitest';
import { stackForFile } from '../helpers/stack.ts';

const oncall = stackForFile('oncall', { ACCESS_FLUSH_MS: '50' });

describe('update', () => {
  it('re-embeds a changed text so queries find the new content', async () => {
    const { id } = await oncall.client.store(
      { text: 'The billing API runs on ECS', namespace: 'infra' },
      { wait: 'queryable' },
    );
    await oncall.client.update(id, { text: 'The billing API moved to Kubernetes on EKS' });
    const { hits } = await oncall.client.query('kubernetes eks cluster', {
      filter: { namespace: 'infra' },
      topK: 1,
    });
    expect(hits.map((hit) => [hit.memory.id, hit.memory.text])).toEqual([
      [id, 'The billing API moved to Kubernetes on EKS'],
    ]);
  });

  it('keeps the vector when only metadata changes', async () => {
    const { id } = await oncall.client.store(
      { text: 'Redis eviction policy is allkeys-lru', namespace: 'infra2' },
      { wait: 'queryable' },
    );
    const updated = await oncall.client.update(id, {
      metadata: { owner: 'platform' },
      importance: 0.9,
    });
    const { hits } = await oncall.client.query('redis eviction policy', {
      filter: { namespace: 'infra2' },
      topK: 1,
    });
    expect([updated.metadata, hits[0]?.memory.importance, hits[0]?.memory.id]).toEqual([
      { owner: 'platform' },
      0.9,
      id,
    ]);
  });

  it('records ADD then UPDATE with the previous text in the history', async () => {
    const { id } = await oncall.client.store(
      { text: 'On-call rotation is weekly' },
      { wait: 'queryable' },
    );
    await oncall.client.update(id, { text: 'On-call rotation is every two weeks' });
    const history = await oncall.client.history(id);
    expect(history.map((entry) => [entry.event, entry.previousText ?? null])).toEqual([
      ['ADD', null],
      ['UPDATE', 'On-call rotation is weekly'],
    ]);
  });

  it('answers an update of an unknown id with NOT_FOUND', async () => {
    const error = await oncall.client
      .update('01935c3e-0000-7000-8000-000000000000', { importance: 1 })
      .catch((caught: unknown) => caught);
    expect(error instanceof MembusError ? error.code : error).toBe('NOT_FOUND');
  });
});

describe('sessions: list, delete by filter', () => {
  it("lists a session's memories newest first across pages, each once", async () => {
    const stored = [];
    for (let turn = 0; turn < 7; turn++) {
      stored.push(
        await oncall.client.store(
          {
            sessionId: 'api-session-1',
            kind: 'episode',
            text: `Conversation turn ${turn}: user asked about pod restarts in namespace payments`,
            createdAt: new Date(Date.UTC(2026, 10, 1, 12, turn)).toISOString(),
            ttlSeconds: 7 * 86_400,
          },
          { wait: 'queryable' },
        ),
      );
    }
    const pages = await allPages((cursor) =>
      oncall.client.list({
        filter: { sessionId: 'api-session-1' },
        limit: 3,
        ...(cursor ? { cursor } : {}),
      }),
    );
    const listed = pages.flatMap((page) => page.memories.map((record) => record.id));
    expect(listed).toEqual(stored.map((result) => result.id).reverse());
  });

  it('deletes a session and all its memories', async () => {
    await oncall.client.storeMany(
      [
        { sessionId: 'api-session-2', text: 'User wants a summary of yesterday incidents' },
        { sessionId: 'api-session-2', text: 'User asked for the payments error budget' },
      ],
      { wait: 'queryable' },
    );
    const deleted = await oncall.client.deleteWhere({ sessionId: 'api-session-2' });
    const left = await oncall.client.list({ filter: { sessionId: 'api-session-2' } });
    expect([deleted.length, left.memories.length]).toEqual([2, 0]);
  });

  it('refuses a delete with an empty filter', async () => {
    const error = await oncall.client.deleteWhere({}).catch((caught: unknown) => caught);
    expect(error instanceof MembusError ? error.code : error).toBe('INVALID_MESSAGE');
  });
});

describe('expiry', () => {
  it('never returns an expired memory from query, get or list', async () => {
    const expiresAt = new Date(Date.now() + 1_500).toISOString();
    const { id } = await oncall.client.store(
      { text: 'Temporary blip: checkout latency spike at 14:02', namespace: 'blips', expiresAt },
      { wait: 'queryable' },
    );
    // Wait on the clock reaching the expiry (no fixed sleep: poll until it passes).
    while (Date.now() <= Date.parse(expiresAt))
      await new Promise((resolve) => setTimeout(resolve, 50));
    const [query, got, list] = await Promise.all([
      oncall.client.query('checkout latency spike', { filter: { namespace: 'blips' } }),
      oncall.client.get(id),
      oncall.client.list({ filter: { namespace: 'blips' } }),
    ]);
    expect([query.hits.length, got, list.memories.length]).toEqual([0, undefined, 0]);
  });
});

describe('stats', () => {
  it('counts memories by kind, category and namespace', async () => {
    const tenant = await oncall.stack.client('stats-tenant');
    await tenant.storeMany(
      [
        {
          text: 'Incident: DNS outage in eu-west-1',
          kind: 'episode',
          categories: ['incidents'],
          namespace: 'ops',
        },
        {
          text: 'Incident: expired TLS certificate on the API',
          kind: 'episode',
          categories: ['incidents'],
          namespace: 'ops',
        },
        {
          text: 'The payments service depends on Postgres and Redis',
          kind: 'fact',
          categories: ['dependencies'],
          namespace: 'ops',
        },
      ],
      { wait: 'queryable' },
    );
    const stats = await tenant.stats();
    expect([stats.total, stats.byKind, stats.byCategory, stats.byNamespace]).toEqual([
      3,
      { episode: 2, fact: 1 },
      { incidents: 2, dependencies: 1 },
      { ops: 3 },
    ]);
  });

  it('tracks access counts of returned memories', async () => {
    const { id } = await oncall.client.store(
      { text: 'Grafana lives at grafana.internal', namespace: 'tools' },
      { wait: 'queryable' },
    );
    await oncall.client.query('where is grafana', { filter: { namespace: 'tools' } });
    await oncall.client.query('grafana url', { filter: { namespace: 'tools' } });
    // Access counts are written in batches (ACCESS_FLUSH_MS, 50 ms here): poll until flushed.
    const deadline = Date.now() + 10_000;
    let count = 0;
    while (Date.now() < deadline) {
      count = (await oncall.client.list({ filter: { ids: [id] } })).memories[0]?.accessCount ?? 0;
      if (count >= 2) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(count).toBe(2);
  });
});
