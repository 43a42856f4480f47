/** `membus policy get [--version N] | put FILE [--expected-version N] | history [--limit N]`. */
import { readFile } from 'node:fs/promises';
import type { MemoryClient } from '@membus/client';
import { fail } from './command-line.ts';
import { values } from './context.ts';

export async function policyCommand(client: MemoryClient, args: string[]): Promise<void> {
  const [action, file] = args;
  switch (action) {
    case 'get': {
      const version = values.version === undefined ? undefined : wholeNumber('version');
      const reply = await client.policy(version);
      if (reply.version === 0) {
        process.stderr.write(`no ingest policy for ${client.tenant}: every store is kept\n`);
        return;
      }
      process.stdout.write(`${JSON.stringify(reply.policy, null, 2)}\n`);
      process.stderr.write(`version ${reply.version}, ${reply.updatedAt}\n`);
      return;
    }
    case 'put': {
      if (!file) fail('policy put needs a JSON file (e.g. examples/policies/oncall.json)');
      let policy: unknown;
      try {
        policy = JSON.parse(await readFile(file, 'utf8'));
      } catch (error) {
        fail(`${file}: ${(error as Error).message}`);
      }
      // Without --expected-version the change goes on top of the version read just now: a
      // concurrent change in between is still refused (CONFLICT), never overwritten.
      const expectedVersion =
        values['expected-version'] === undefined
          ? (await client.policy()).version
          : wholeNumber('expected-version');
      const reply = await client.putPolicy(policy as Parameters<MemoryClient['putPolicy']>[0], {
        expectedVersion,
      });
      process.stdout.write(`policy version ${reply.version} (${reply.updatedAt})\n`);
      return;
    }
    case 'history': {
      const reply = await client.policyHistory({ limit: Math.min(100, Number(values.limit)) });
      if (values.json) {
        process.stdout.write(`${JSON.stringify(reply, null, 2)}\n`);
        return;
      }
      for (const entry of reply.versions)
        process.stdout.write(
          `${entry.version}  ${entry.updatedAt}  ${entry.rules} rules  ${entry.ruleNames.join(', ')}\n`,
        );
      if (reply.versions.length === 0) process.stderr.write('no ingest policy yet\n');
      return;
    }
    default:
      fail('policy needs get [--version N], put FILE [--expected-version N] or history');
  }
}

function wholeNumber(flag: 'version' | 'expected-version'): number {
  const value = Number(values[flag]);
  if (!Number.isInteger(value) || value < 0) fail(`--${flag} must be a whole number`);
  return value;
}
