import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { deferred, type NatsServer, startNatsServer } from '@membus/bus/testing';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..', '..');
const probe = join(import.meta.dirname, 'support', 'probe-service.ts');

interface Probe {
  child: ChildProcess;
  /** JSON log lines so far. */
  lines(): Record<string, unknown>[];
  exited: Promise<number | null>;
  /** Its metrics port once it announces ready; rejects if it exits first. */
  ready: Promise<number>;
}

/**
 * The probe service, its metrics on a port of its own choosing on loopback; connected to
 * `nats` when given.
 */
function startProbe(nats: NatsServer | undefined, environment: Record<string, string> = {}): Probe {
  const child = fork(probe, [], {
    cwd: root,
    execArgv: ['--import', 'tsx'],
    env: {
      PATH: process.env.PATH ?? '',
      METRICS_PORT: '0',
      METRICS_HOST: '127.0.0.1',
      ...(nats ? { NATS_URL: nats.url } : {}),
      ...environment,
    },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const ready = deferred<number>();
  child.on('message', (message: { type?: string; metricsPort?: number }) => {
    if (message.type === 'membus-ready' && message.metricsPort) ready.resolve(message.metricsPort);
  });
  void exited.then((code) => ready.reject(new Error(`probe exited with ${code}`)));
  ready.promise.catch(() => {});
  return {
    child,
    exited,
    ready: ready.promise,
    lines: () =>
      stderr
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('defineService', () => {
  it('stops with one line naming the option and its env variable on a bad config', async () => {
    const service = startProbe(undefined, { METRICS_PORT: 'abc' });
    expect(await service.exited).toBe(1);
    const lines = service.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'error', service: 'probe' });
    expect(lines[0]?.msg).toContain('metricsPort (env METRICS_PORT="abc")');
  });

  it('tries a start step again when its NATS request got no answer, and starts', async () => {
    await using nats = await startNatsServer();
    const service = startProbe(nats, { PROBE_UNANSWERED: '2' });
    await service.ready;
    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(0);
    const lines = service.lines();
    expect(
      lines.filter((line) => String(line.msg).includes('got no answer; trying again')),
    ).toHaveLength(2);
    expect(lines.find((line) => line.msg === 'probe bucket opened')).toMatchObject({ tries: 3 });
  });

  // Every line is JSON, the last one says why: an unhandled rejection would print a stack after it.
  it.each([
    [
      'a start step never gets an answer',
      { PROBE_UNANSWERED: '99' },
      /^cannot open the probe bucket; stopping: /,
    ],
    [
      'its start fails (not an unhandled rejection)',
      { PROBE_START_FAILS: '1' },
      /^cannot start; stopping: the probe cannot start$/,
    ],
  ])('stops with one line when %s', async (_when, environment, why) => {
    await using nats = await startNatsServer();
    const service = startProbe(nats, environment);
    expect(await service.exited).toBe(1);
    const last = service.lines().at(-1);
    expect(last).toMatchObject({ level: 'error', service: 'probe' });
    expect(last?.msg).toMatch(why);
  });

  it('announces ready, is ready while consuming, and drains in order on SIGTERM', async () => {
    await using nats = await startNatsServer();
    const service = startProbe(nats);
    const port = await service.ready;

    const readiness = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(readiness.status).toBe(200);
    expect(await readiness.json()).toMatchObject({
      checks: { nats: { ok: true }, consumer: { ok: true } },
    });

    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(0);
    expect(service.lines().map((line) => line.msg)).toEqual([
      'probe ready',
      'SIGTERM: draining',
      'intake stopped',
      'flushed',
      'closed',
    ]);
    expect(service.lines()[0]).toMatchObject({ nats: nats.url, probe: true });
  });
});
