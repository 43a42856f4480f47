/**
 * Issue 21, the HTTP API: plain HTTP requests (fetch) against the gateway process on a real stack
 * (nats-server in JWT mode, the four services). Keys come from the tenancy directory's key store,
 * as `membus apikey create` writes it; the gateway acts as each tenant's own agent user.
 * One file on purpose (over 400 lines): every area shares the one stack and gateway it starts,
 * the slow part; a file per area would start it once each.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { unusedPort, waitFor } from '@membus/bus/testing';
import { gatewayName, repoRoot, type ServiceProcess, startService } from '@membus/cli';
import { type OtlpReceiver, startOtlpReceiver } from '@membus/telemetry/testing';
import { apiKeysFile, FileApiKeyStore } from '@membus/tenancy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

let receiver: OtlpReceiver;
let stack: TestStack;
let gateway: ServiceProcess;
let base: string;
let keys: FileApiKeyStore;
let acmeKey: string;
let globexKey: string;
const gatewayLogs: string[] = [];

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  // Spans within ~100 ms instead of the default 5 s batch delay.
  const tracing = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '100' };
  stack = await startTestStack(tracing, [
    'embedder',
    'vector-store',
    'pattern-extractor',
    'compactor',
  ]);
  await stack.credentials('acme');
  await stack.credentials('globex');
  keys = new FileApiKeyStore(apiKeysFile(stack.tenancy.dir));
  acmeKey = (await keys.create('acme', 'test')).key;
  globexKey = (await keys.create('globex')).key;
  const port = await unusedPort();
  gateway = await startService(gatewayName, {
    env: {
      NATS_URL: stack.nats.url,
      MEMBUS_DATA_DIR: stack.dataDir,
      MEMBUS_TENANCY_DIR: stack.tenancy.dir,
      GATEWAY_PORT: String(port),
      GATEWAY_BODY_LIMIT_BYTES: String(1024 * 1024),
      LOG_LEVEL: 'info',
      ...tracing,
    },
    onLog: (_, line) => gatewayLogs.push(line),
  });
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await gateway?.stop();
  await stack?.[Symbol.asyncDispose]();
  await receiver?.close();
});

interface Answer<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

/** One HTTP request, as curl would send it. */
async function http<T = Record<string, unknown>>(
  method: string,
  path: string,
  options: { key?: string | undefined; body?: unknown; raw?: string } = {},
): Promise<Answer<T>> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
      ...(options.body !== undefined || options.raw !== undefined
        ? { 'content-type': 'application/json' }
        : {}),
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    ...(options.raw !== undefined ? { body: options.raw } : {}),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: (text ? JSON.parse(text) : undefined) as T,
    headers: response.headers,
  };
}

const acme = <T = Record<string, unknown>>(method: string, path: string, body?: unknown) =>
  http<T>(method, path, { key: acmeKey, ...(body !== undefined ? { body } : {}) });

type Memory = { id: string; text: string; tags: string[]; namespace?: string };

describe('store and find', () => {
  it('stores with wait=queryable (201) and the search finds it', async () => {
    const stored = await acme('POST', '/v1/memories?wait=queryable', {
      text: 'Deployed checkout-api to Vercel production in 45 s',
      namespace: 'deployment',
      kind: 'outcome',
      metadata: { platform: 'vercel', success: true },
    });
    expect(stored.status).toBe(201);
    expect(stored.body).toMatchObject({ status: 'stored' });
    const found = await acme<{ hits: { memory: Memory; score: number }[] }>(
      'POST',
      '/v1/memories/search',
      { text: 'vercel production deploy', topK: 3, filter: { namespace: 'deployment' } },
    );
    expect(found.status).toBe(200);
    expect(found.body.hits.map((hit) => hit.memory.id)).toContain(stored.body.id);
    expect(found.body).not.toHaveProperty('v');
  });

  it('stores many (accepted: 202, then queryable: 201, in input order)', async () => {
    const accepted = await acme<{ results: { id: string }[] }>('POST', '/v1/memories/batch', {
      memories: [{ text: 'batch one' }, { text: 'batch two' }],
    });
    expect(accepted.status).toBe(202);
    expect(accepted.body.results).toHaveLength(2);
    const queryable = await acme<{ results: { id: string; status: string }[] }>(
      'POST',
      '/v1/memories/batch?wait=queryable',
      {
        memories: [
          { text: 'batch three', tags: ['b'] },
          { text: 'batch four', tags: ['b'] },
        ],
      },
    );
    expect(queryable.status).toBe(201);
    expect(queryable.body.results.map((result) => result.status)).toEqual(['stored', 'stored']);
    const listed = await acme<{ memories: Memory[] }>('GET', '/v1/memories?tag=b');
    expect(listed.body.memories.map((memory) => memory.text).sort()).toEqual([
      'batch four',
      'batch three',
    ]);
  });
});

