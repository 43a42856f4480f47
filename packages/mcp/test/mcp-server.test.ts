/**
 * The MCP server against the real stack, driven by the MCP SDK's own Client: over stdio (the
 * `membus-mcp` bin spawned as an MCP client would, with the tenant's creds) and over streamable
 * HTTP. The same cases run on both; each transport writes its own namespace and task type.
 * One file on purpose (over 400 lines): both transports share the one stack it starts.
 */

import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@membus/bus/testing';
import { connect, type MemoryClient } from '@membus/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../../../test/helpers/stack.ts';
import { type HttpMcpServer, startHttpServer } from '../src/index.ts';
import { toolNames } from './tool-names.ts';

const BIN = fileURLToPath(new URL('../bin/membus-mcp.mjs', import.meta.url));
const GLOBEX_TEXT = 'Globex launch plan: the zebra rollout starts on Tuesday';

let stack: TestStack;
let acme: MemoryClient;
let globex: MemoryClient;
let globexMemoryId: string;
let http: HttpMcpServer;
const clients: Client[] = [];

/** A connected SDK client over `transport`. */
async function mcpClient(
  transport: StdioClientTransport | StreamableHTTPClientTransport,
): Promise<Client> {
  const client = new Client({ name: 'membus-mcp-test', version: '1.0.0' });
  await client.connect(transport);
  clients.push(client);
  return client;
}

const transports: Record<'stdio' | 'http', () => Promise<Client>> = {
  async stdio() {
    const credentials = await stack.credentials('acme');
    if (!('credsFile' in credentials)) throw new Error('the test stack runs in JWT mode');
    const environment = Object.fromEntries(
      Object.entries(process.env).filter(
        (entry): entry is [string, string] =>
          entry[1] !== undefined && !entry[0].startsWith('NATS_'),
      ),
    );
    return mcpClient(
      new StdioClientTransport({
        command: process.execPath,
        args: [
          BIN,
          '--transport',
          'stdio',
          '--tenant',
          'acme',
          '--servers',
          stack.nats.url,
          '--creds',
          credentials.credsFile,
        ],
        env: environment,
        stderr: 'pipe',
      }),
    );
  },
  async http() {
    return mcpClient(new StreamableHTTPClientTransport(new URL(http.url)));
  },
};

beforeAll(async () => {
  stack = await startTestStack({}, ['embedder', 'vector-store', 'pattern-extractor']);
  acme = await connect({
    servers: stack.nats.url,
    tenant: 'acme',
    name: 'mcp-test-acme',
    ...(await stack.credentials('acme')),
  });
  globex = await stack.client('globex');
  const stored = await globex.store(
    { text: GLOBEX_TEXT, namespace: 'plans', metadata: { secret: true } },
    { wait: 'queryable' },
  );
  globexMemoryId = stored.id;
  http = await startHttpServer(acme, { port: 0 });
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close().catch(() => {})));
  await http?.close();
  await acme?.close();
  await stack?.[Symbol.asyncDispose]();
});

/** The text of a tool result (every result here has one text part). */
function textOf(result: CallToolResult): string {
  const [part] = result.content;
  return part?.type === 'text' ? part.text : '';
}

async function call(
  client: Client,
  name: string,
  args: Record<string, unknown>,
): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

