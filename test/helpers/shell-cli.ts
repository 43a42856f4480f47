import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '@membus/cli';
import { afterAll, beforeAll } from 'vitest';
import { startTestStack, type TestStack } from './stack.ts';

const run = promisify(execFile);

/** The environment `membus` runs with as an agent of `tenant` on `stack`. */
export async function cliEnv(stack: TestStack, tenant: string): Promise<NodeJS.ProcessEnv> {
  const credentials = await stack.credentials(tenant);
  return {
    ...process.env,
    NATS_URL: stack.nats.url,
    MEMBUS_TENANT: tenant,
    ...('credsFile' in credentials
      ? { NATS_CREDS: credentials.credsFile }
      : { NATS_USER: credentials.user, NATS_PASSWORD: credentials.pass }),
  };
}

/**
 * The `membus` command of the shell user (its credentials as an operator hands them out,
 * `membus tenant add shell`), against one stack started before a file's tests and disposed after
 * them. Resolves to the command's stdout and stderr; rejects on a non-zero exit.
 */
export function shellCliForFile(): (
  ...args: string[]
) => Promise<{ stdout: string; stderr: string }> {
  let stack: TestStack | undefined;
  let env: NodeJS.ProcessEnv = {};
  beforeAll(async () => {
    stack = await startTestStack();
    env = await cliEnv(stack, 'shell');
  }, 90_000);
  afterAll(async () => {
    await stack?.[Symbol.asyncDispose]();
  });
  return (...args) =>
    run(process.execPath, [join(repoRoot, 'packages/cli/bin/membus.mjs'), ...args], { env });
}
