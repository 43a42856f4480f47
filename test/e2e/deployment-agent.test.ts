/**
 * USE-CASES §1, the deployment agent, end to end: a real nats-server, the embedder and the
 * vector-store as separate processes, and the agent SDK.
 */

import { connectBus, createHeaders, jetstream, jetstreamManager } from '@membus/bus';
import { MembusError, type MemoryClient } from '@membus/client';
import { DeadLetterSchema, Headers, Streams } from '@membus/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

let stack: TestStack;
let agent: MemoryClient;
const ids: Record<string, string | undefined> = {};
const githubToken = 'ghp_Zx8Lq2Vb7Nw4Tr1Ys6Ku3Jm9Pd5Hc0Ge2Fa7';

beforeAll(async () => {
  stack = await startTestStack();
  agent = await stack.client('acme');
  const stored = await agent.storeMany(
    [
      {
        userId: 'alice',
        namespace: 'deployment',
        kind: 'preference',
        text: 'Alice prefers Vercel for production deploys, with npm ci and Node 20',
        categories: ['preferences'],
      },
      {
        userId: 'bob',
        namespace: 'deployment',
        kind: 'preference',
        text: 'Bob prefers Netlify for production deploys and pnpm',
        categories: ['preferences'],
      },
      {
        namespace: 'deployment',
        kind: 'outcome',
        text: `Deployed test-app to Vercel production at https://test-app.vercel.app in 45.3 s, 5 steps (auth with ${githubToken})`,
        metadata: {
          platform: 'vercel',
          environment: 'production',
          success: true,
          durationSeconds: 45.3,
          steps: 5,
          url: 'https://test-app.vercel.app',
          user: 'alice',
        },
        categories: ['deployments'],
      },
      {
        namespace: 'deployment',
        kind: 'outcome',
        text: "Vercel production deploy of test-app failed: Build failed: Missing dependency 'react-dom'",
        metadata: {
          platform: 'vercel',
          environment: 'production',
          success: false,
          error: "Build failed: Missing dependency 'react-dom'",
          user: 'alice',
        },
        categories: ['deployments', 'failures'],
      },
      {
        namespace: 'deployment',
        kind: 'outcome',
        text: 'Deployed docs-site to Netlify staging in 20.1 s, 3 steps',
        metadata: {
          platform: 'netlify',
          environment: 'staging',
          success: true,
          durationSeconds: 20.1,
        },
        categories: ['deployments'],
      },
      {
        namespace: 'incidents',
        kind: 'episode',
        text: 'Postgres connection pool exhausted on the billing API during the Friday peak',
        categories: ['incidents'],
      },
    ],
    { wait: 'queryable' },
  );
  [ids.alice, ids.bob, ids.success, ids.failure, ids.netlify, ids.incident] = stored.map(
    (result) => result.id,
  );
}, 90_000);

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

describe('deployment agent recall', () => {
  it('recalls the successful Vercel production deploy for "vercel production deploy"', async () => {
    const { hits } = await agent.query('vercel production deploy', {
      filter: {
        namespace: 'deployment',
        kinds: ['outcome'],
        metadata: {
          and: [
            { field: 'platform', op: 'eq', value: 'vercel' },
            { field: 'success', op: 'eq', value: true },
          ],
        },
      },
    });
    expect(
      hits.map((hit) => [
        hit.memory.id,
        hit.memory.metadata.url,
        hit.memory.metadata.durationSeconds,
      ]),
    ).toEqual([[ids.success, 'https://test-app.vercel.app', 45.3]]);
  });

  it('recalls the failure to avoid, with its error', async () => {
    const { hits } = await agent.query('vercel production deploy', {
      filter: { namespace: 'deployment', metadata: { field: 'success', op: 'eq', value: false } },
    });
    expect(hits.map((hit) => [hit.memory.id, hit.memory.metadata.error])).toEqual([
      [ids.failure, "Build failed: Missing dependency 'react-dom'"],
    ]);
  });

  it('ranks both Vercel outcomes above the Netlify one for an unfiltered outcome query', async () => {
    const { hits } = await agent.query('vercel production deploy', {
      filter: { namespace: 'deployment', kinds: ['outcome'] },
      topK: 3,
    });
    expect(new Set(hits.slice(0, 2).map((hit) => hit.memory.id))).toEqual(
      new Set([ids.success, ids.failure]),
    );
  });

  it("returns only the user's own preferences in user scope", async () => {
    const { hits } = await agent.query('where should production deploys go', {
      filter: { userId: 'alice', kinds: ['preference'] },
    });
    expect(hits.map((hit) => hit.memory.id)).toEqual([ids.alice]);
  });

  it('infers user scope from userId', async () => {
    const memory = await agent.get(ids.alice as string);
    expect(memory?.scope).toBe('user');
  });

  it('never stores the GitHub token in clear', async () => {
    const memory = await agent.get(ids.success as string);
    expect({
      token: memory?.text.includes(githubToken),
      redacted: memory?.text.includes('[REDACTED'),
    }).toEqual({
      token: false,
      redacted: true,
    });
  });

  it('returns every hit with its score parts', async () => {
    const { hits } = await agent.query('connection pool exhausted', { topK: 1 });
    const [hit] = hits;
    expect({ id: hit?.memory.id, scoreIsRelevance: hit?.score === hit?.scores.relevance }).toEqual({
      id: ids.incident,
      scoreIsRelevance: true,
    });
  });

  it('keeps tenants apart: another tenant sees none of these memories', async () => {
    const other = await stack.client('globex');
    const { hits } = await other.query('vercel production deploy', { topK: 10 });
    expect(hits).toEqual([]);
  });
});

