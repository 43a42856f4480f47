/**
 * Webhooks without NATS or HTTP (decision 008): signatures, the SSRF guard, and the dispatcher's
 * retries, backoff, dead letters and endpoint rules over a scripted poster.
 */
import { randomUUID } from 'node:crypto';
import type { DeadLetter, MemoryEvent } from '@membus/contracts';
import { MembusError, WebhooksRequestSchema } from '@membus/contracts';
import { describe, expect, it } from 'vitest';
import { addressGuard, isPrivateAddress } from '../src/domain/address-guard.ts';
import type { HttpPost } from '../src/domain/http-post.ts';
import { newWebhookSecret, signWebhook, verifyWebhook } from '../src/domain/signature.ts';
import {
  type EndpointRecord,
  type EndpointStore,
  WebhookDispatcher,
} from '../src/domain/webhook-dispatcher.ts';

describe('signatures (Standard Webhooks)', () => {
  const secret = newWebhookSecret();
  const body = '{"type":"memory.created"}';

  it('verifies what it signed, within the tolerance only', () => {
    const headers = signWebhook(secret, 'msg_1', 1_000_000, body);
    const given = {
      id: headers['webhook-id'],
      timestamp: headers['webhook-timestamp'],
      signature: headers['webhook-signature'],
    };
    expect([
      verifyWebhook(secret, given, body, { nowSeconds: 1_000_100 }),
      verifyWebhook(secret, given, body, { nowSeconds: 1_000_400 }),
      verifyWebhook(secret, given, `${body} `, { nowSeconds: 1_000_000 }),
      verifyWebhook(newWebhookSecret(), given, body, { nowSeconds: 1_000_000 }),
      verifyWebhook(secret, { ...given, id: 'msg_2' }, body, { nowSeconds: 1_000_000 }),
    ]).toEqual([true, false, false, false, false]);
  });

  it('signs the timestamp: the same body at another time has another signature', () => {
    expect(signWebhook(secret, 'msg_1', 1, body)['webhook-signature']).not.toBe(
      signWebhook(secret, 'msg_1', 2, body)['webhook-signature'],
    );
  });
});

describe('address guard (SSRF)', () => {
  it('knows private, loopback, link-local, reserved and mapped addresses', () => {
    const addresses = [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      'fe80::1',
      'fd00::1',
      '::ffff:127.0.0.1',
      '93.184.216.34',
      '2606:4700::1111',
    ];
    expect(addresses.map((address) => [address, isPrivateAddress(address)])).toEqual(
      addresses.map((address, index) => [address, index < 11]),
    );
  });

  it('refuses a host resolving to a private address unless allowed', async () => {
    const resolve = async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '10.0.0.7', family: 4 },
    ];
    const refused = await addressGuard({ allowPrivate: false, resolve })(
      new URL('https://rebind.example/hook'),
    ).catch((caught: unknown) => caught);
    expect(MembusError.is(refused) ? [refused.code, refused.retryable] : refused).toEqual([
      'INVALID_MESSAGE',
      false,
    ]);
    const allowed = await addressGuard({ allowPrivate: true, resolve })(
      new URL('https://rebind.example/hook'),
    );
    expect(allowed).toEqual({ address: '93.184.216.34', family: 4 });
  });
});

function memoryStore(): EndpointStore {
  const records: EndpointRecord[] = [];
  return {
    add: (record) => void records.push(record),
    list: (tenant) => records.filter((record) => record.tenant === tenant),
    remove(tenant, id) {
      const index = records.findIndex((record) => record.tenant === tenant && record.id === id);
      if (index >= 0) records.splice(index, 1);
      return index >= 0;
    },
  };
}

/** The event stream's last sequence, as the dispatcher reads it when an endpoint is added. */
let lastSequence = 0;

function dispatcher(post: HttpPost, options: { allowPrivate?: boolean } = {}) {
  const letters: { tenant: string; letter: DeadLetter }[] = [];
  const sleeps: number[] = [];
  const counts = { delivered: 0, failed: 0, retried: 0, deadLettered: 0 };
  const instance = new WebhookDispatcher({
    store: memoryStore(),
    resolveTarget: addressGuard({
      allowPrivate: options.allowPrivate ?? true,
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    }),
    post,
    deadLetter: async (tenant, letter) => void letters.push({ tenant, letter }),
    eventsLastSequence: async () => lastSequence,
    attempts: 4,
    backoffBaseMs: 100,
    backoffMaxMs: 1_000,
    timeoutMs: 1_000,
    maxEndpoints: 2,
    hooks: {
      delivered: () => void counts.delivered++,
      failed: () => void counts.failed++,
      retried: () => void counts.retried++,
      deadLettered: () => void counts.deadLettered++,
    },
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 1,
  });
  return { instance, letters, sleeps, counts };
}

