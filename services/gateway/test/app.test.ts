/**
 * The gateway's HTTP edge without NATS (Fastify's `inject`): the error mapping, the 401 answer,
 * body limits, metrics labels; and the per-tenant connections (opened once, closed when idle).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@membus/bus/testing';
import type { ConnectOptions, MemoryClient } from '@membus/client';
import { MembusError } from '@membus/contracts';
import { createMetricsRegistry } from '@membus/telemetry';
import { apiKeysFile, FileApiKeyStore } from '@membus/tenancy';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildGateway,
  createGatewayMetrics,
  TenantClients,
  tenantCredentialsFrom,
} from '../src/index.ts';

let dir: string;
let key: string;
let app: FastifyInstance;
let failure: unknown;
const registry = createMetricsRegistry('gateway');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'membus-gateway-'));
  const keys = new FileApiKeyStore(apiKeysFile(dir));
  key = (await keys.create('acme')).key;
  app = await buildGateway({
    keys,
    // Every request fails the way the test says: what is under test is the answer.
    clients: {
      use: async () => {
        throw failure;
      },
    },
    metrics: createGatewayMetrics(registry),
    bodyLimitBytes: 4096,
    timeouts: { requestMs: 100, queryableMs: 100, lifecycleMs: 100 },
  });
});

afterAll(async () => {
  await app?.close();
  await rm(dir, { recursive: true, force: true });
});

const search = (headers: Record<string, string> = {}, payload: string = '{"text":"x"}') =>
  app.inject({
    method: 'POST',
    url: '/v1/memories/search',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    payload,
  });

describe('errors', () => {
  it.each([
    ['UNAVAILABLE', 503],
    ['BACKEND_FAILED', 503],
    ['EMBEDDING_FAILED', 503],
    ['TIMEOUT', 504],
    ['CONFLICT', 409],
    ['NOT_FOUND', 404],
    ['LIMIT_EXCEEDED', 413],
    ['INVALID_MESSAGE', 400],
    ['DIMENSION_MISMATCH', 400],
  ] as const)('%s is HTTP %i with the contract body', async (code, status) => {
    failure = new MembusError(code, `failed with ${code}`);
    const response = await search();
    expect(response.statusCode).toBe(status);
    expect(response.json()).toEqual({
      error: {
        code,
        message: `failed with ${code}`,
        retryable: (failure as MembusError).retryable,
      },
    });
    expect(response.headers['retry-after']).toBe(status === 503 ? '1' : undefined);
  });

  it('an unexpected failure is INTERNAL 500, its message not shown', async () => {
    failure = new Error('secret stack detail');
    const response = await search();
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({
      error: { code: 'INTERNAL', message: 'internal error', retryable: false },
    });
  });

  it('a body over the limit is 413 LIMIT_EXCEEDED', async () => {
    const response = await search({}, JSON.stringify({ text: 'x'.repeat(5000) }));
    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({ error: { code: 'LIMIT_EXCEEDED', retryable: false } });
  });

  it('a body that is not JSON is refused with INVALID_MESSAGE', async () => {
    const response = await search({ 'content-type': 'text/plain' }, 'hello');
    expect(response.statusCode).toBe(415);
    expect(response.json()).toMatchObject({ error: { code: 'INVALID_MESSAGE' } });
  });
});

describe('authentication', () => {
  it('answers 401 before any tenant is touched, one body for every bad key', async () => {
    failure = new Error('must not be reached');
    const answers = await Promise.all(
      [
        {},
        { authorization: 'Bearer nope' },
        { authorization: 'Basic abc' },
        { 'x-api-key': 'x' },
      ].map((headers) =>
        app.inject({ method: 'GET', url: '/v1/stats', headers: headers as Record<string, string> }),
      ),
    );
    expect(answers.map((answer) => answer.statusCode)).toEqual([401, 401, 401, 401]);
    expect(new Set(answers.map((answer) => answer.body)).size).toBe(1);
  });

  it('takes the key from X-Api-Key too', async () => {
    failure = new MembusError('UNAVAILABLE', 'reached the tenant');
    const response = await app.inject({
      method: 'GET',
      url: '/v1/stats',
      headers: { 'x-api-key': key },
    });
    expect(response.statusCode).toBe(503);
  });
});

describe('metrics', () => {
  it('label requests by route template, never by id', async () => {
    failure = new MembusError('NOT_FOUND', 'no such memory');
    await app.inject({
      method: 'GET',
      url: '/v1/memories/0193e7a4-6b2c-7d1e-8f00-0123456789ab',
      headers: { authorization: `Bearer ${key}` },
    });
    const text = await registry.metrics();
    expect(text).toContain(
      'membus_http_requests_total{route="/v1/memories/:id",method="GET",status="404",code="NOT_FOUND",service="gateway"} 1',
    );
    expect(text).not.toContain('0193e7a4');
  });
});

describe('TenantClients', () => {
  const fakeClient = (tenant: string, closed: string[]) =>
    ({ tenant, close: async () => void closed.push(tenant) }) as unknown as MemoryClient;

  it('connects once per tenant as its own agent, and closes idle connections', async () => {
    const connects: ConnectOptions[] = [];
    const closed: string[] = [];
    const clients = new TenantClients({
      servers: 'nats://127.0.0.1:1',
      credentials: async (tenant) => ({ credsFile: `/creds/${tenant}.creds` }),
      idleMs: 100,
      timeoutMs: 1_000,
      connect: async (options) => {
        connects.push(options);
        return fakeClient(options.tenant as string, closed);
      },
    });
    const tenants = await Promise.all(
      ['acme', 'acme', 'globex', 'acme'].map((tenant) =>
        clients.use(tenant, async (client) => client.tenant),
      ),
    );
    expect(tenants).toEqual(['acme', 'acme', 'globex', 'acme']);
    expect(connects.map((options) => [options.tenant, options.credsFile])).toEqual([
      ['acme', '/creds/acme.creds'],
      ['globex', '/creds/globex.creds'],
    ]);
    await waitFor(() => clients.size === 0, { timeoutMs: 2_000, what: 'idle connections closed' });
    expect(closed.sort()).toEqual(['acme', 'globex']);
    await clients.close();
  });

  it('forgets a failed connect, so the next request tries again', async () => {
    let attempts = 0;
    const clients = new TenantClients({
      servers: 'nats://127.0.0.1:1',
      credentials: async () => ({ user: 'agent-acme', pass: 'x' }),
      idleMs: 60_000,
      timeoutMs: 1_000,
      connect: async (options) => {
        attempts += 1;
        if (attempts === 1) throw new MembusError('UNAVAILABLE', 'nats is down');
        return fakeClient(options.tenant as string, []);
      },
    });
    await expect(clients.use('acme', async () => 'used')).rejects.toThrow('nats is down');
    await expect(clients.use('acme', async () => 'used')).resolves.toBe('used');
    expect(attempts).toBe(2);
    await clients.close();
  });
});

describe('tenantCredentialsFrom', () => {
  it("uses the tenant's .creds file, else its agent password from the environment, else refuses", async () => {
    await writeFile(join(dir, 'acme.creds'), 'creds');
    const credentials = tenantCredentialsFrom(dir, { MEMBUS_AGENT_GLOBEX_PASSWORD: 'secret' });
    expect(await credentials('acme')).toEqual({ credsFile: join(dir, 'acme.creds') });
    expect(await credentials('globex')).toEqual({ user: 'agent-globex', pass: 'secret' });
    await expect(credentials('initech')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
