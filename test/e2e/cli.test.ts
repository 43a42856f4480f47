/** The `membus` command a person uses at a shell, against the real stack. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '@membus/cli';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

const run = promisify(execFile);
let stack: TestStack;
/** The shell user's credentials, as an operator hands them out (`membus tenant add shell`). */
let shellCredentials: Record<string, string>;

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

describe('membus CLI', () => {
  it('stores a memory and finds it with a query', async () => {
    await membus(
      'store',
      'The staging database is db-staging.internal',
      '--namespace',
      'infra',
      '--wait',
    );
    const { stdout } = await membus(
      'query',
      'where is the staging database',
      '--namespace',
      'infra',
    );
    expect(stdout.split('\n')[0]).toMatch(
      /^\d\.\d{3} {2}The staging database is db-staging\.internal$/,
    );
  });

  it('prints stats as JSON', async () => {
    await membus('store', 'Incidents go to #oncall', '--category', 'incidents', '--wait');
    const { stdout } = await membus('stats', '--category', 'incidents');
    expect(JSON.parse(stdout).byCategory).toEqual({ incidents: 1 });
  });

  it('exits non-zero with the error code on bad input', async () => {
    const failure = await membus('store', 'x', '--importance', '7').catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure).toMatchObject({ code: 1, stderr: expect.stringContaining('LIMIT_EXCEEDED') });
  });
});
