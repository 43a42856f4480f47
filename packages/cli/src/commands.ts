/** The commands that talk to a running stack, and `membus tenant`. */
import { join, resolve } from 'node:path';
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
import { fail, USAGE } from './command-line.ts';
import { credentials, localTenancyDir, natsUrl, positionals, tenant, values } from './context.ts';
import { natsReachable } from './stack.ts';

const [command, ...rest] = positionals;

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

/** Runs the command of the command line (main.ts prints the help without loading this). */
export async function run(): Promise<void> {
  switch (command) {
    case 'start':
      return (await import('./start.ts')).start();
    case 'tenant':
      return tenantCommand();
    case 'apikey':
      return (await import('./apikey.ts')).apiKeyCommand(rest);
    case 'webhook':
      return (await import('./webhook.ts')).webhookCommand(rest);
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
      else if (result.status === 'dropped')
        process.stdout.write(
          `dropped by the ingest policy: rule ${result.policy?.rule} (${result.policy?.reason})\n`,
        );
      else process.stdout.write(`${result.id}${values.wait ? ' (queryable)' : ' (accepted)'}\n`);
      return;
    }
    case 'query': {
      const text = rest.join(' ');
      if (!text) fail('query needs the text to search for');
      const minScore = values['min-score'] === undefined ? undefined : Number(values['min-score']);
      if (minScore !== undefined && !(minScore >= -1 && minScore <= 1))
        fail(`--min-score ${values['min-score']}: expected a number from -1 to 1`);
      const result = await withClient((client) =>
        client.query(text, {
          topK: Number(values.top),
          filter: filterFromFlags(),
          ...(minScore !== undefined ? { minScore } : {}),
        }),
      );
      if (values.json) {
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        return;
      }
      if (result.hits.length === 0) process.stdout.write('no memories found\n');
      for (const hit of result.hits) printMemory(hit.memory, { ...hit.scores, score: hit.score });
      process.stdout.write(
        `(${result.hits.length} ${result.hits.length === 1 ? 'hit' : 'hits'}, ${result.tookMs.toFixed(2)} ms, plan ${result.plan})\n`,
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
    case 'export': {
      const { exportCommand, exportFilter } = await import('./export-import.ts');
      return withClient((client) => exportCommand(client, exportFilter(filterFromFlags())));
    }
    case 'import': {
      const { importCommand } = await import('./export-import.ts');
      return withClient((client) => importCommand(client, rest[0]));
    }
    case 'update': {
      const { exportFilter, updateCommand } = await import('./export-import.ts');
      return withClient((client) => updateCommand(client, rest, exportFilter(filterFromFlags())));
    }
    case 'reembed': {
      const { reembedCommand } = await import('./reembed.ts');
      return withClient((client) => reembedCommand(client, rest));
    }
    case 'policy': {
      const { policyCommand } = await import('./policy.ts');
      return withClient((client) => policyCommand(client, rest));
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

export function reportFailure(error: unknown): never {
  if (error instanceof MembusError) fail(`${error.code}: ${error.message}`);
  fail((error as Error).stack ?? String(error));
}
