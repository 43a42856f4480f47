import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  connect,
  MembusError,
  type MemoryRecord,
  type QueryHit,
  type StoreInput,
} from '@membus/client';
import {
  type Kind,
  kindValues,
  type MemoryFilter,
  type Scope,
  scopeValues,
} from '@membus/contracts';
import { passwordVariable, pushAccount, TenancyDirectory } from '@membus/tenancy';
import { loadCliConfig } from './config.ts';
import {
  natsReachable,
  repoRoot,
  type ServiceProcess,
  serviceNames,
  startLocalNats,
  startService,
} from './stack.ts';

const USAGE = `membus — memory for AI agents on NATS

Usage:
  membus start [--data DIR] [--nats-port N]      run the local stack (nats-server with tenancy on, the services)
  membus tenant add NAME [--dir DIR] [--static [--env-secrets]]
                                                 add a tenant: its account, agent user and credentials
  membus tenant list [--dir DIR]                 the tenants of a tenancy directory
  membus store TEXT [options] [--wait]           store a memory (prints its id)
  membus query TEXT [options] [--top N] [--json] semantic search
  membus get ID | history ID | delete ID
  membus list [options] [--limit N]
  membus stats [options]

Options for store/query/list/stats:
  --tenant T --user U --agent A --session S --namespace NS --kind K --scope SC
  --category C (repeatable) --tag T (repeatable) --meta key=value (repeatable, store only)
  --importance 0..1 --ttl SECONDS (store only)

Tenancy (decision 006): every tenant is a NATS account of its own. \`membus start\` keeps its
accounts in DIR/tenancy (JWT mode) and the other commands use the credentials found there;
\`tenant add\` pushes a new tenant to the running server. --dir names another tenancy
directory; --static makes a static nats-server config instead (restart nats-server to apply),
with passwords generated, or with --env-secrets read by nats-server from MEMBUS_<USER>_PASSWORD
(nothing secret on disk: infra/nats is such a directory).

Environment: NATS_URL (default nats://127.0.0.1:4222), MEMBUS_TENANT (default "default"),
NATS_CREDS or NATS_USER/NATS_PASSWORD (otherwise the local stack's), MEMBUS_DATA_DIR (./data).`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    data: { type: 'string' },
    dir: { type: 'string' },
    static: { type: 'boolean', default: false },
    'env-secrets': { type: 'boolean', default: false },
    'nats-port': { type: 'string', default: '4222' },
    tenant: { type: 'string' },
    user: { type: 'string' },
    agent: { type: 'string' },
    session: { type: 'string' },
    namespace: { type: 'string' },
    kind: { type: 'string' },
    scope: { type: 'string' },
    category: { type: 'string', multiple: true },
    tag: { type: 'string', multiple: true },
    meta: { type: 'string', multiple: true },
    importance: { type: 'string' },
    ttl: { type: 'string' },
    top: { type: 'string', default: '5' },
    limit: { type: 'string', default: '20' },
    wait: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

const [command, ...rest] = positionals;

function fail(message: string): never {
  process.stderr.write(`membus: ${message}\n`);
  process.exit(1);
}

const config = (() => {
  try {
    return loadCliConfig();
  } catch (error) {
    fail((error as Error).message);
  }
})();
const natsUrl = config.natsUrl;
const tenant = values.tenant ?? config.tenant;
const dataDir = resolve(values.data ?? config.dataDir);
const localTenancyDir = join(dataDir, 'tenancy');

/**
 * The credentials the commands connect with: NATS_CREDS / NATS_USER / NATS_TOKEN when set,
 * else the agent user of this tenant in the local stack's tenancy directory, if it has one.
 */
async function credentials(): Promise<Record<string, string>> {
  if (config.natsCreds) return { credsFile: config.natsCreds };
  if (config.natsUser) {
    return { user: config.natsUser, ...(config.natsPassword ? { pass: config.natsPassword } : {}) };
  }
  if (config.natsToken) return { token: config.natsToken };
  if (!existsSync(join(localTenancyDir, 'tenancy.json'))) return {};
  const tenancy = await TenancyDirectory.open(localTenancyDir);
  if (!tenancy.tenants.includes(tenant)) {
    fail(
      `tenant "${tenant}" has no account in ${localTenancyDir}: add it with \`membus tenant add ${tenant}\``,
    );
  }
  return tenancy.agent(tenant);
}

