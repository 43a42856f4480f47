/**
 * Tenancy and auth with the shipped infra/nats/nats.conf (decision 006): one account per
 * tenant, each service its own user of the membus account. Tenant A can neither publish to
 * nor read tenant B's subjects, and a tenant named in a payload is never trusted. The attacks
 * on another tenant's data are in red-team.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { connectBus, createHeaders, encode, type NatsConnection, request } from '@membus/bus';
import { type NatsServer, waitFor } from '@membus/bus/testing';
import { coreServices, repoRoot } from '@membus/cli';
import { connect, MembusError, type MemoryClient } from '@membus/client';
import { ErrorReplySchema, StatsReplySchema } from '@membus/contracts';
import {
  type Credentials,
  passwordVariable,
  serviceUsers,
  TenancyDirectory,
} from '@membus/tenancy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadLetterCount } from '../helpers/faults.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

let stack: TestStack;
let nats: NatsServer;
let acme: MemoryClient;
let globex: MemoryClient;
let acmeLogin: Credentials;
let servicesLogin: Credentials;

const errorCode = (error: unknown) => (error instanceof MembusError ? error.code : error);

/** What `attempt` gives (or throws) through a client of globex logged in as acme's user. */
async function asIntruder(attempt: (intruder: MemoryClient) => Promise<unknown>): Promise<unknown> {
  const intruder = await connect({ servers: nats.url, tenant: 'globex', ...acmeLogin });
  try {
    return await attempt(intruder).catch((caught: unknown) => caught);
  } finally {
    await intruder.close();
  }
}

/** Runs `use` over a NATS connection of acme's user named `name`, closed afterwards. */
async function withAcmeConnection(
  name: string,
  use: (nc: NatsConnection) => Promise<void>,
): Promise<void> {
  const nc = await connectBus({ servers: nats.url, name, ...acmeLogin });
  try {
    await use(nc);
  } finally {
    await nc.close();
  }
}

beforeAll(async () => {
  // The shipped static config: nats-server reads `$MEMBUS_<USER>_PASSWORD` from its environment.
  const tenancy = await TenancyDirectory.open(join(repoRoot, 'infra/nats'));
  for (const user of [...serviceUsers, 'admin', 'agent-acme', 'agent-globex'])
    process.env[passwordVariable(user)] = `${user}-${randomUUID()}`;
  stack = await startTestStack({}, coreServices, { tenancy });
  nats = stack.nats;
  acmeLogin = await stack.credentials('acme');
  servicesLogin = stack.admin;
  acme = await stack.client('acme');
  globex = await stack.client('globex');
}, 90_000);

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
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
    const error = await asIntruder((intruder) => intruder.store({ text: 'planted' }));
    expect(errorCode(error)).toBe('INVALID_TENANT');
  });

  it('rejects a query of another tenant with a permission error', async () => {
    const error = await asIntruder((intruder) => intruder.query('anything'));
    expect(errorCode(error)).toBe('INVALID_TENANT');
  });

  it("never delivers another tenant's replies, whatever inbox the agent subscribes to", async () => {
    // Each tenant is its own account: `_INBOX.>` is allowed and private to acme.
    await withAcmeConnection('snoop', async (nc) => {
      const seen: string[] = [];
      for (const subject of ['_INBOX.>', '_INBOX.globex.>'])
        nc.subscribe(subject, { callback: (_error, message) => void seen.push(message.subject) });
      await nc.flush();
      await globex.stats();
      await globex.query('opsgenie');
      // A reply is routed to every matching subscription when published: once globex has its
      // replies, a round trip of acme's connection has delivered anything routed to it.
      await nc.flush();
      expect(seen).toEqual([]);
    });
  });

  it("refuses a subscription to another tenant's store subject", async () => {
    await withAcmeConnection('snoop', async (nc) => {
      const subscription = nc.subscribe('memory.store.globex');
      // nats.js resolves `closed` with the error that closed the subscription.
      const closed: unknown = await subscription.closed;
      expect(closed instanceof Error ? closed.name : 'closed without error').toBe(
        'PermissionViolationError',
      );
    });
  });

  it('refuses a publish to the internal embedded subject of its own tenant', async () => {
    await withAcmeConnection('bypass', async (nc) => {
      const error = await request(nc, 'memory.embedded.acme', { v: 1 }, StatsReplySchema, {
        timeoutMs: 2_000,
      }).catch((caught: unknown) => caught);
      expect(errorCode(error)).toBe('INVALID_TENANT');
    });
  });
});

describe('the tenant comes from the subject', () => {
  it('dead-letters a store whose payload carries a forged tenant field (strict schema)', async () => {
    const before = await deadLetterCount(nats.url, 'acme', servicesLogin);
    await withAcmeConnection('forger', async (nc) => {
      const headers = createHeaders();
      await nc.request(
        'memory.store.acme',
        encode({ v: 1, id: randomUUID(), text: 'forged', tenant: 'globex' }),
        { timeout: 5_000, headers },
      );
    });
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
    await withAcmeConnection('forger', async (nc) => {
      const reply = await nc.request(
        'memory.query.acme',
        encode({ v: 1, text: 'fly.io', tenant: 'globex' }),
        { timeout: 5_000 },
      );
      const body = ErrorReplySchema.safeParse(JSON.parse(new TextDecoder().decode(reply.data)));
      expect(body.success ? body.data.error.code : body.error).toBe('INVALID_MESSAGE');
    });
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
