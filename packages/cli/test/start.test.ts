/**
 * `membus start` as a person runs it, with real processes: two stacks side by side (flags for
 * one, environment variables for the other), and a taken port told in one line.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unusedPort, unusedPortBase } from '@membus/bus/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanEnv,
  membus,
  membusExit,
  type RunningMembus,
  startMembus,
} from '../src/testing/index.ts';

/** A base of four free consecutive ports (the metrics ports). */
const freePortBase = () => unusedPortBase(4);

interface RunningStack extends RunningMembus {
  /** Runs another `membus` command against this stack. */
  membus(...args: string[]): Promise<{ stdout: string; stderr: string }>;
}

async function startStack(
  dataDir: string,
  natsPort: number,
  metricsPortBase: number,
  via: 'flags' | 'env',
): Promise<RunningStack> {
  const flags =
    via === 'flags'
      ? [
          '--data-dir',
          dataDir,
          '--nats-port',
          String(natsPort),
          '--metrics-port-base',
          String(metricsPortBase),
        ]
      : [];
  const env = {
    ...cleanEnv,
    ...(via === 'env'
      ? {
          MEMBUS_DATA_DIR: dataDir,
          MEMBUS_NATS_PORT: String(natsPort),
          METRICS_PORT_BASE: String(metricsPortBase),
        }
      : {}),
  };
  const running = await startMembus(flags, env);
  return Object.assign(running, {
    membus: (...args: string[]) =>
      membus([...args, '--nats-port', String(natsPort), '--data-dir', dataDir]),
  });
}

/** `membus start` that is expected to fail: its exit code and what it printed. */
const startFails = (...args: string[]) => membusExit(['start', ...args]);

const cleanups: (() => PromiseLike<unknown>)[] = [];
let first: RunningStack;
let second: RunningStack;
const ports = { firstNats: 0, firstMetrics: 0, secondNats: 0, secondMetrics: 0 };
const dirs = { first: '', second: '' };

beforeAll(async () => {
  const [firstDir, secondDir] = await Promise.all([
    mkdtemp(join(tmpdir(), 'membus-start-a-')),
    mkdtemp(join(tmpdir(), 'membus-start-b-')),
  ]);
  Object.assign(dirs, { first: firstDir, second: secondDir });
  cleanups.push(() => rm(firstDir, { recursive: true, force: true }));
  cleanups.push(() => rm(secondDir, { recursive: true, force: true }));
  ports.firstNats = await unusedPort();
  ports.secondNats = await unusedPort();
  ports.firstMetrics = await freePortBase();
  do ports.secondMetrics = await freePortBase();
  while (Math.abs(ports.secondMetrics - ports.firstMetrics) < 4);
  [first, second] = await Promise.all([
    startStack(firstDir, ports.firstNats, ports.firstMetrics, 'flags'),
    startStack(secondDir, ports.secondNats, ports.secondMetrics, 'env'),
  ]);
  cleanups.unshift(
    () => second[Symbol.asyncDispose](),
    () => first[Symbol.asyncDispose](),
  );
}, 180_000);

afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
}, 60_000);

describe('two stacks on one machine', () => {
  it('serve metrics on base..base+3 of each', async () => {
    const statuses = await Promise.all(
      [ports.firstMetrics, ports.secondMetrics].flatMap((base) =>
        [0, 1, 2, 3].map(async (offset) => {
          const response = await fetch(`http://127.0.0.1:${base + offset}/readyz`);
          return response.status;
        }),
      ),
    );
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 200]);
  });

  it('keep their memories apart', async () => {
    await first.membus('store', 'The first stack keeps this', '--wait');
    const [inFirst, inSecond] = await Promise.all([
      first.membus('query', 'what does the first stack keep'),
      second.membus('query', 'what does the first stack keep'),
    ]);
    expect([inFirst.stdout.split('\n')[0], inSecond.stdout.split('\n')[0]]).toEqual([
      expect.stringMatching(/^\d\.\d{3} {2}The first stack keeps this$/),
      'no memories found',
    ]);
  });
});

describe('a taken port', () => {
  it('of NATS (another stack) is told in one line naming --nats-port', async () => {
    const failed = await startFails(
      '--nats-port',
      String(ports.firstNats),
      '--metrics-port-base',
      String(await freePortBase()),
      '--data-dir',
      join(tmpdir(), 'membus-start-unused'),
    );
    expect(failed).toEqual({
      code: 1,
      stdout: '',
      stderr: `membus: port ${ports.firstNats} (NATS) is taken by a server that wants credentials (another stack?): choose another with --nats-port N, or set NATS_URL and NATS_CREDS to use it\n`,
    });
  });

  it('of NATS (anything else) is told in one line naming --nats-port', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolveListen) => blocker.listen(0, '127.0.0.1', resolveListen));
    const { port } = blocker.address() as { port: number };
    try {
      const failed = await startFails(
        '--nats-port',
        String(port),
        '--metrics-port-base',
        String(await freePortBase()),
      );
      expect(failed).toEqual({
        code: 1,
        stdout: '',
        stderr: `membus: port ${port} (NATS) is taken: choose another with --nats-port N (or MEMBUS_NATS_PORT)\n`,
      });
    } finally {
      await new Promise((resolveClose) => blocker.close(resolveClose));
    }
  });

  it('of the metrics is told in one line naming --metrics-port-base', async () => {
    const failed = await startFails(
      '--nats-port',
      String(await unusedPort()),
      '--metrics-port-base',
      String(ports.firstMetrics),
    );
    expect(failed).toEqual({
      code: 1,
      stdout: '',
      stderr: `membus: port ${ports.firstMetrics} (embedder metrics) is taken: choose another with --metrics-port-base N (or METRICS_PORT_BASE)\n`,
    });
  });
});

describe('a stack stopped with Ctrl-C', () => {
  it('drains, says where its data stays and exits 0', async () => {
    expect(await second.stop('SIGINT')).toBe(0);
    expect(second.output).toContain('stopping…');
    expect(second.output.at(-1)).toBe(`membus stopped; its data is kept in ${dirs.second}.`);
  });
});