describe.each(Object.keys(transports) as (keyof typeof transports)[])('MCP over %s', (kind) => {
  const namespace = `mcp-${kind}`;
  const taskType = `release-${kind}`;
  let client: Client;

  beforeAll(async () => {
    client = await transports[kind]();
  });

  it('lists the tools', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(toolNames);
  });

  it('saves a memory that search_memory then finds, and stats count', async () => {
    const saved = await call(client, 'save_to_memory', {
      text: `Alice prefers Vercel for production deploys (${kind})`,
      userId: 'alice',
      kind: 'preference',
      namespace,
    });
    expect(saved.isError).toBeUndefined();
    expect(saved.structuredContent).toMatchObject({ status: 'stored' });
    const id = (saved.structuredContent as { id: string }).id;

    const found = await call(client, 'search_memory', {
      text: 'where does alice deploy to production',
      filter: { namespace },
    });
    const hits = (found.structuredContent as { hits: { memory: { id: string } }[] }).hits;
    expect(hits.map((hit) => hit.memory.id)).toEqual([id]);
    expect(textOf(found)).toContain('Alice prefers Vercel');

    const stats = await call(client, 'get_memory_stats', { filter: { namespace } });
    expect(stats.structuredContent).toMatchObject({ total: 1, byKind: { preference: 1 } });
    expect(textOf(stats)).toContain('1 memories.');
  });

  it('lists, shows the history of and deletes a memory', async () => {
    const listNamespace = `${namespace}-list`;
    const ids: string[] = [];
    for (const text of ['First note about the cache', 'Second note about the queue']) {
      const saved = await call(client, 'save_to_memory', { text, namespace: listNamespace });
      ids.push((saved.structuredContent as { id: string }).id);
    }
    const listed = await call(client, 'list_memories', { filter: { namespace: listNamespace } });
    const memories = (listed.structuredContent as { memories: { id: string }[] }).memories;
    expect(memories.map((memory) => memory.id).sort()).toEqual([...ids].sort());

    const [first, second] = ids as [string, string];
    const deleted = await call(client, 'delete_memory', { ids: [first] });
    expect(deleted.structuredContent).toEqual({ deleted: [first], notDeleted: [] });

    const history = await call(client, 'memory_history', { id: first });
    const entries = (history.structuredContent as { entries: { event: string }[] }).entries;
    expect(entries.map((entry) => entry.event)).toEqual(['ADD', 'DELETE']);
    expect(textOf(history)).toContain('DELETE');

    const after = await call(client, 'list_memories', { filter: { namespace: listNamespace } });
    expect(
      (after.structuredContent as { memories: { id: string }[] }).memories.map(
        (memory) => memory.id,
      ),
    ).toEqual([second]);
  });

  it('records outcomes that best_workflow learns from', async () => {
    const steps = ['Build', 'Run tests', 'Deploy'];
    for (const success of [true, true, false]) {
      const recorded = await call(client, 'record_outcome', {
        taskType,
        namespace,
        success,
        steps,
        durationMs: 30_000,
        ...(success ? {} : { error: 'Deploy failed: connection reset by host 10.0.0.7' }),
      });
      expect(recorded.isError).toBeUndefined();
    }
    const best = await waitFor(
      async () => {
        const result = await call(client, 'best_workflow', { taskType, variantKinds: ['steps'] });
        const reply = result.structuredContent as { best: { support: number } | null };
        return reply.best?.support === 3 ? result : undefined;
      },
      { timeoutMs: 30_000, what: 'three outcomes in the best workflow' },
    );
    expect(best.structuredContent).toMatchObject({
      taskType,
      best: { signature: 'build → run tests → deploy', successes: 2, support: 3 },
    });
    expect(textOf(best)).toContain(`Best workflow for task type ${taskType}`);
    expect(textOf(best)).toContain('Avoid:');
  });

  it('answers an invalid argument with an isError result naming the code', async () => {
    const wrongType = await call(client, 'save_to_memory', { text: 42 });
    expect(wrongType.isError).toBe(true);
    expect(wrongType.structuredContent).toMatchObject({
      error: { code: 'INVALID_MESSAGE', retryable: false },
    });
    expect(textOf(wrongType)).toMatch(/^INVALID_MESSAGE: .*not retryable/);

    // A rule of the contract beyond the field types: a user-scoped memory needs its user.
    const noOwner = await call(client, 'save_to_memory', { text: 'a preference', scope: 'user' });
    expect(noOwner.structuredContent).toMatchObject({ error: { code: 'INVALID_MESSAGE' } });

    const unknown = await call(client, 'search_memory', { text: 'x', tenant: 'globex' });
    expect(unknown.structuredContent).toMatchObject({ error: { code: 'INVALID_MESSAGE' } });
  });

  it("never returns globex's memories to a server bound to acme", async () => {
    // acme has a plan of its own, worded like globex's.
    await call(client, 'save_to_memory', {
      text: `Acme launch plan: the rollout starts on Monday (${kind})`,
      namespace,
    });
    const search = await call(client, 'search_memory', { text: GLOBEX_TEXT, topK: 50 });
    const hits = (search.structuredContent as { hits: { memory: { tenant: string } }[] }).hits;
    expect(hits.filter((hit) => hit.memory.tenant !== 'acme')).toEqual([]);
    expect(textOf(search)).not.toContain('zebra');

    const listed = await call(client, 'list_memories', { limit: 200 });
    const memories = (listed.structuredContent as { memories: { tenant: string }[] }).memories;
    expect(memories.length).toBeGreaterThan(0);
    expect(memories.filter((memory) => memory.tenant !== 'acme')).toEqual([]);

    const stats = await call(client, 'get_memory_stats', { filter: { namespace: 'plans' } });
    expect(stats.structuredContent).toMatchObject({ total: 0 });

    const history = await call(client, 'memory_history', { id: globexMemoryId });
    // As for an id nobody has: NOT_FOUND, nothing of globex's.
    expect(history.isError).toBe(true);
    expect(history.structuredContent).toEqual({
      error: {
        code: 'NOT_FOUND',
        message: `no history for ${globexMemoryId}`,
        retryable: false,
        details: { id: globexMemoryId },
      },
    });

    const deleted = await call(client, 'delete_memory', { ids: [globexMemoryId] });
    expect(deleted.structuredContent).toEqual({ deleted: [], notDeleted: [globexMemoryId] });
    expect((await globex.get(globexMemoryId))?.text).toBe(GLOBEX_TEXT);
  });
});