describe('one memory through its life', () => {
  it('get, list with paging and filters, update, history, stats, delete', async () => {
    const created = await acme<{ id: string }>('POST', '/v1/memories?wait=queryable', {
      text: 'Alice prefers blue-green deploys',
      userId: 'alice',
      namespace: 'life',
      kind: 'preference',
    });
    const { id } = created.body;
    for (const text of ['life two', 'life three'])
      await acme('POST', '/v1/memories?wait=queryable', { text, namespace: 'life' });

    const got = await acme<Memory>('GET', `/v1/memories/${id}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id, text: 'Alice prefers blue-green deploys' });

    const first = await acme<{ memories: Memory[]; nextCursor?: string }>(
      'GET',
      '/v1/memories?namespace=life&limit=2',
    );
    expect(first.status).toBe(200);
    expect(first.body.memories).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await acme<{ memories: Memory[]; nextCursor?: string }>(
      'GET',
      `/v1/memories?namespace=life&limit=2&cursor=${encodeURIComponent(first.body.nextCursor as string)}`,
    );
    expect(second.body.memories).toHaveLength(1);
    expect(second.body.nextCursor).toBeUndefined();
    const byUser = await acme<{ memories: Memory[] }>('GET', '/v1/memories?userId=alice');
    expect(byUser.body.memories.map((memory) => memory.id)).toEqual([id]);

    const updated = await acme<{ memory: Memory }>('PATCH', `/v1/memories/${id}`, {
      text: 'Alice prefers canary deploys',
      tags: ['deploys'],
    });
    expect(updated.status).toBe(200);
    expect(updated.body.memory).toMatchObject({ id, text: 'Alice prefers canary deploys' });

    const history = await acme<{ entries: { event: string }[] }>(
      'GET',
      `/v1/memories/${id}/history`,
    );
    expect(history.status).toBe(200);
    expect(history.body.entries.map((entry) => entry.event)).toEqual(['ADD', 'UPDATE']);

    const stats = await acme<{ total: number; byNamespace: Record<string, number> }>(
      'POST',
      '/v1/stats',
      { filter: { namespace: 'life' } },
    );
    expect(stats.status).toBe(200);
    expect(stats.body.total).toBe(3);

    const deleted = await acme('DELETE', `/v1/memories/${id}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ deleted: 1, ids: [id] });
    expect((await acme('GET', `/v1/memories/${id}`)).status).toBe(404);
    expect((await acme('DELETE', `/v1/memories/${id}`)).status).toBe(404);

    const byFilter = await acme('POST', '/v1/memories/delete', { filter: { namespace: 'life' } });
    expect(byFilter.body).toMatchObject({ deleted: 2 });
    const all = await acme<{ total: number }>('GET', '/v1/stats');
    expect(all.status).toBe(200);
  });
});