function oneOf<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  name: string,
): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value))
    fail(`--${name} must be one of ${allowed.join(', ')}`);
  return value as T;
}

function filterFromFlags(): MemoryFilter {
  const kind = oneOf<Kind>(values.kind, kindValues, 'kind');
  const scope = oneOf<Scope>(values.scope, scopeValues, 'scope');
  return {
    ...(values.user ? { userId: values.user } : {}),
    ...(values.agent ? { agentId: values.agent } : {}),
    ...(values.session ? { sessionId: values.session } : {}),
    ...(values.namespace ? { namespace: values.namespace } : {}),
    ...(kind ? { kinds: [kind] } : {}),
    ...(scope ? { scopes: [scope] } : {}),
    ...(values.category?.length ? { categories: { any: values.category } } : {}),
    ...(values.tag?.length ? { tags: { any: values.tag } } : {}),
  };
}

function parseMeta(pairs: string[] = []): Record<string, unknown> {
  const metadata: Record<string, unknown> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) fail(`--meta takes key=value, got "${pair}"`);
    const raw = pair.slice(at + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a plain string
    }
    metadata[pair.slice(0, at)] = value;
  }
  return metadata;
}

function printMemory(memory: MemoryRecord, score?: QueryHit['scores'] & { score: number }): void {
  const owner = [
    memory.userId && `user=${memory.userId}`,
    memory.agentId && `agent=${memory.agentId}`,
    memory.sessionId && `session=${memory.sessionId}`,
  ]
    .filter(Boolean)
    .join(' ');
  const head = score ? `${score.score.toFixed(3)}  ` : '';
  process.stdout.write(`${head}${memory.text}\n`);
  process.stdout.write(
    `       ${memory.kind} · ${memory.scope}${owner ? ` (${owner})` : ''}${memory.namespace ? ` · ns=${memory.namespace}` : ''}` +
      `${memory.categories.length ? ` · ${memory.categories.join(',')}` : ''}${memory.tags.length ? ` · #${memory.tags.join(' #')}` : ''}` +
      ` · ${memory.createdAt} · ${memory.id}\n`,
  );
  if (Object.keys(memory.metadata).length > 0)
    process.stdout.write(`       ${JSON.stringify(memory.metadata)}\n`);
}

async function withClient<T>(
  run: (client: Awaited<ReturnType<typeof connect>>) => Promise<T>,
): Promise<T> {
  let client: Awaited<ReturnType<typeof connect>>;
  try {
    client = await connect({
      servers: natsUrl,
      tenant,
      reconnect: false,
      name: 'membus-cli',
      ...(await credentials()),
    });
  } catch (error) {
    fail(
      `cannot reach NATS at ${natsUrl} (${(error as Error).message}). Is \`membus start\` running?`,
    );
  }
  try {
    return await run(client);
  } finally {
    await client.close();
  }
}

