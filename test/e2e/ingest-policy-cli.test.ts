/** `membus policy get|put FILE|history` against the real stack, with the on-call example policy. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '@membus/cli';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

const run = promisify(execFile);
let stack: TestStack;
let shellCredentials: Record<string, string>;
const oncallFile = join(repoRoot, 'examples/policies/oncall.json');

const membus = (...args: string[]) =>
  run(process.execPath, [join(repoRoot, 'packages/cli/bin/membus.mjs'), ...args], {
    env: { ...process.env, NATS_URL: stack.nats.url, MEMBUS_TENANT: 'shell', ...shellCredentials },
  });

beforeAll(async () => {
  stack = await startTestStack();
  const credentials = await stack.credentials('shell');
  shellCredentials =
    'credsFile' in credentials
      ? { NATS_CREDS: credentials.credsFile }
      : { NATS_USER: credentials.user, NATS_PASSWORD: credentials.pass };
}, 90_000);

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

describe('membus policy', () => {
  it('puts the on-call policy, prints it back, drops a greeting, and lists the versions', async () => {
    expect((await membus('policy', 'put', oncallFile)).stdout).toMatch(/^policy version 1 \(/);
    const { stdout } = await membus('policy', 'get');
    expect(JSON.parse(stdout).rules[0].name).toBe('greeting');
    expect((await membus('store', 'Hello team!', '--wait')).stdout).toBe(
      'dropped by the ingest policy: rule greeting (greeting)\n',
    );
    expect((await membus('policy', 'put', oncallFile)).stdout).toMatch(/^policy version 2 \(/);
    const history = await membus('policy', 'history');
    expect(history.stdout.split('\n').map((line) => line.split('  ')[0])).toEqual(['2', '1', '']);
  });

  it('refuses a put on a stale --expected-version with CONFLICT, exit 1', async () => {
    const failure = await membus('policy', 'put', oncallFile, '--expected-version', '0').catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { stderr: string }).stderr).toMatch(
      /^membus: CONFLICT: policy is at version/,
    );
  });
});