describe('authentication', () => {
  const unauthenticated = {
    error: {
      code: 'UNAUTHENTICATED',
      message: expect.any(String),
      retryable: false,
    },
  };

  it('answers 401 with one body for a missing, malformed, unknown or revoked key', async () => {
    const { key: revoked, info } = await keys.create('acme');
    await keys.revoke(info.id);
    const unknown = `mbk_${'0'.repeat(16)}_${'A'.repeat(43)}`;
    const wrongSecret = `${acmeKey.slice(0, -1)}${acmeKey.endsWith('A') ? 'B' : 'A'}`;
    const answers = await Promise.all(
      [undefined, 'not-a-key', unknown, wrongSecret].map((key) =>
        http('GET', '/v1/stats', { key }),
      ),
    );
    // The revoked key: the gateway may have read the file before the revocation; within 1 s.
    answers.push(
      await waitFor(
        async () => {
          const answer = await http('GET', '/v1/stats', { key: revoked });
          return answer.status === 401 && answer;
        },
        { timeoutMs: 1_000, intervalMs: 50, what: 'the revoked key refused' },
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual([401, 401, 401, 401, 401]);
    const bodies = answers.map((answer) => answer.body);
    for (const body of bodies) expect(body).toEqual(unauthenticated);
    expect(new Set(bodies.map((body) => JSON.stringify(body))).size).toBe(1);
    expect(answers[0]?.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('sees a revocation within a second of it', async () => {
    const { key, info } = await keys.create('acme', 'soon-revoked');
    // A new key works as soon as the gateway re-reads the file (at most every 200 ms).
    await waitFor(async () => (await http('GET', '/v1/stats', { key })).status === 200, {
      timeoutMs: 1_000,
      intervalMs: 20,
      what: 'the new key accepted',
    });
    await keys.revoke(info.id);
    const revokedAt = performance.now();
    await waitFor(async () => (await http('GET', '/v1/stats', { key })).status === 401, {
      timeoutMs: 1_000,
      intervalMs: 20,
      what: 'the revoked key refused',
    });
    expect(performance.now() - revokedAt).toBeLessThan(1_000);
  });

  it('serves /openapi.json and /healthz without a key', async () => {
    expect((await http('GET', '/healthz')).body).toEqual({ status: 'ok', service: 'gateway' });
    const document = await http<{ openapi: string }>('GET', '/openapi.json');
    expect(document.status).toBe(200);
    expect(document.body.openapi).toBe('3.1.0');
  });
});

describe('tenancy', () => {
  it("answers 404 for another tenant's id, never its data, and leaves it as it was", async () => {
    const globex = await http<{ id: string }>('POST', '/v1/memories?wait=queryable', {
      key: globexKey,
      body: { text: 'globex secret roadmap', namespace: 'secret' },
    });
    expect(globex.status).toBe(201);
    const id = globex.body.id;
    const attempts = await Promise.all([
      acme('GET', `/v1/memories/${id}`),
      acme('PATCH', `/v1/memories/${id}`, { text: 'overwritten by acme' }),
      acme('DELETE', `/v1/memories/${id}`),
      acme('GET', `/v1/memories/${id}/history`),
    ]);
    expect(attempts.map((attempt) => attempt.status)).toEqual([404, 404, 404, 404]);
    for (const attempt of attempts) {
      expect(attempt.body).toMatchObject({ error: { code: 'NOT_FOUND' } });
      expect(JSON.stringify(attempt.body)).not.toContain('roadmap');
    }
    const search = await acme<{ hits: unknown[] }>('POST', '/v1/memories/search', {
      text: 'globex secret roadmap',
    });
    expect(JSON.stringify(search.body)).not.toContain('roadmap');
    const mine = await http<Memory>('GET', `/v1/memories/${id}`, { key: globexKey });
    expect(mine.status).toBe(200);
    expect(mine.body.text).toBe('globex secret roadmap');
  });
});

describe('errors', () => {
  it('answers 400 with the contract code and the offending field for an invalid body', async () => {
    const invalid = await acme('POST', '/v1/memories', { text: 'x', kind: 'not-a-kind' });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatchObject({
      error: { code: 'INVALID_MESSAGE', retryable: false, details: expect.anything() },
    });
    expect(JSON.stringify(invalid.body)).toContain('kind');
    const unknownField = await acme('POST', '/v1/memories/search', { text: 'x', bogus: 1 });
    expect(unknownField.status).toBe(400);
    const badId = await acme('GET', '/v1/memories/not-a-uuid');
    expect(badId.status).toBe(400);
    const malformed = await http('POST', '/v1/memories', { key: acmeKey, raw: '{"text": ' });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ error: { code: 'INVALID_MESSAGE' } });
    const poisoned = await http('POST', '/v1/memories', {
      key: acmeKey,
      raw: '{"text":"x","__proto__":{"admin":true}}',
    });
    expect(poisoned.status).toBe(400);
  });

  it('answers 413 for a text over the limit and for a body over the body limit', async () => {
    const long = await acme('POST', '/v1/memories', { text: 'a'.repeat(40_000) });
    expect(long.status).toBe(413);
    expect(long.body).toMatchObject({ error: { code: 'LIMIT_EXCEEDED' } });
    const huge = await acme('POST', '/v1/memories/batch', {
      memories: Array.from({ length: 40 }, () => ({ text: 'b'.repeat(30_000) })),
    });
    expect(huge.status).toBe(413);
    expect(huge.body).toMatchObject({ error: { code: 'LIMIT_EXCEEDED' } });
  });

  it('answers 404 NOT_FOUND for an unknown route', async () => {
    const missing = await acme('GET', '/v1/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });
});

describe('outcomes, patterns, sessions and lifecycle', () => {
  it('records outcomes, ranks the workflow, ends a session, audits and compacts', async () => {
    for (const success of [true, true, false]) {
      const recorded = await acme('POST', '/v1/outcomes', {
        taskType: 'deployment',
        steps: ['build', 'test', 'deploy'],
        success,
        durationMs: 45_000,
      });
      expect(recorded.status).toBe(202);
      expect(recorded.body).toEqual({ id: expect.any(String) });
    }
    const best = await waitFor(
      async () => {
        const answer = await acme<{ pattern: { stats: { executions: number } } | null }>(
          'GET',
          '/v1/patterns/best-workflow?taskType=deployment',
        );
        return answer.body.pattern?.stats.executions === 3 && answer;
      },
      { timeoutMs: 15_000, what: 'the three outcomes counted' },
    );
    expect(best.status).toBe(200);
    const patterns = await acme<{ patterns: unknown[] }>('POST', '/v1/patterns', {
      taskType: 'deployment',
    });
    expect(patterns.status).toBe(200);
    expect(patterns.body.patterns.length).toBeGreaterThan(0);
    const metrics = await acme('POST', '/v1/task-metrics', {});
    expect(metrics.status).toBe(200);

    await acme('POST', '/v1/memories?wait=queryable', {
      text: 'session note one',
      scope: 'session',
      sessionId: 's-1',
    });
    const ended = await acme('POST', '/v1/sessions/s-1/end');
    expect(ended.status).toBe(202);
    expect(ended.body).toEqual({ sessionId: 's-1' });

    const audit = await acme<{ total: number }>('POST', '/v1/audit', {});
    expect(audit.status).toBe(200);
    const compact = await acme('POST', '/v1/compact', { sweeps: ['expire'], dryRun: true });
    expect(compact.status).toBe(200);
  });
});

describe('observability', () => {
  it('continues the caller’s trace: a SERVER span, the client’s request, the vector-store', async () => {
    const traceId = 'a1'.repeat(16);
    const callerSpan = 'b2'.repeat(8);
    const response = await fetch(`${base}/v1/memories/search`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${acmeKey}`,
        'content-type': 'application/json',
        traceparent: `00-${traceId}-${callerSpan}-01`,
      },
      body: JSON.stringify({ text: 'traced search' }),
    });
    expect(response.status).toBe(200);
    const span = (service: string, name: string) =>
      waitFor(
        () =>
          receiver.spans.find(
            (candidate) =>
              candidate.service === service &&
              candidate.name === name &&
              candidate.traceId === traceId,
          ),
        { timeoutMs: 10_000, what: `${service} span "${name}"` },
      );
    const server = await span('gateway', 'POST /v1/memories/search');
    expect(server).toMatchObject({ kind: 2, parentSpanId: callerSpan });
    expect(server.attributes).toMatchObject({ 'http.route': '/v1/memories/search' });
    const processed = await span('vector-store', 'process memory.query');
    // The vector-store's span descends from the gateway's (through the client's request span,
    // which the gateway may export a moment later).
    const descends = () => {
      const chain = receiver.spans.filter((candidate) => candidate.traceId === traceId);
      const parentOf = (id: string) =>
        chain.find((candidate) => candidate.spanId === id)?.parentSpanId ?? '';
      for (let id = processed.parentSpanId; id; id = parentOf(id))
        if (id === server.spanId) return true;
      return false;
    };
    await waitFor(descends, { timeoutMs: 10_000, what: 'the vector-store span under the gateway' });
  });

  it('counts requests by route template and status on /metrics', async () => {
    const response = await fetch(`http://127.0.0.1:${gateway.metricsPort}/metrics`);
    const text = await response.text();
    expect(text).toMatch(
      /membus_http_requests_total\{[^}]*route="\/v1\/memories\/:id"[^}]*status="404"[^}]*\} \d+/,
    );
    expect(text).toMatch(/membus_gateway_tenant_connections\{[^}]*\} [12]/);
    expect(text).not.toMatch(/route="\/v1\/memories\/[0-9a-f]{8}-/);
  });
});

describe('membus apikey', () => {
  const membus = (...args: string[]) =>
    promisify(execFile)(
      process.execPath,
      [join(repoRoot, 'packages', 'cli', 'bin', 'membus.mjs'), ...args],
      { cwd: repoRoot },
    );

  it('creates a key that works, lists it without its secret, revokes it', async () => {
    const dir = stack.tenancy.dir;
    const created = await membus(
      'apikey',
      'create',
      '--tenant',
      'acme',
      '--name',
      'ci',
      '--dir',
      dir,
    );
    const key = created.stdout.trim();
    expect(key).toMatch(/^mbk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    await waitFor(async () => (await http('GET', '/v1/stats', { key })).status === 200, {
      timeoutMs: 1_000,
      intervalMs: 20,
      what: 'the new key accepted',
    });
    const keyId = key.split('_')[1] as string;
    const listed = await membus('apikey', 'list', '--dir', dir);
    expect(listed.stdout).toMatch(new RegExp(`^${keyId}  acme  ci  created `, 'm'));
    expect(listed.stdout).not.toContain(key.slice(21));
    await membus('apikey', 'revoke', keyId, '--dir', dir);
    await waitFor(async () => (await http('GET', '/v1/stats', { key })).status === 401, {
      timeoutMs: 1_000,
      intervalMs: 20,
      what: 'the revoked key refused',
    });
  });
});

describe('services/gateway/README.md', () => {
  it('its curl commands store a memory and find it, as written', async () => {
    const readme = readFileSync(join(repoRoot, 'services', 'gateway', 'README.md'), 'utf8');
    const block =
      /## A key, a memory, a search[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const commands = block
      .replace(/\\\n\s*/g, ' ')
      .split('\n')
      .filter((line) => line.startsWith('curl '))
      .map((line) => line.replaceAll('http://127.0.0.1:8080', base));
    expect(commands).toHaveLength(2);
    // A tenant of its own, as a new user's stack would be: nothing else to find.
    await stack.credentials('walkthrough');
    const key = (await keys.create('walkthrough')).key;
    await waitFor(async () => (await http('GET', '/v1/stats', { key })).status === 200, {
      timeoutMs: 1_000,
      intervalMs: 20,
      what: 'the new key accepted',
    });
    const outputs: string[] = [];
    for (const command of commands) {
      const { stdout } = await promisify(execFile)('bash', ['-c', command], {
        env: { ...process.env, KEY: key },
      });
      outputs.push(stdout);
    }
    const stored = JSON.parse(outputs[0] as string) as { id: string; status: string };
    expect(stored.status).toBe('stored');
    const found = JSON.parse(outputs[1] as string) as { hits: { memory: Memory }[] };
    expect(found.hits[0]?.memory).toMatchObject({
      id: stored.id,
      text: 'Deployed test-app to Vercel production in 45.3 s',
    });
  });
});