const event = (change: MemoryEvent['change'], at = new Date().toISOString()): MemoryEvent => ({
  v: 1,
  change,
  id: randomUUID(),
  at,
});
const add = (url: string, events?: MemoryEvent['change'][]) =>
  WebhooksRequestSchema.parse({ v: 1, action: 'add', url, ...(events ? { events } : {}) });

describe('dispatcher', () => {
  it('retries with doubling full-jitter backoff, then dead-letters with the reason', async () => {
    const calls: string[] = [];
    const { instance, letters, sleeps, counts } = dispatcher(async (_url, _target, headers) => {
      calls.push(headers['webhook-id'] as string);
      return { status: 500 };
    });
    const { id } = await instance.handle('acme', add('http://hooks.example/a'));
    await instance.dispatch({
      tenant: 'acme',
      seq: 7,
      subject: 'memory.stored.acme',
      event: event('created'),
    });
    expect(calls).toEqual(Array(4).fill(`msg_7_${id}`));
    expect(sleeps).toEqual([100, 200, 400]);
    expect(counts).toEqual({ delivered: 0, failed: 4, retried: 3, deadLettered: 1 });
    expect(
      letters.map(({ tenant, letter }) => [tenant, letter.deliveries, letter.subject]),
    ).toEqual([['acme', 4, 'memory.stored.acme']]);
    expect(letters[0]?.letter.error.message).toMatch(/failed 4 times; last: .* answered 500/);
  });

  it("waits what the receiver's Retry-After says (capped), and stops retrying on success", async () => {
    let calls = 0;
    const { instance, sleeps, counts } = dispatcher(async () =>
      ++calls === 1 ? { status: 429, retryAfterMs: 60_000 } : { status: 200 },
    );
    await instance.handle('acme', add('http://hooks.example/a'));
    await instance.dispatch({ tenant: 'acme', seq: 1, subject: 's', event: event('created') });
    expect([calls, sleeps, counts.delivered]).toEqual([2, [1_000], 1]);
  });

  it('sends an endpoint only its changes, and only events after it was added', async () => {
    const sent: string[] = [];
    const { instance } = dispatcher(async (url) => {
      sent.push(url.pathname);
      return { status: 204 };
    });
    lastSequence = 10;
    await instance.handle('acme', add('http://hooks.example/created', ['created']));
    await instance.handle('acme', add('http://hooks.example/all'));
    lastSequence = 0;
    await instance.dispatch({ tenant: 'acme', seq: 11, subject: 's', event: event('deleted') });
    await instance.dispatch({ tenant: 'globex', seq: 12, subject: 's', event: event('created') });
    // A backdated memory's event is still new: the stream position decides, not `at`.
    await instance.dispatch({
      tenant: 'acme',
      seq: 13,
      subject: 's',
      event: event('created', '2020-01-01T00:00:00.000Z'),
    });
    await instance.dispatch({ tenant: 'acme', seq: 10, subject: 's', event: event('created') });
    expect(sent).toEqual(['/all', '/created', '/all']);
  });

  it('refuses a private endpoint at registration without the operator flag', async () => {
    const { instance } = dispatcher(async () => ({ status: 204 }), { allowPrivate: false });
    const error = await instance
      .handle('acme', add('http://127.0.0.1:8080/hook'))
      .catch((caught: unknown) => caught);
    expect(MembusError.is(error) ? error.code : error).toBe('INVALID_MESSAGE');
  });

  it('limits the endpoints of a tenant', async () => {
    const { instance } = dispatcher(async () => ({ status: 204 }));
    await instance.handle('acme', add('http://hooks.example/1'));
    await instance.handle('acme', add('http://hooks.example/2'));
    const error = await instance
      .handle('acme', add('http://hooks.example/3'))
      .catch((caught: unknown) => caught);
    expect(MembusError.is(error) ? error.code : error).toBe('LIMIT_EXCEEDED');
  });
});
