/**
 * `membus tenant add` in both modes, against a real nats-server started with what it wrote:
 * the static config (generated passwords, restart to apply) and decentralised JWT auth
 * (pushed live to a running server, kept across a restart). The shipped infra/nats is what
 * its tenancy.json renders to.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectBus, type NatsConnection } from '@membus/bus';
import { startNatsServer } from '@membus/bus/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  agentPermissions,
  passwordVariable,
  pushAccount,
  servicePermissions,
  serviceUsers,
  TenancyDirectory,
} from '../src/index.ts';

const root = join(import.meta.dirname, '../../..');
const directories: string[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'membus-tenancy-test-'));
  directories.push(dir);
  return dir;
};
afterEach(async () => {
  await Promise.all(directories.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** What one connection may do: a request answered, refused by permissions, or unanswered. */
async function attempt(nc: NatsConnection, subject: string): Promise<string> {
  try {
    await nc.request(subject, '{}', { timeout: 1_000 });
    return 'answered';
  } catch (error) {
    const text = `${(error as Error).message} ${String((error as { cause?: unknown }).cause)}`;
    if (/permissions violation/i.test(text)) return 'refused';
    // Through a service import nats-server 2.9 lets a request with no responder time out.
    if (/no responders|timeout/i.test(text)) return 'unanswered';
    return text;
  }
}

describe('static mode', () => {
  it('adds a tenant whose agent connects with its generated password, others refused', async () => {
    const dir = await tempDir();
    const tenancy = await TenancyDirectory.open(dir, { mode: 'static' });
    expect((await tenancy.addTenant('initech')).added).toBe(true);
    expect((await tenancy.addTenant('initech')).added).toBe(false);
    // Owner-only: the file holds the passwords.
    expect((await stat(join(dir, 'tenancy.json'))).mode & 0o077).toBe(0);
    await using nats = await startNatsServer({ configFile: tenancy.configFile });

    const agent = await connectBus({
      servers: nats.url,
      name: 'initech',
      ...tenancy.agent('initech'),
    });
    const service = await connectBus({
      servers: nats.url,
      name: 'vector-store',
      ...tenancy.service('vector-store'),
    });
    try {
      const wrong = await connectBus({
        servers: nats.url,
        name: 'x',
        user: 'agent-initech',
        pass: 'wrong',
        reconnect: false,
      }).then(
        () => 'connected',
        (error: Error) => error.message,
      );
      expect({
        ownSubject: await attempt(agent, 'memory.stats.initech'),
        otherTenant: await attempt(agent, 'memory.stats.globex'),
        internal: await attempt(agent, 'memory.embed'),
        jetStreamApi: await attempt(agent, '$JS.API.STREAM.PURGE.MEMORY_STORE'),
        servicePurge: await attempt(service, '$JS.API.STREAM.PURGE.MEMORY_STORE'),
        wrongPassword: /authorization/i.test(wrong),
      }).toEqual({
        ownSubject: 'unanswered',
        otherTenant: 'refused',
        internal: 'refused',
        jetStreamApi: 'refused',
        servicePurge: 'refused',
        wrongPassword: true,
      });
    } finally {
      await agent.close();
      await service.close();
    }
  });

  it('renders the shipped infra/nats/nats.conf from its tenancy.json (no hand edits)', async () => {
    const shipped = join(root, 'infra/nats');
    const dir = await tempDir();
    const state = JSON.parse(await readFile(join(shipped, 'tenancy.json'), 'utf8')) as {
      listen?: string;
      static: { tenants: string[] };
    };
    const copy = await TenancyDirectory.open(dir, {
      mode: 'static',
      secrets: 'env',
      ...(state.listen ? { listen: state.listen } : {}),
    });
    for (const tenant of state.static.tenants) await copy.addTenant(tenant);
    expect(await readFile(copy.configFile, 'utf8')).toBe(
      await readFile(join(shipped, 'nats.conf'), 'utf8'),
    );
    // Env secrets: nothing secret on disk, each user's password is its variable.
    expect(await readFile(join(shipped, 'nats.conf'), 'utf8')).toContain(
      `$${passwordVariable('agent-acme')}`,
    );
  });
});

describe('JWT mode', () => {
  it('pushes a new tenant to a running server, which keeps it across a restart', async () => {
    const dir = await tempDir();
    const tenancy = await TenancyDirectory.open(dir, { mode: 'jwt' });
    await tenancy.addTenant('acme');
    await using nats = await startNatsServer({ configFile: tenancy.configFile });
    const serve = async () => {
      const connection = await connectBus({
        servers: nats.url,
        name: 'vector-store',
        ...tenancy.service('vector-store'),
      });
      connection.subscribe('memory.stats.*', {
        queue: 'vector-store',
        callback: (_error, message) => {
          message.respond(`answered for ${message.subject}`);
        },
      });
      await connection.flush();
      return connection;
    };
    const service = await serve();

    // Not in the config the server started with: added now, live once pushed.
    const { added, accountJwt } = await tenancy.addTenant('initech');
    expect(added).toBe(true);
    await pushAccount(tenancy, nats.url, accountJwt as string);
    const agent = await connectBus({
      servers: nats.url,
      name: 'initech',
      ...tenancy.agent('initech'),
    });
    const live = {
      own: new TextDecoder().decode(
        (await agent.request('memory.stats.initech', '{}', { timeout: 2_000 })).data,
      ),
      other: await attempt(agent, 'memory.stats.acme'),
      api: await attempt(agent, '$JS.API.INFO'),
    };
    await agent.close();

    await service.close();
    await nats.restart();
    const restarted = await serve();
    const again = await connectBus({
      servers: nats.url,
      name: 'initech',
      ...tenancy.agent('initech'),
    });
    const afterRestart = new TextDecoder().decode(
      (await again.request('memory.stats.initech', '{}', { timeout: 2_000 })).data,
    );
    await again.close();
    await restarted.close();
    expect({ live, afterRestart }).toEqual({
      live: { own: 'answered for memory.stats.initech', other: 'refused', api: 'refused' },
      afterRestart: 'answered for memory.stats.initech',
    });
  });

  it('writes every credential owner-only', async () => {
    const dir = await tempDir();
    const tenancy = await TenancyDirectory.open(dir, { mode: 'jwt' });
    await tenancy.addTenant('acme');
    const files = [
      'tenancy.json',
      'nats.conf',
      'creds/admin.creds',
      'creds/system.creds',
      'creds/tenants/acme.creds',
      ...serviceUsers.map((service) => `creds/${service}.creds`),
    ];
    const modes = await Promise.all(
      files.map(async (file) => (await stat(join(dir, file))).mode & 0o077),
    );
    expect(modes).toEqual(files.map(() => 0));
  });
});

describe('least privilege', () => {
  it('gives no service the JetStream calls that delete, and agents only their own tenant', () => {
    const destructive = /\$JS\.API\.(STREAM\.(PURGE|DELETE|MSG\.DELETE)|CONSUMER\.DELETE)|^>$/;
    expect(
      serviceUsers.flatMap((service) =>
        servicePermissions(service).publish.filter((subject) => destructive.test(subject)),
      ),
    ).toEqual([]);
    const acme = agentPermissions('acme');
    expect(
      [...acme.publish, ...acme.subscribe].filter(
        (subject) =>
          !subject.endsWith('.acme') &&
          !subject.startsWith('memory.notice.acme.') &&
          !subject.startsWith('memory.extracted.acme.') &&
          !subject.startsWith('memory.feed.acme.') &&
          subject !== '_INBOX.>',
      ),
    ).toEqual([]);
  });
});
