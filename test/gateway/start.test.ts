/**
 * `membus start` runs the HTTP gateway with the other services (decision 007): the line that
 * names its URL, a key from `membus apikey create`, a memory stored and found over HTTP; and a
 * port asked for but taken, told in one line naming the flag.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { unusedPort, waitFor } from '@membus/bus/testing';
import { repoRoot } from '@membus/cli';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = join(repoRoot, 'packages/cli/bin/membus.mjs');
const run = promisify(execFile);
/** The environment without anything that points at another stack. */
const cleanEnv = {
  ...Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) =>
        !/^(NATS_|MEMBUS_|METRICS_|GATEWAY_)/.test(name) &&
        name !== 'MONGODB_URI' &&
        name !== 'QDRANT_URL',
    ),
  ),
  // Test stacks embed with the fast hashing provider, not `membus start`'s ONNX model.
  EMBEDDING_OFFLINE_PROVIDER: 'local',
};

/** A base of five free consecutive ports (the services' metrics ports and the gateway's). */
async function freePortBase(): Promise<number> {
  const free = (port: number) =>
    new Promise<boolean>((resolveFree) => {
      const server = createServer();
      server.once('error', () => resolveFree(false));
      server.listen({ port, host: '0.0.0.0', exclusive: true }, () =>
        server.close(() => resolveFree(true)),
      );
    });
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const all = await Promise.all([0, 1, 2, 3, 4].map((offset) => free(base + offset)));
    if (all.every(Boolean)) return base;
  }
}

let dataDir: string;
let child: ChildProcess;
let exited: Promise<number | null>;
const output: string[] = [];
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
  child = spawn(process.execPath, [bin, 'start', ...flags, '--gateway-port', String(gatewayPort)], {
    env: cleanEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  exited = new Promise((resolveExit) => child.once('exit', resolveExit));
  await new Promise<void>((resolveReady, rejectReady) => {
    for (const stream of [child.stdout, child.stderr])
      createInterface({ input: stream as NodeJS.ReadableStream }).on('line', (line) => {
        output.push(line);
        if (line.startsWith('membus is running')) resolveReady();
      });
    void exited.then((code) =>
      rejectReady(new Error(`membus start exited with ${code}:\n${output.join('\n')}`)),
    );
  });
}, 120_000);

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGTERM');
  await exited;
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
    const { stdout } = await run(
      process.execPath,
      [bin, 'apikey', 'create', '--tenant', 'default', ...flags],
      { env: cleanEnv },
    );
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
    const failed = await run(
      process.execPath,
      [
        bin,
        'start',
        '--data-dir',
        join(dataDir, 'second'),
        '--nats-port',
        String(await unusedPort()),
        '--metrics-port-base',
        String(await freePortBase()),
        '--gateway-port',
        String(gatewayPort),
      ],
      { env: cleanEnv },
    ).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
    );
    expect(failed).toEqual({
      code: 1,
      stderr: `membus: port ${gatewayPort} (HTTP API) is taken: choose another with --gateway-port N (or GATEWAY_PORT)\n`,
    });
  });
});
