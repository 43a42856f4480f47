/**
 * `membus start` runs the HTTP gateway with the other services (decision 007): the line that
 * names its URL, a key from `membus apikey create`, a memory stored and found over HTTP; and a
 * port asked for but taken, told in one line naming the flag.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unusedPort, unusedPortBase, waitFor } from '@membus/bus/testing';
import { membus, membusExit, type RunningMembus, startMembus } from '@membus/cli/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** A base of five free consecutive ports (the services' metrics ports and the gateway's). */
const freePortBase = () => unusedPortBase(5);

let dataDir: string;
let running: RunningMembus | undefined;
let output: string[] = [];
let flags: string[];
let gatewayPort: number;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'membus-start-gateway-'));
  gatewayPort = await unusedPort();
  flags = [
    '--data-dir',
    dataDir,
    '--nats-port',
    String(await unusedPort()),
    '--metrics-port-base',
    String(await freePortBase()),
  ];
  running = await startMembus([...flags, '--gateway-port', String(gatewayPort)]);
  output = running.output;
}, 120_000);

afterAll(async () => {
  await running?.[Symbol.asyncDispose]();
  await rm(dataDir, { recursive: true, force: true });
}, 60_000);

describe('membus start', () => {
  it('runs the gateway and names its URL in one line', async () => {
    await waitFor(() => output.some((line) => line.startsWith('  http:')), {
      timeoutMs: 5_000,
      what: 'the http line',
    });
    expect(output.find((line) => line.startsWith('  http:'))).toMatch(
      new RegExp(`^  http: +http://127\\.0\\.0\\.1:${gatewayPort}/v1 `),
    );
  });

  it('serves a key from `membus apikey create`: a memory stored and found over HTTP', async () => {
    const { stdout } = await membus(['apikey', 'create', '--tenant', 'default', ...flags]);
    const key = stdout.trim();
    const call = (method: string, path: string, body?: unknown) =>
      fetch(`http://127.0.0.1:${gatewayPort}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    await waitFor(async () => (await call('GET', '/v1/stats')).status === 200, {
      timeoutMs: 2_000,
      intervalMs: 20,
      what: 'the new key accepted',
    });
    const stored = await call('POST', '/v1/memories?wait=queryable', {
      text: 'Staging deploys go through the blue cluster',
    });
    expect(stored.status).toBe(201);
    const { id } = (await stored.json()) as { id: string };
    const found = (await (
      await call('POST', '/v1/memories/search', { text: 'staging deploy cluster' })
    ).json()) as { hits: { memory: { id: string } }[] };
    expect(found.hits[0]?.memory.id).toBe(id);
  });

  it('fails in one line when the gateway port asked for is taken', async () => {
    // Its own NATS and metrics ports (free): only the gateway's is taken, by the stack above.
    const { code, stderr } = await membusExit([
      'start',
      '--data-dir',
      join(dataDir, 'second'),
      '--nats-port',
      String(await unusedPort()),
      '--metrics-port-base',
      String(await freePortBase()),
      '--gateway-port',
      String(gatewayPort),
    ]);
    const failed = { code, stderr };
    expect(failed).toEqual({
      code: 1,
      stderr: `membus: port ${gatewayPort} (HTTP API) is taken: choose another with --gateway-port N (or GATEWAY_PORT)\n`,
    });
  });
});
