/**
 * The ingest policy end to end (decision 009): the on-call agent's plan (USE-CASES.md §3) as
 * examples/policies/oncall.json, put over NATS, walked through the real embedder and
 * vector-store; a change takes effect without a restart; hostile policies and subjects.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from '@membus/bus';
import type { MemoryClient } from '@membus/client';
import { type IngestPolicyInput, MembusError, PolicyPutReplySchema } from '@membus/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

const oncall = JSON.parse(
  readFileSync(join(import.meta.dirname, '../../examples/policies/oncall.json'), 'utf8'),
) as IngestPolicyInput;

let stack: TestStack;
let client: MemoryClient;
/** The tenant whose policy the tests below change, version after version. */
let lab: MemoryClient;
const DAY = 86_400_000;

beforeAll(async () => {
  stack = await startTestStack();
  client = await stack.client('oncall');
  await client.putPolicy(oncall, { expectedVersion: 0 });
  // A tenant's first client costs seconds on a loaded host: made here, once.
  lab = await stack.client('policy-lab');
}, 90_000);

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

async function embedderMetrics(): Promise<string> {
  const port = stack.services.get('embedder')?.metricsPort;
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

describe('the on-call plan as a policy', () => {
  it.each([
    ['Hello team!', {}, 'greeting'],
    ['test query', {}, 'test-query'],
    ['How do I restart the payments service?', {}, 'how-do-i-question'],
    ['Health check: all services green', { status: 'green' }, 'health-check-green'],
    ['Network blip between az-a and az-b', { durationSeconds: 12 }, 'blip-under-a-minute'],
    ['payments-api pods restarted', { reason: 'deploy' }, 'expected-restart'],
  ])('drops %j (%s): told, not stored', async (text, metadata, reason) => {
    const result = await client.store(
      { text, namespace: 'oncall', metadata },
      { wait: 'queryable' },
    );
    expect(result).toMatchObject({ status: 'dropped', policy: { reason, version: 1 } });
    const { missing } = await client.getMany([result.id]);
    expect(missing).toEqual([result.id]);
  });

  it('keeps an incident with its category and 90-day expiry, a resource relation forever, a longer blip for 7 days', async () => {
    const before = Date.now();
    const incident = await client.store(
      {
        text: 'Outage of checkout: root cause was an expired TLS certificate',
        namespace: 'oncall',
        metadata: { source: 'daemon', rootCause: 'expired certificate', severity: 'high' },
      },
      { wait: 'queryable' },
    );
    const relation = await client.store(
      { text: 'orders-service reads from the RDS instance orders-db', namespace: 'oncall' },
      { wait: 'queryable' },
    );
    const blip = await client.store(
      {
        text: 'Network blip between az-a and az-b',
        namespace: 'oncall',
        metadata: { durationSeconds: 300 },
      },
      { wait: 'queryable' },
    );
    const [kept, resource, temporary] = await Promise.all(
      [incident, relation, blip].map(async ({ id }) => client.get(id)),
    );
    expect(kept).toMatchObject({ categories: ['incidents'], importance: 0.8 });
    expect(Date.parse(kept?.expiresAt ?? '') - before).toBeGreaterThanOrEqual(90 * DAY - 60_000);
    expect(Date.parse(kept?.expiresAt ?? '') - before).toBeLessThanOrEqual(90 * DAY + 60_000);
    expect(resource).toMatchObject({ categories: ['aws_resources'] });
    expect(resource?.expiresAt).toBeUndefined();
    expect(temporary).toMatchObject({ categories: ['temporary'] });
    expect(Date.parse(temporary?.expiresAt ?? '') - before).toBeLessThanOrEqual(7 * DAY + 60_000);
    const { hits } = await client.query('checkout certificate outage', {
      filter: { namespace: 'oncall', categories: { any: ['incidents'] } },
    });
    expect(hits.map((hit) => hit.memory.id)).toContain(incident.id);
  });

  it('counts each decision by action and rule', async () => {
    const text = await embedderMetrics();
    const count = (action: string, rule: string) =>
      Number(
        text.match(
          new RegExp(
            `membus_policy_decisions_total\\{action="${action}",rule="${rule}"[^}]*\\} (\\d+)`,
          ),
        )?.[1] ?? 0,
      );
    expect({
      greeting: count('drop', 'greeting'),
      expectedRestart: count('drop', 'expected-restart'),
      incident: count('annotate', 'incident'),
    }).toEqual({ greeting: 1, expectedRestart: 1, incident: 1 });
  });
});

describe('changing the policy', () => {
  it('takes effect without a restart, versioned, with the history kept', async () => {
    const tenant = lab;
    const text = 'Heartbeat from the staging canary';
    expect(await tenant.store({ text }, { wait: 'queryable' })).toMatchObject({ status: 'stored' });
    const put = await tenant.putPolicy(
      {
        v: 1,
        rules: [
          {
            name: 'heartbeat',
            match: { text: [{ contains: 'heartbeat', ignoreCase: true }] },
            action: { type: 'drop', reason: 'noise' },
          },
        ],
      },
      { expectedVersion: 0 },
    );
    expect(put.version).toBe(1);
    expect(await tenant.store({ text: `${text} again` }, { wait: 'queryable' })).toMatchObject({
      status: 'dropped',
      policy: { rule: 'heartbeat', reason: 'noise', version: 1 },
    });
    await tenant.putPolicy({ v: 1, rules: [] }, { expectedVersion: 1 });
    expect(await tenant.store({ text: `${text} once more` }, { wait: 'queryable' })).toMatchObject({
      status: 'stored',
    });
    const history = await tenant.policyHistory();
    expect(history.versions.map((entry) => [entry.version, entry.ruleNames])).toEqual([
      [2, []],
      [1, ['heartbeat']],
    ]);
    expect((await tenant.policy(1)).policy?.rules[0]?.name).toBe('heartbeat');
  });

  it('refuses a put based on a stale version (CONFLICT) and changes nothing', async () => {
    const tenant = lab;
    const current = (await tenant.policy()).version;
    const error = await tenant
      .putPolicy({ v: 1, rules: [] }, { expectedVersion: current - 1 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MembusError);
    expect((error as MembusError).code).toBe('CONFLICT');
    expect((await tenant.policy()).version).toBe(current);
  });
});

describe('hostile policies', () => {
  it('a catastrophic regex runs in linear time: the store and the next ones go through', async () => {
    const tenant = lab;
    const { version } = await tenant.policy();
    await tenant.putPolicy(
      {
        v: 1,
        rules: [
          {
            name: 'evil',
            match: { text: [{ regex: '^(a+)+$' }, { regex: '(x+x+)+y' }] },
            action: { type: 'drop', reason: 'evil' },
          },
        ],
      },
      { expectedVersion: version },
    );
    const results = await tenant.storeMany(
      [`${'a'.repeat(31_000)}!`, 'x'.repeat(31_000), 'an ordinary memory'].map((text) => ({
        text,
      })),
      { wait: 'queryable' },
    );
    expect(results.map((result) => result.status)).toEqual(['stored', 'stored', 'stored']);
  });

  it('refuses a regex RE2 cannot run and a huge policy, with INVALID_MESSAGE', async () => {
    const tenant = lab;
    const { version } = await tenant.policy();
    const backreference = await tenant
      .putPolicy(
        {
          v: 1,
          rules: [
            {
              name: 'echo',
              match: { text: [{ regex: '(a)\\1' }] },
              action: { type: 'drop', reason: 'x' },
            },
          ],
        },
        { expectedVersion: version },
      )
      .catch((caught: unknown) => caught);
    expect((backreference as MembusError).code).toBe('INVALID_MESSAGE');
    const huge = Array.from({ length: 100 }, (_, index) => ({
      name: `rule-${index}`,
      match: { text: [{ contains: 'x'.repeat(1_000) }] },
      action: { type: 'drop' as const, reason: 'x' },
    }));
    const tooBig = await tenant
      .putPolicy({ v: 1, rules: huge }, { expectedVersion: version })
      .catch((caught: unknown) => caught);
    expect((tooBig as MembusError).code).toBe('INVALID_MESSAGE');
    expect((await tenant.policy()).version).toBe(version);
  });

  it("another tenant's policy subject is refused by NATS, and its policy is untouched", async () => {
    // An agent of policy-lab, on its own connection, names oncall's policy subject.
    const nc = lab.connection;
    const body = { v: 1, policy: { v: 1, rules: [] }, expectedVersion: 1 };
    const error = await request(nc, 'memory.policy.put.oncall', body, PolicyPutReplySchema, {
      timeoutMs: 2_000,
    }).catch((caught: unknown) => caught);
    expect((error as MembusError).code).toBe('INVALID_TENANT');
    expect((await client.policy()).version).toBe(1);
  });
});
