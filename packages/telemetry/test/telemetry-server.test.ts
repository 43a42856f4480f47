import { Counter } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createMetricsRegistry,
  type ReadinessReport,
  startTelemetryServer,
  type TelemetryServer,
} from '../src/index.ts';

const servers: TelemetryServer[] = [];

async function start(readiness?: () => ReadinessReport): Promise<TelemetryServer> {
  const registry = createMetricsRegistry('test-service');
  const counter = new Counter({
    name: 'membus_test_things_total',
    help: 'Things counted by the test',
    registers: [registry],
  });
  counter.inc(3);
  const server = await startTelemetryServer({
    service: 'test-service',
    port: 0,
    host: '127.0.0.1',
    registry,
    ...(readiness ? { readiness } : {}),
  });
  servers.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

describe('startTelemetryServer', () => {
  it('binds a random port when given port 0', async () => {
    const server = await start();
    expect(server.port).toBeGreaterThan(0);
  });

  it('serves /metrics in the Prometheus text format', async () => {
    const server = await start();
    const response = await fetch(`${server.url}/metrics`);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('exports the prefixed process default metrics with the service label', async () => {
    const server = await start();
    const body = await (await fetch(`${server.url}/metrics`)).text();
    expect(body).toMatch(/^membus_process_cpu_user_seconds_total\{service="test-service"\} /m);
  });

  it('exports a custom counter registered in the registry', async () => {
    const server = await start();
    const body = await (await fetch(`${server.url}/metrics`)).text();
    expect(body).toContain('membus_test_things_total{service="test-service"} 3');
  });

  it('answers /healthz with 200 and status ok', async () => {
    const server = await start();
    const response = await fetch(`${server.url}/healthz`);
    expect({ status: response.status, body: await response.json() }).toEqual({
      status: 200,
      body: { status: 'ok', service: 'test-service' },
    });
  });

  it('answers /readyz with 503 naming the failing check', async () => {
    const server = await start(() => ({
      checks: { nats: { ok: true }, store: { ok: false, detail: 'connection refused' } },
    }));
    const response = await fetch(`${server.url}/readyz`);
    expect({ status: response.status, body: await response.json() }).toEqual({
      status: 503,
      body: {
        ready: false,
        checks: { nats: { ok: true }, store: { ok: false, detail: 'connection refused' } },
      },
    });
  });

  it('answers /readyz with 200 once the failing check passes', async () => {
    let storeUp = false;
    const server = await start(() => ({ checks: { store: { ok: storeUp } } }));
    const before = await fetch(`${server.url}/readyz`);
    await before.arrayBuffer();
    storeUp = true;
    const after = await fetch(`${server.url}/readyz`);
    expect([before.status, after.status, await after.json()]).toEqual([
      503,
      200,
      { ready: true, checks: { store: { ok: true } } },
    ]);
  });

  it('answers /readyz with 503 when the report says not ready', async () => {
    const server = await start(() => ({ ready: false, checks: { nats: { ok: true } } }));
    const response = await fetch(`${server.url}/readyz`);
    expect(response.status).toBe(503);
  });

  it('answers /readyz with 503 and a readiness check when the readiness callback throws', async () => {
    const server = await start(() => {
      throw new Error('probe exploded');
    });
    const response = await fetch(`${server.url}/readyz`);
    expect({ status: response.status, body: await response.json() }).toEqual({
      status: 503,
      body: { ready: false, checks: { readiness: { ok: false, detail: 'probe exploded' } } },
    });
  });

  it('answers /readyz with 200 when no readiness callback is given', async () => {
    const server = await start();
    const response = await fetch(`${server.url}/readyz`);
    expect(response.status).toBe(200);
  });

  it('answers an unknown path with 404', async () => {
    const server = await start();
    const response = await fetch(`${server.url}/nope`);
    expect(response.status).toBe(404);
  });

  it('answers a non-GET request on a known path with 405', async () => {
    const server = await start();
    const response = await fetch(`${server.url}/metrics`, { method: 'POST' });
    expect(response.status).toBe(405);
  });

  it('stops accepting connections after close', async () => {
    const server = await start();
    await server.close();
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });

  it('closes through await using', async () => {
    const registry = createMetricsRegistry('disposable');
    let url = '';
    {
      await using server = await startTelemetryServer({
        service: 'disposable',
        port: 0,
        host: '127.0.0.1',
        registry,
      });
      url = server.url;
    }
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});
