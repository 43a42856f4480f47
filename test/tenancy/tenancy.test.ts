/**
 * Tenancy and auth with the real infra/nats/nats.conf: services connect as the `services`
 * user (NATS_USER/NATS_PASSWORD), agents as per-tenant users. Tenant A can neither publish to
 * nor read tenant B's subjects, and a tenant named in a payload is never trusted.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { connectBus, createHeaders, encode, request } from '@membus/bus';
import { type NatsServer, startNatsServer, waitFor } from '@membus/bus/testing';
import { type ServiceProcess, startService } from '@membus/cli';
import { connect, MembusError, type MemoryClient } from '@membus/client';
import { ErrorReplySchema, StatsReplySchema } from '@membus/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadLetterCount } from '../helpers/faults.ts';

const configFile = join(import.meta.dirname, '../../infra/nats/nats.conf');
const passwords = {
  services: `svc-${randomUUID()}`,
  acme: `acme-${randomUUID()}`,
  globex: `globex-${randomUUID()}`,
};
const servicesLogin = { user: 'services', pass: passwords.services };

let nats: NatsServer;
let dataDir: string;
const services: ServiceProcess[] = [];
let acme: MemoryClient;
let globex: MemoryClient;

const errorCode = (error: unknown) => (error instanceof MembusError ? error.code : error);

beforeAll(async () => {
  // nats-server resolves `$MEMBUS_*_PASSWORD` in the config from its environment.
  process.env.MEMBUS_SERVICES_PASSWORD = passwords.services;
  process.env.MEMBUS_AGENT_ACME_PASSWORD = passwords.acme;
  process.env.MEMBUS_AGENT_GLOBEX_PASSWORD = passwords.globex;
  nats = await startNatsServer({ configFile });
  dataDir = join(nats.storeDir, '..', 'membus-data');
  const env = {
    NATS_URL: nats.url,
    NATS_USER: 'services',
    NATS_PASSWORD: passwords.services,
    MEMBUS_DATA_DIR: dataDir,
  };
  services.push(await startService('embedder', { env }));
  services.push(await startService('vector-store', { env }));
  acme = await connect({
    servers: nats.url,
    tenant: 'acme',
    user: 'agent-acme',
    pass: passwords.acme,
    inboxPrefix: '_INBOX.acme',
  });
  globex = await connect({
    servers: nats.url,
    tenant: 'globex',
    user: 'agent-globex',
    pass: passwords.globex,
    inboxPrefix: '_INBOX.globex',
  });
}, 90_000);

afterAll(async () => {
  await acme?.close().catch(() => {});
  await globex?.close().catch(() => {});
  await Promise.all(services.map((service) => service.stop()));
  await nats?.stop();
});

describe('authentication', () => {
  it('refuses a connection with a wrong password', async () => {
    const error = await connect({
      servers: nats.url,
      tenant: 'acme',
      user: 'agent-acme',
      pass: 'wrong',
      reconnect: false,
    }).catch((caught: unknown) => caught);
    expect(error instanceof MembusError && /authorization/i.test(error.message)).toBe(true);
  });

  it('lets a tenant user with the right password store and read back its memory', async () => {
    const { id } = await acme.store(
      { text: 'Acme deploys to Fly.io from the main branch' },
      { wait: 'queryable' },
    );
    expect((await acme.get(id))?.text).toBe('Acme deploys to Fly.io from the main branch');
  });
});

describe('tenant A cannot reach tenant B', () => {
  it('rejects a store to another tenant with a permission error', async () => {
    const intruder = await connect({
      servers: nats.url,
      tenant: 'globex',
      user: 'agent-acme',
      pass: passwords.acme,
      inboxPrefix: '_INBOX.acme',
    });
    try {
      const error = await intruder.store({ text: 'planted' }).catch((caught: unknown) => caught);
      expect(errorCode(error)).toBe('INVALID_TENANT');
    } finally {
      await intruder.close();
    }
  });

  it('rejects a query of another tenant with a permission error', async () => {
    const intruder = await connect({
      servers: nats.url,
      tenant: 'globex',
      user: 'agent-acme',
      pass: passwords.acme,
      inboxPrefix: '_INBOX.acme',
    });
    try {
      const error = await intruder.query('anything').catch((caught: unknown) => caught);
      expect(errorCode(error)).toBe('INVALID_TENANT');
    } finally {
      await intruder.close();
    }
  });

  it("refuses a subscription to another tenant's replies", async () => {
    const nc = await connectBus({
      servers: nats.url,
      name: 'snoop',
      user: 'agent-acme',
      pass: passwords.acme,
      inboxPrefix: '_INBOX.acme',
    });
    try {
      const subscription = nc.subscribe('_INBOX.globex.>');
      // nats.js resolves `closed` with the error that closed the subscription.
      const closed: unknown = await subscription.closed;
      expect(closed instanceof Error ? closed.name : 'closed without error').toBe(
        'PermissionViolationError',
      );
    } finally {
      await nc.close();
    }
  });

  it("refuses a subscription to another tenant's store subject", async () => {
    const nc = await connectBus({
      servers: nats.url,
      name: 'snoop',
      user: 'agent-acme',
      pass: passwords.acme,
      inboxPrefix: '_INBOX.acme',
    });
    try {
      const subscription = nc.subscribe('memory.store.globex');
      // nats.js resolves `closed` with the error that closed the subscription.
      const closed: unknown = await subscription.closed;
      expect(closed instanceof Error ? closed.name : 'closed without error').toBe(
        'PermissionViolationError',
      );
    } finally {
      await nc.close();
    }
  });

  it('refuses a publish to the internal embedded subject of its own tenant', async () => {
    const nc = await connectBus({
      servers: nats.url,
      name: 'bypass',
      user: 'agent-acme',
      pass: passwords.acme,
      inboxPrefix: '_INBOX.acme',
    });
    try {
      const error = await request(nc, 'memory.embedded.acme', { v: 1 }, StatsReplySchema, {
        timeoutMs: 2_000,
      }).catch((caught: unknown) => caught);
      expect(errorCode(error)).toBe('INVALID_TENANT');
    } finally {
      await nc.close();
    }
  });
});

describe('the tenant comes from the subject', () => {
  it('dead-letters a store whose payload carries a forged tenant field (strict schema)', async () => {
    const before = await deadLetterCount(nats.url, 'acme', servicesLogin);
    const nc = await connectBus({
      servers: nats.url,
      name: 'forger',
      user: 'agent-acme',
      pass: passwords.acme,
      inboxPrefix: '_INBOX.acme',
    });
    try {
      const headers = createHeaders();
      await nc.request(
        'memory.store.acme',
        encode({ v: 1, id: randomUUID(), text: 'forged', tenant: 'globex' }),
        { timeout: 5_000, headers },
      );
    } finally {
      await nc.close();
    }
    const after = await waitFor(
      async () => {
        const count = await deadLetterCount(nats.url, 'acme', servicesLogin);
        return count > before ? count : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 100, what: 'the forged store in the DLQ' },
    );
    expect(after - before).toBe(1);
  });

  it('answers a query with a forged tenant field with INVALID_MESSAGE', async () => {
    const nc = await connectBus({
      servers: nats.url,
      name: 'forger',
      user: 'agent-acme',
      pass: passwords.acme,
      inboxPrefix: '_INBOX.acme',
    });
    try {
      const reply = await nc.request(
        'memory.query.acme',
        encode({ v: 1, text: 'fly.io', tenant: 'globex' }),
        { timeout: 5_000 },
      );
      const body = ErrorReplySchema.safeParse(JSON.parse(new TextDecoder().decode(reply.data)));
      expect(body.success ? body.data.error.code : body.error).toBe('INVALID_MESSAGE');
    } finally {
      await nc.close();
    }
  });

  it("never returns tenant B's memory to a query of tenant A", async () => {
    const text = 'Globex rotates its database credentials every Friday at noon';
    await globex.store({ text }, { wait: 'queryable' });
    const { hits } = await acme.query(text, { topK: 50 });
    expect(hits.filter((hit) => hit.memory.text === text || hit.memory.tenant !== 'acme')).toEqual(
      [],
    );
  });

  it("stores tenant B's memory under tenant B", async () => {
    const { id } = await globex.store(
      { text: 'Globex on-call is paged through Opsgenie' },
      { wait: 'queryable' },
    );
    expect((await globex.get(id))?.tenant).toBe('globex');
  });
});
