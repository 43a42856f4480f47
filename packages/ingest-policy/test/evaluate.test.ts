import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type StoreMemory, StoreMemorySchema } from '@membus/contracts';
import { describe, expect, it } from 'vitest';
import { compilePolicy, evaluatePolicy, MAX_PROGRAM_SIZE } from '../src/index.ts';

const oncallPolicy = JSON.parse(
  readFileSync(join(import.meta.dirname, '../../../examples/policies/oncall.json'), 'utf8'),
) as unknown;
const oncall = compilePolicy(oncallPolicy, 3);

function store(text: string, extra: Partial<StoreMemory> = {}): StoreMemory {
  return StoreMemorySchema.parse({
    v: 1,
    id: '0190f1c2-7b1e-7cc0-8000-000000000001',
    namespace: 'oncall',
    text,
    ...extra,
  });
}

describe('evaluatePolicy on the on-call policy (examples/policies/oncall.json)', () => {
  it.each([
    ['Hello team!', 'greeting'],
    ['thanks', 'greeting'],
    ['test query', 'test-query'],
    ['How do I restart the payments service?', 'how-do-i-question'],
    ['Health check: all services green', 'health-check-green'],
    ['investigating...', 'intermediate-step'],
  ])('drops %j as %s', (text, reason) => {
    const decision = evaluatePolicy(oncall, store(text));
    expect(decision).toMatchObject({ action: 'drop', reason, version: 3 });
  });

  it('drops a blip under a minute and keeps a longer one as temporary, 7 days', () => {
    const short = store('Network blip between eu-west-1a and 1b', {
      metadata: { durationSeconds: 20 },
    });
    expect(evaluatePolicy(oncall, short)).toMatchObject({ action: 'drop', rule: 'short-blip' });
    const long = evaluatePolicy(
      oncall,
      store('Network blip between eu-west-1a and 1b', { metadata: { durationSeconds: 300 } }),
    );
    expect(long).toMatchObject({ action: 'keep', rules: ['blip'] });
    expect(long.action === 'keep' && long.item).toMatchObject({
      categories: ['temporary'],
      ttlSeconds: 7 * 86_400,
      importance: 0.3,
    });
  });

  it('drops an expected restart and keeps an unexpected one', () => {
    const text = 'payments-api pods restarted';
    expect(evaluatePolicy(oncall, store(text, { metadata: { reason: 'deploy' } }))).toMatchObject({
      action: 'drop',
      reason: 'expected-restart',
    });
    expect(evaluatePolicy(oncall, store(text, { metadata: { reason: 'oom' } }))).toMatchObject({
      action: 'keep',
    });
  });

  it('keeps a failing health check', () => {
    expect(evaluatePolicy(oncall, store('Health check failed for checkout (503)'))).toMatchObject({
      action: 'keep',
    });
  });

  it('labels an incident with its root cause, 90 days, importance 0.8', () => {
    const decision = evaluatePolicy(
      oncall,
      store('Outage of checkout: root cause was an expired TLS certificate on the ALB', {
        metadata: { source: 'daemon', rootCause: 'expired certificate' },
      }),
    );
    expect(decision).toMatchObject({
      action: 'keep',
      rules: ['incident', 'incident-root-cause', 'aws-resource'],
    });
    expect(decision.action === 'keep' && decision.item).toMatchObject({
      categories: ['incidents', 'aws_resources'],
      ttlSeconds: 90 * 86_400,
      importance: 0.8,
    });
  });

  it('keeps AWS resource relations forever (no expiry)', () => {
    const decision = evaluatePolicy(
      oncall,
      store('orders-service reads from the RDS instance orders-db in vpc-main'),
    );
    expect(decision.action === 'keep' && decision.item.categories).toEqual(['aws_resources']);
    expect(decision.action === 'keep' && decision.item.ttlSeconds).toBeUndefined();
  });

  it('labels deploys and troubleshooting steps', () => {
    const deploy = evaluatePolicy(oncall, store('Deployed checkout v2.3.1 via GitHub Actions'));
    expect(deploy.action === 'keep' && deploy.item).toMatchObject({
      categories: ['github_deploys'],
      ttlSeconds: 90 * 86_400,
    });
    const fix = evaluatePolicy(oncall, store('Resolved by ran kubectl rollout undo on checkout'));
    expect(fix.action === 'keep' && fix.item.categories).toEqual(['troubleshooting']);
  });

  it("leaves the caller's own expiry alone", () => {
    const decision = evaluatePolicy(
      oncall,
      store('Incident: checkout outage', { ttlSeconds: 3_600 }),
    );
    expect(decision.action === 'keep' && decision.item.ttlSeconds).toBe(3_600);
  });

  it('never drops or relabels what membus derives itself (summaries, patterns)', () => {
    const decision = evaluatePolicy(oncall, store('hello', { kind: 'summary' }));
    expect(decision).toMatchObject({ action: 'keep', rules: [] });
  });
});

