/**
 * A vector-store stopped with SIGTERM closes its index cleanly and restarts from the snapshot the
 * close left (the keyword index, the codes from vectors.f32); one killed with SIGKILL leaves none
 * and rebuilds from every row. Both say so in a log line and in `membus_index_open_seconds`, and
 * answer the same queries the same way. The index searches as wide as `INDEX_EF_SEARCH` says.
 */
import type { MemoryClient } from '@membus/client';
import { expect, it } from 'vitest';
import { startTestStack } from '../helpers/stack.ts';

const TENANT = 'restart-snapshot';
const TEXTS = [
  'The staging database migrates every night at 02:00 UTC',
  'Deploys to production need two approvals in the release channel',
  'The billing service retries webhooks with exponential backoff',
  'Ana prefers dark mode and keyboard shortcuts in the editor',
  'Incident 4471: the cache cluster ran out of memory during the sale',
];

async function answers(client: MemoryClient) {
  const results: string[][] = [];
  for (const query of ['webhook retries', 'production deploy approvals', 'cache memory incident'])
    for (const mode of ['keyword', 'hybrid'] as const) {
      const reply = await client.query({ text: query, mode, topK: 3 });
      results.push(reply.hits.map((hit) => `${hit.memory.text}`));
    }
  return results;
}

it('SIGTERM: restarted from the snapshot; SIGKILL: rebuilt from the rows; the same answers', async () => {
  // A wider graph search than the default, as an operator sets it for millions of memories.
  await using stack = await startTestStack({ INDEX_EF_SEARCH: '200' });
  const client = await stack.client(TENANT);
  for (const text of TEXTS) await client.store({ text }, { wait: 'queryable' });
  const before = await answers(client);
  expect(before.flat()).toContain(TEXTS[2]);

  const logged = (pattern: RegExp) => stack.logs.some((line) => pattern.test(line));
  expect(logged(/"efSearch":200\b.*"msg":"storage"/)).toBe(true);
  const clean = await stack.restart('vector-store', 'SIGTERM');
  expect(
    logged(/embedded index restored from the last clean close in [\d.]+ s \(5 memories\)/),
  ).toBe(true);
  const series = async (port: number) =>
    (await (await fetch(`http://127.0.0.1:${port}/metrics`)).text())
      .split('\n')
      .filter((line) => line.startsWith('membus_index_open_seconds{'));
  expect(await series(clean.metricsPort)).toEqual([
    expect.stringMatching(
      /^membus_index_open_seconds\{from="snapshot",service="vector-store"\} [\d.e-]+$/,
    ),
  ]);
  expect(await answers(client)).toEqual(before);

  const killed = await stack.restart('vector-store', 'SIGKILL');
  expect(
    logged(
      /embedded index built from every row in [\d.]+ s \(5 memories\): no clean close recorded/,
    ),
  ).toBe(true);
  expect(await series(killed.metricsPort)).toEqual([
    expect.stringMatching(
      /^membus_index_open_seconds\{from="rows",service="vector-store"\} [\d.e-]+$/,
    ),
  ]);
  expect(await answers(client)).toEqual(before);
}, 120_000);