describe('MCP over HTTP off loopback', () => {
  const token = randomUUID();
  let open: HttpMcpServer;

  beforeAll(async () => {
    open = await startHttpServer(acme, { host: '0.0.0.0', port: 0, token });
  });

  afterAll(async () => {
    await open?.close();
  });

  const local = () => `http://127.0.0.1:${open.port}/mcp`;
  const initialize = {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'curl', version: '1' },
    },
  };
  const post = (headers: Record<string, string>) =>
    fetch(local(), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...headers,
      },
      body: JSON.stringify(initialize),
    });

  it('will not start without a token', async () => {
    await expect(startHttpServer(acme, { host: '0.0.0.0', port: 0 })).rejects.toThrow(
      /needs a bearer token/,
    );
  });

  it('answers 401 without the token, or with a wrong one', async () => {
    const missing = await post({});
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await post({ authorization: `Bearer ${randomUUID()}` })).status).toBe(401);
  });

  it('serves the tools with the token', async () => {
    const client = await mcpClient(
      new StreamableHTTPClientTransport(new URL(local()), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    const { tools } = await client.listTools();
    expect(tools).toHaveLength(8);
  });
});

describe('MCP over HTTP on loopback', () => {
  /** The status of a POST to the loopback server with these headers (node:http sets Host as given). */
  const status = (headers: Record<string, string>) =>
    new Promise<number>((resolve, reject) => {
      const outgoing = request(
        http.url,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            ...headers,
          },
        },
        (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        },
      );
      outgoing.on('error', reject);
      outgoing.end('{}');
    });

  it('answers a plain JSON-RPC POST, as curl sends it (README)', async () => {
    const response = await fetch(http.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'get_memory_stats', arguments: { filter: { namespace: 'none-yet' } } },
      }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      jsonrpc: '2.0',
      id: 1,
      result: { structuredContent: { total: 0 } },
    });
  });

  it('refuses a Host or Origin that is not loopback (DNS rebinding)', async () => {
    expect(await status({ host: 'attacker.example' })).toBe(403);
    expect(await status({ origin: 'http://attacker.example' })).toBe(403);
  });
});

describe('the membus-mcp bin over HTTP', () => {
  it('serves the tenant at the URL it prints, and stops on SIGTERM', async () => {
    const credentials = await stack.credentials('acme');
    if (!('credsFile' in credentials)) throw new Error('the test stack runs in JWT mode');
    const child = spawn(
      process.execPath,
      [BIN, '--transport', 'http', '--port', '0', '--tenant', 'acme', '--servers', stack.nats.url],
      {
        env: { ...process.env, NATS_CREDS: credentials.credsFile },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    try {
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const url = await waitFor(() => /at (http:\/\/\S+\/mcp)/.exec(stderr)?.[1], {
        timeoutMs: 20_000,
        what: 'the server URL on stderr',
      });
      const client = await mcpClient(new StreamableHTTPClientTransport(new URL(url)));
      const stats = await call(client, 'get_memory_stats', {});
      expect(stats.isError).toBeUndefined();
      await client.close();
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      expect(await exited).toEqual([0, null]);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
