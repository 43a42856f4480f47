import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { deferred, startNatsServer } from '@membus/bus/testing';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..', '..');
const probe = join(import.meta.dirname, 'support', 'probe-service.ts');

interface Probe {
  child: ChildProcess;
  /** JSON log lines so far. */
  lines(): Record<string, unknown>[];
  exited: Promise<number | null>;
}

function startProbe(environment: Record<string, string>): Probe {
  const child = fork(probe, [], {
    cwd: root,
    execArgv: ['--import', 'tsx'],
    env: { PATH: process.env.PATH ?? '', ...environment },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    exited,
    lines: () =>
      stderr
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('defineService', () => {
  it('stops with one line naming the option and its env variable on a bad config', async () => {
    const service = startProbe({ METRICS_PORT: 'abc' });
    expect(await service.exited).toBe(1);
    const lines = service.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'error', service: 'probe' });
    expect(lines[0]?.msg).toContain('metricsPort (env METRICS_PORT="abc")');
  });

  it('announces ready, is ready while consuming, and drains in order on SIGTERM', async () => {
    await using nats = await startNatsServer();
    const service = startProbe({
      NATS_URL: nats.url,
      METRICS_PORT: '0',
      METRICS_HOST: '127.0.0.1',
    });
    const ready = deferred<number>();
    service.child.on('message', (message: { type?: string; metricsPort?: number }) => {
      if (message.type === 'membus-ready' && message.metricsPort)
        ready.resolve(message.metricsPort);
    });
    void service.exited.then((code) => ready.reject(new Error(`probe exited with ${code}`)));
    const port = await ready.promise;

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
