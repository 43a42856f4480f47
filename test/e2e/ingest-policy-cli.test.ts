/** `membus policy get|put FILE|history` against the real stack, with the on-call example policy. */
import { join } from 'node:path';
import { repoRoot } from '@membus/cli';
import { describe, expect, it } from 'vitest';
import { shellCliForFile } from '../helpers/shell-cli.ts';

const oncallFile = join(repoRoot, 'examples/policies/oncall.json');
const membus = shellCliForFile();

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