async function start(): Promise<void> {
  const port = Number(values['nats-port']);
  let nats: ChildProcess | undefined;
  let url = natsUrl;
  // With a server of its own, the stack runs with tenancy on: accounts in DATA/tenancy.
  let tenancy: TenancyDirectory | undefined;
  if (await natsReachable(natsUrl)) {
    process.stdout.write(`using NATS at ${natsUrl} (credentials from NATS_CREDS / NATS_USER)\n`);
  } else {
    url = `nats://127.0.0.1:${port}`;
    tenancy = await TenancyDirectory.open(localTenancyDir, { mode: 'jwt' });
    await tenancy.addTenant(tenant);
    process.stdout.write(
      `no NATS at ${natsUrl}; starting nats-server on ${url} (JetStream in ${dataDir}/nats, accounts in ${localTenancyDir})\n`,
    );
    try {
      nats = await startLocalNats({
        port,
        storeDir: `${dataDir}/nats`,
        configFile: tenancy.configFile,
        probe: tenancy.admin(),
      });
    } catch (error) {
      fail((error as Error).message);
    }
  }
  const services: ServiceProcess[] = [];
  const stopAll = async () => {
    await Promise.all(services.map((service) => service.stop()));
    if (nats && nats.exitCode === null) {
      const exited = new Promise((resolveExit) => nats?.once('exit', resolveExit));
      nats.kill('SIGTERM');
      await exited;
    }
  };
  const ports: Record<string, string> = {
    embedder: '9464',
    'vector-store': '9465',
    'pattern-extractor': '9466',
    compactor: '9467',
  };
  try {
    // Services land one by one: start those that exist in this checkout.
    for (const name of serviceNames.filter((service) =>
      existsSync(join(repoRoot, 'services', service, 'src', 'main.ts')),
    )) {
      services.push(
        await startService(name, {
          env: {
            NATS_URL: url,
            ...(tenancy?.serviceEnv(name) ?? {}),
            MEMBUS_DATA_DIR: dataDir,
            METRICS_PORT: ports[name] ?? '0',
          },
          onLog: (service, line) => process.stdout.write(`${service.padEnd(12)} ${line}\n`),
        }),
      );
    }
  } catch (error) {
    await stopAll();
    fail((error as Error).message);
  }
  process.stdout.write(
    `\nmembus is running (tenant "${tenant}", NATS ${url}, data in ${dataDir}).\n` +
      (tenancy
        ? `  tenancy: one NATS account per tenant; agents connect with ${localTenancyDir}/creds/tenants/<tenant>.creds\n` +
          '           (`pnpm membus tenant add NAME` adds one while the stack runs)\n'
        : '') +
      `  metrics: ${services.map((service) => `${service.name} http://127.0.0.1:${service.metricsPort}/metrics`).join(', ')}\n` +
      `  try:     pnpm membus store "Deploys to Vercel need NODE_ENV=production" --user alice --wait\n` +
      `           pnpm membus query "how do we deploy" --user alice\n` +
      'Ctrl-C stops everything.\n\n',
  );
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('stopping…\n');
    stopAll().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  for (const service of services) {
    service.process.once('exit', (code) => {
      if (stopping) return;
      process.stderr.write(`${service.name} exited with ${code}; stopping the stack\n`);
      shutdown();
    });
  }
}

/** `membus tenant add NAME` / `membus tenant list`. */
async function tenantCommand(): Promise<void> {
  const [action, name] = rest;
  const dir = resolve(values.dir ?? localTenancyDir);
  const tenancy = await TenancyDirectory.open(
    dir,
    values.static ? { mode: 'static', secrets: values['env-secrets'] ? 'env' : 'generated' } : {},
  );
  if (action === 'list') {
    for (const known of tenancy.tenants) process.stdout.write(`${known}\n`);
    return;
  }
  if (action !== 'add' || !name) fail('usage: membus tenant add NAME | membus tenant list');
  const { added, accountJwt } = await tenancy.addTenant(name);
  const login = tenancy.mode === 'jwt' ? tenancy.agent(name) : undefined;
  process.stdout.write(
    `${added ? 'added' : 'already there:'} tenant "${name}" (${tenancy.mode} mode, ${dir})\n` +
      (login && 'credsFile' in login
        ? `  agents connect with ${login.credsFile} (tenant "${name}")\n`
        : `  agents connect as user agent-${name}, password ${values['env-secrets'] ? `from ${passwordVariable(`agent-${name}`)}` : `in ${join(dir, 'tenancy.json')}`}\n`),
  );
  if (!accountJwt) {
    process.stdout.write(`  restart nats-server with ${tenancy.configFile} to apply\n`);
    return;
  }
  // JWT mode: a running server learns the account at once (kept by its resolver).
  if (!(await natsReachable(natsUrl, 1_000, tenancy.system()))) {
    process.stdout.write(
      `  no server at ${natsUrl}: it is in ${tenancy.configFile} for the next start\n`,
    );
    return;
  }
  await pushAccount(tenancy, natsUrl, accountJwt);
  process.stdout.write(`  pushed to ${natsUrl}: live now\n`);
}

