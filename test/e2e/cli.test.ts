/** The `membus` command a person uses at a shell, against the real stack. */
import { describe, expect, it } from 'vitest';
import { shellCliForFile } from '../helpers/shell-cli.ts';

const membus = shellCliForFile();

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
