/**
 * Webhooks (issue 23, decision 008) against the real stack and a real HTTP receiver: an operator
 * adds a tenant's endpoint, the tenant's changes arrive signed (Standard Webhooks), a failing
 * receiver is retried and then dead-lettered to memory.dlq.<tenant> with the reason, and no
 * other tenant's event reaches the endpoint.
 */
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connectBus, type NatsConnection, request } from '@membus/bus';
import { waitFor } from '@membus/bus/testing';
import { repoRoot } from '@membus/cli';
import type { MemoryClient } from '@membus/client';
import {
  DeadLetterSchema,
  Headers,
  MembusError,
  WebhookPayloadSchema,
  WebhooksReplySchema,
  type WebhooksRequestInput,
} from '@membus/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A receiver on a random local port answering `status()` to every POST it records. */
async function receiver(status: () => number) {
  const received: Received[] = [];
  const server: Server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      received.push({ headers: incoming.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(status()).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * What a receiver does (Standard Webhooks, written here from the spec rather than imported):
 * HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>" under the base64 secret after
 * `whsec_`, compared with each `v1,<base64>` of webhook-signature; the timestamp within 5 min.
 */
function verifyWebhook(
  secret: string,
  headers: { id: string; timestamp: string; signature: string },
  body: string,
): boolean {
  if (Math.abs(Date.now() / 1000 - Number(headers.timestamp)) > 300) return false;
  const expected = createHmac('sha256', Buffer.from(secret.replace(/^whsec_/, ''), 'base64'))
    .update(`${headers.id}.${headers.timestamp}.${body}`)
    .digest('base64');
  return headers.signature.split(' ').some((entry) => entry === `v1,${expected}`);
}

let stack: TestStack;
let admin: NatsConnection;
let acme: MemoryClient;
let globex: MemoryClient;
let ok: Awaited<ReturnType<typeof receiver>>;
let failing: Awaited<ReturnType<typeof receiver>>;

const webhooks = (tenant: string, body: WebhooksRequestInput) =>
  request(admin, `memory.webhooks.${tenant}`, body, WebhooksReplySchema, { timeoutMs: 10_000 });

beforeAll(async () => {
  stack = await startTestStack(
    {
      // The receivers listen on loopback: the operator flag that allows private addresses.
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_ATTEMPTS: '3',
      WEBHOOK_BACKOFF_MS: '20',
      WEBHOOK_BACKOFF_MAX_MS: '200',
    },
    ['embedder', 'vector-store', 'webhooks'],
  );
  admin = await connectBus({ servers: stack.nats.url, name: 'webhooks-test', ...stack.admin });
  acme = await stack.client('acme');
  globex = await stack.client('globex');
  ok = await receiver(() => 204);
  failing = await receiver(() => 503);
}, 90_000);

afterAll(async () => {
  await admin?.close();
  await ok?.close();
  await failing?.close();
  await stack?.[Symbol.asyncDispose]();
});

const payloadOf = (entry: Received) => WebhookPayloadSchema.parse(JSON.parse(entry.body));

describe('webhooks', () => {
  let secret: string;
  let endpointId: string;

  it('adds, lists and refuses an invalid endpoint (operators over memory.webhooks)', async () => {
    const added = await webhooks('acme', { v: 1, action: 'add', url: ok.url });
    expect(added.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    secret = added.secret as string;
    endpointId = added.id as string;
    const listed = await webhooks('acme', { v: 1, action: 'list' });
    expect(listed.endpoints.map((endpoint) => [endpoint.id, endpoint.url])).toEqual([
      [endpointId, ok.url],
    ]);
    expect(JSON.stringify(listed)).not.toContain(secret);
    const invalid = await webhooks('acme', {
      v: 1,
      action: 'add',
      url: 'ftp://example.com/hook',
    }).catch((caught: unknown) => caught);
    expect(MembusError.is(invalid) ? invalid.code : invalid).toBe('INVALID_MESSAGE');
  });

  it("POSTs the tenant's changes, signed, and nothing of another tenant's", async () => {
    await globex.store({ text: 'Globex: never to acme' }, { wait: 'queryable' });
    const { id } = await acme.store({ text: 'Acme deploys on Fridays' }, { wait: 'queryable' });
    await acme.update(id, { tags: ['webhook'] });
    const updated = await waitFor(
      () => ok.received.find((entry) => payloadOf(entry).type === 'memory.updated'),
      { what: 'the update delivered' },
    );
    const created = ok.received.find(
      (entry) => payloadOf(entry).data.id === id && payloadOf(entry).type === 'memory.created',
    );
    expect(payloadOf(created as Received).data.memory?.text).toBe('Acme deploys on Fridays');
    expect(payloadOf(updated).data.memory?.tags).toEqual(['webhook']);
    for (const entry of ok.received) {
      const signed = {
        id: String(entry.headers['webhook-id']),
        timestamp: String(entry.headers['webhook-timestamp']),
        signature: String(entry.headers['webhook-signature']),
      };
      expect(verifyWebhook(secret, signed, entry.body)).toBe(true);
      // A changed body or another secret does not verify.
      expect(verifyWebhook(secret, signed, `${entry.body} `)).toBe(false);
      expect(verifyWebhook('whsec_AAAA', signed, entry.body)).toBe(false);
    }
    expect(ok.received.map((entry) => payloadOf(entry).data.tenant)).toEqual(
      ok.received.map(() => 'acme'),
    );
    expect(ok.received.some((entry) => entry.body.includes('Globex'))).toBe(false);
  });

  it('retries a failing receiver with the same webhook-id, then dead-letters with the reason', async () => {
    const added = await webhooks('acme', {
      v: 1,
      action: 'add',
      url: failing.url,
      events: ['created'],
    });
    const letters = admin.subscribe('memory.dlq.acme');
    const { id } = await acme.store({ text: 'Nobody is listening' }, { wait: 'queryable' });
    for await (const message of letters) {
      const letter = DeadLetterSchema.parse(message.json());
      if (!letter.payload.includes(id)) continue;
      expect(letter.error.message).toContain(added.id as string);
      expect(letter.error.message).toContain('503');
      expect(letter.deliveries).toBe(3);
      expect(message.headers?.get(Headers.errorCode)).toBe('BACKEND_FAILED');
      expect(message.headers?.get(Headers.originalSubject)).toBe('memory.stored.acme');
      break;
    }
    const attempts = failing.received.filter((entry) => entry.body.includes(id));
    expect(attempts.length).toBe(3);
    expect(new Set(attempts.map((entry) => entry.headers['webhook-id'])).size).toBe(1);
    // The healthy endpoint had its delivery anyway.
    await waitFor(() => ok.received.some((entry) => entry.body.includes(id)));
  });

  it('is what `membus webhook` adds, lists and removes (as the admin user)', async () => {
    const admin = stack.admin;
    const membus = (...args: string[]) =>
      promisify(execFile)(
        process.execPath,
        [join(repoRoot, 'packages/cli/bin/membus.mjs'), ...args],
        {
          env: {
            ...process.env,
            NATS_URL: stack.nats.url,
            ...('credsFile' in admin
              ? { NATS_CREDS: admin.credsFile }
              : { NATS_USER: admin.user, NATS_PASSWORD: admin.pass }),
          },
        },
      );
    const added = await membus(
      'webhook',
      'add',
      `${ok.url}/cli`,
      '--tenant',
      'globex',
      '--events',
      'created',
    );
    const id = added.stdout.trim();
    expect(added.stderr).toContain('signing secret (shown once): whsec_');
    const listed = await membus('webhook', 'list', '--tenant', 'globex');
    expect(listed.stdout).toContain(`${id}  ${ok.url}/cli  created`);
    const removed = await membus('webhook', 'remove', id, '--tenant', 'globex');
    expect(removed.stdout.trim()).toBe(`removed ${id}`);
  });

  it('stops delivering to a removed endpoint', async () => {
    const removed = await webhooks('acme', { v: 1, action: 'remove', id: endpointId });
    expect(removed.removed).toBe(true);
    expect(removed.endpoints.map((endpoint) => endpoint.id)).not.toContain(endpointId);
  });

  it("is not an agent's operation: acme cannot reach memory.webhooks", async () => {
    const agent = await connectBus({
      servers: stack.nats.url,
      name: 'webhooks-intruder',
      ...(await stack.credentials('acme')),
    });
    try {
      const error = await request(
        agent,
        'memory.webhooks.acme',
        { v: 1, action: 'add', url: 'http://169.254.169.254/latest/meta-data' },
        WebhooksReplySchema,
        { timeoutMs: 3_000 },
      ).catch((caught: unknown) => caught);
      expect(MembusError.is(error) ? error.code : error).toBe('INVALID_TENANT');
    } finally {
      await agent.close();
    }
  });
});