async function main(): Promise<void> {
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  switch (command) {
    case 'start':
      return start();
    case 'tenant':
      return tenantCommand();
    case 'store': {
      const text = rest.join(' ');
      if (!text) fail('store needs the memory text');
      const kind = oneOf<Kind>(values.kind, kindValues, 'kind');
      const scope = oneOf<Scope>(values.scope, scopeValues, 'scope');
      const input: StoreInput = {
        text,
        ...(values.user ? { userId: values.user } : {}),
        ...(values.agent ? { agentId: values.agent } : {}),
        ...(values.session ? { sessionId: values.session } : {}),
        ...(values.namespace ? { namespace: values.namespace } : {}),
        ...(kind ? { kind } : {}),
        ...(scope ? { scope } : {}),
        ...(values.category ? { categories: values.category } : {}),
        ...(values.tag ? { tags: values.tag } : {}),
        ...(values.meta ? { metadata: parseMeta(values.meta) } : {}),
        ...(values.importance ? { importance: Number(values.importance) } : {}),
        ...(values.ttl ? { ttlSeconds: Number(values.ttl) } : {}),
      };
      const result = await withClient((client) =>
        client.store(input, { wait: values.wait ? 'queryable' : 'accepted' }),
      );
      if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
      else if (result.status === 'duplicate')
        process.stdout.write(`duplicate of ${result.memoryId}\n`);
      else process.stdout.write(`${result.id}${values.wait ? ' (queryable)' : ' (accepted)'}\n`);
      return;
    }
    case 'query': {
      const text = rest.join(' ');
      if (!text) fail('query needs the text to search for');
      const result = await withClient((client) =>
        client.query(text, { topK: Number(values.top), filter: filterFromFlags() }),
      );
      if (values.json) {
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        return;
      }
      if (result.hits.length === 0) process.stdout.write('no memories found\n');
      for (const hit of result.hits) printMemory(hit.memory, { ...hit.scores, score: hit.score });
      process.stdout.write(
        `(${result.hits.length} hits, ${result.tookMs.toFixed(2)} ms, plan ${result.plan})\n`,
      );
      return;
    }
    case 'get': {
      const memory = await withClient((client) => client.get(rest[0] ?? fail('get needs an id')));
      if (!memory) fail(`no memory ${rest[0]}`);
      if (values.json) process.stdout.write(`${JSON.stringify(memory, null, 2)}\n`);
      else printMemory(memory);
      return;
    }
    case 'history': {
      const entries = await withClient((client) =>
        client.history(rest[0] ?? fail('history needs an id')),
      );
      for (const entry of entries)
        process.stdout.write(
          `${entry.at}  ${entry.event}  ${entry.text ?? entry.previousText ?? ''}\n`,
        );
      return;
    }
    case 'delete': {
      const deleted = await withClient((client) =>
        client.delete(rest[0] ?? fail('delete needs an id')),
      );
      process.stdout.write(deleted.length ? `deleted ${deleted[0]}\n` : 'nothing deleted\n');
      return;
    }
    case 'list': {
      const page = await withClient((client) =>
        client.list({ filter: filterFromFlags(), limit: Number(values.limit) }),
      );
      if (values.json) process.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
      else for (const memory of page.memories) printMemory(memory);
      return;
    }
    case 'stats': {
      const stats = await withClient((client) => client.stats(filterFromFlags()));
      process.stdout.write(`${JSON.stringify(stats, null, 2)}\n`);
      return;
    }
    default:
      fail(`unknown command "${command}"\n\n${USAGE}`);
  }
}

main().catch((error: unknown) => {
  if (error instanceof MembusError) fail(`${error.code}: ${error.message}`);
  fail((error as Error).stack ?? String(error));
});