describe('rule semantics', () => {
  it('stops at an annotate rule with stop, so a later drop does not apply', () => {
    const policy = compilePolicy({
      v: 1,
      rules: [
        {
          name: 'keep-daemon',
          match: { metadata: { field: 'source', op: 'eq', value: 'daemon' } },
          action: { type: 'annotate', tags: ['daemon'], stop: true },
        },
        { name: 'short', match: { maxLength: 10 }, action: { type: 'drop', reason: 'short' } },
      ],
    });
    expect(
      evaluatePolicy(policy, store('db down', { metadata: { source: 'daemon' } })),
    ).toMatchObject({ action: 'keep', rules: ['keep-daemon'] });
    expect(evaluatePolicy(policy, store('db down'))).toMatchObject({
      action: 'drop',
      rule: 'short',
    });
  });

  it('matches namespaces, kinds and scopes, ANDed', () => {
    const policy = compilePolicy({
      v: 1,
      rules: [
        {
          name: 'session-chatter',
          match: { namespaces: ['oncall'], kinds: ['episode'], scopes: ['session'] },
          action: { type: 'drop', reason: 'chatter' },
        },
      ],
    });
    const turn = { kind: 'episode' as const, sessionId: 's1' };
    expect(evaluatePolicy(policy, store('a turn', turn)).action).toBe('drop');
    expect(evaluatePolicy(policy, store('a turn', { ...turn, namespace: 'other' })).action).toBe(
      'keep',
    );
    expect(evaluatePolicy(policy, store('a turn', { kind: 'episode' })).action).toBe('keep');
  });

  it('refuses a regex RE2 cannot run (backreference) naming the rule', () => {
    expect(() =>
      compilePolicy({
        v: 1,
        rules: [
          {
            name: 'echo',
            match: { text: [{ regex: '(a)\\1' }] },
            action: { type: 'drop', reason: 'x' },
          },
        ],
      }),
    ).toThrow(/rule "echo".*not RE2 syntax/);
  });

  it('refuses a regex whose RE2 program is too big', () => {
    expect(() =>
      compilePolicy({
        v: 1,
        rules: [
          {
            name: 'huge',
            match: {
              text: [
                { regex: '[a-z]{1000}[0-9]{1000}[a-z]{1000}[0-9]{1000}[a-z]{1000}[0-9]{1000}' },
              ],
            },
            action: { type: 'drop', reason: 'x' },
          },
        ],
      }),
    ).toThrow(new RegExp(`limit is ${MAX_PROGRAM_SIZE}`));
  });

  it('runs a catastrophic-backtracking regex in linear time (RE2: no backtracking)', () => {
    const policy = compilePolicy({
      v: 1,
      rules: [
        {
          name: 'evil',
          match: { text: [{ regex: '^(a+)+$' }] },
          action: { type: 'drop', reason: 'x' },
        },
      ],
    });
    // A backtracking engine takes longer than the age of the universe on this input.
    expect(evaluatePolicy(policy, store(`${'a'.repeat(31_000)}!`)).action).toBe('keep');
    expect(evaluatePolicy(policy, store('a'.repeat(31_000))).action).toBe('drop');
  });

  it('refuses two rules of one name and a document over the size limit', () => {
    const rule = { name: 'r', action: { type: 'drop', reason: 'x' } };
    expect(() => compilePolicy({ v: 1, rules: [rule, rule] })).toThrow(/rule name "r" twice/);
    const big = Array.from({ length: 100 }, (_, index) => ({
      name: `r${index}`,
      match: { text: [{ contains: 'x'.repeat(1_000) }] },
      action: { type: 'drop', reason: 'x' },
    }));
    expect(() => compilePolicy({ v: 1, rules: big })).toThrow(/limit is 65536/);
  });
});
