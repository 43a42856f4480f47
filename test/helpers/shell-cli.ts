import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '@membus/cli';
import { afterAll, beforeAll } from 'vitest';
import { startTestStack, type TestStack } from './stack.ts';

const run = promisify(execFile);

/**
 * The `membus` command of the shell user (its credentials as an operator hands them out,
 * `membus tenant add shell`), against one stack started before a file's tests and disposed after
 * them. Resolves to the command's stdout and stderr; rejects on a non-zero exit.
 */
export function shellCliForFile(): (
  ...args: string[]
) => Promise<{ stdout: string; stderr: string }> {
  let stack: TestStack | undefined;
  let shellCredentials: Record<string, string> = {};
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
  return (...args) =>
    run(process.execPath, [join(repoRoot, 'packages/cli/bin/membus.mjs'), ...args], {
      env: {
        ...process.env,
        NATS_URL: (stack as TestStack).nats.url,
        MEMBUS_TENANT: 'shell',
        ...shellCredentials,
      },
    });
}