describe('idempotency and duplicates', () => {
  it('a store retried with the same id yields one memory', async () => {
    const retried = {
      id: '01935c3e-8f5a-7c3b-9d2e-4f6a8b1c2d3e',
      text: 'Rollbacks on Fly.io take about 40 seconds',
      namespace: 'deployment',
    };
    const first = await agent.store(retried, { wait: 'queryable' });
    const second = await agent.store(retried, { wait: 'queryable' });
    const listed = [];
    for await (const memory of agent.listAll({ namespace: 'deployment' })) {
      if (memory.text === retried.text) listed.push(memory.id);
    }
    expect({ first: first.status, second: second.status, listed }).toEqual({
      first: 'stored',
      second: 'stored',
      listed: [retried.id],
    });
  });

  it('an exact duplicate in the same scope bumps occurrences instead of adding a memory', async () => {
    const text = 'Staging deploys need the VPN to reach the registry';
    const first = await agent.store(
      { text, namespace: 'deployment', tags: ['vpn'] },
      { wait: 'queryable' },
    );
    const second = await agent.store(
      { text, namespace: 'deployment', tags: ['registry'] },
      { wait: 'queryable' },
    );
    const memory = await agent.get(first.id);
    expect({
      status: second.status,
      mergedInto: second.memoryId,
      occurrences: memory?.occurrences,
      tags: memory?.tags,
    }).toEqual({
      status: 'duplicate',
      mergedInto: first.id,
      occurrences: 2,
      tags: ['vpn', 'registry'],
    });
  });

  it('records the duplicate in the history', async () => {
    const text = 'Preview deploys expire after 30 days';
    const first = await agent.store({ text }, { wait: 'queryable' });
    await agent.store({ text }, { wait: 'queryable' });
    const history = await agent.history(first.id);
    expect(history.map((entry) => entry.event)).toEqual(['ADD', 'DUPLICATE']);
  });
});

describe('bad input', () => {
  it('rejects an oversize text in the client with a typed LIMIT_EXCEEDED error', async () => {
    const error = await agent
      .store({ text: 'x'.repeat(40_000) })
      .catch((caught: unknown) => caught);
    expect(error instanceof MembusError ? error.code : error).toBe('LIMIT_EXCEEDED');
  });

  it('answers an oversize query text from the service with LIMIT_EXCEEDED', async () => {
    const reply = await agent.connection.request(
      'memory.query.acme',
      JSON.stringify({ v: 1, text: 'y'.repeat(40_000) }),
    );
    expect(reply.json<{ error: { code: string } }>().error.code).toBe('LIMIT_EXCEEDED');
  });

  it('dead-letters a malformed store message with its reason and keeps serving', async () => {
    const nc = agent.connection;
    const headers = createHeaders();
    headers.set('Nats-Msg-Id', 'malformed-1');
    await jetstream(nc).publish('memory.store.acme', '{"v":1,"text":', { headers });
    // The DLQ is read as an operator would (agents have no JetStream API).
    const operator = await connectBus({
      servers: stack.nats.url,
      name: 'dlq-reader',
      ...stack.admin,
    });
    const jsm = await jetstreamManager(operator);
    const letter = await (async () => {
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        const message = await jsm.streams
          .getMessage(Streams.dlq.name, { last_by_subj: 'memory.dlq.acme' })
          .catch(() => undefined);
        if (message)
          return {
            code: message.header.get(Headers.errorCode),
            body: DeadLetterSchema.parse(message.json()),
          };
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      return undefined;
    })();
    await operator.close();
    const after = await agent.store(
      { text: 'Still serving after a poison message' },
      { wait: 'queryable' },
    );
    const found = await agent.get(after.id);
    expect({ code: letter?.code, payload: letter?.body.payload, served: found?.text }).toEqual({
      code: 'INVALID_MESSAGE',
      payload: '{"v":1,"text":',
      served: 'Still serving after a poison message',
    });
  });

  it('fails a store whose caller vector has the wrong dimension, telling the waiting client', async () => {
    const error = await agent
      .store(
        { text: 'wrong dimension', vector: [0.1, 0.2, 0.3] },
        { wait: 'queryable', timeoutMs: 15_000 },
      )
      .catch((caught: unknown) => caught);
    expect(error instanceof MembusError ? error.code : error).toBe('DIMENSION_MISMATCH');
  });
});
