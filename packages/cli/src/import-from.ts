/**
 * `membus import-from mem0|sqlite|postgres|qdrant …`: memories from where they live today.
 * A dry run by default (counts, tokens, embedding cost; nothing written), `--yes` imports.
 * Takes its own flags, so it is dispatched before the command line is parsed (main.ts).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { MemoryClient } from '@membus/client';
import type { Kind } from '@membus/contracts';
import type { ImportCounts, Mapping, SourceItem } from '@membus/importers';
import { fail, ownerFlags } from './command-line.ts';
import type { loadCliConfig } from './config.ts';

export const IMPORT_USAGE = `usage: membus import-from SOURCE [options] [--yes]

Sources:
  mem0 --file EXPORT.json          mem0's export: getAll() output ({ results: [...] }, a JSON array,
                                   or one memory per line)
  mem0 --vector-db vector_store.db mem0's SQLite vector store (provider "memory", its dbPath)
  mem0 --history-db history.db     mem0's SQLite history (latest value per memory; it has no owners:
                                   give --user/--agent/--session)
  sqlite --file DATA.db --mapping MAPPING.yaml
  postgres --mapping MAPPING.yaml [--url postgres://…]   (else DATABASE_URL, else the PG* variables)
  qdrant --collection NAME [--url http://…:6333] [--api-key K] (--mapping MAPPING.yaml | --format mem0)
                                   (else QDRANT_URL / QDRANT_API_KEY)

Options:
  --yes                      import; without it, a dry run: counts, tokens and cost, nothing written
  --tenant T                 the tenant to import into (MEMBUS_TENANT, default "default")
  --namespace NS --kind K    defaults for memories the source gives none
  --price-per-million USD    embedding price for the estimate (EMBEDDING_PRICE_PER_MILLION_TOKENS;
                             default 0.02, OpenAI text-embedding-3-small)
  --batch N                  memories per batch (default 200)
  --nats-port N --data-dir DIR   reach another local stack, as the other commands

Ids are kept (mem0, UUID keys) or derived (UUIDv5 of the mapping's source and the row's key), so a
re-run or a resumed run writes nothing twice. Tokens are estimated as characters / 4.

A mapping (YAML or JSON):
  table: notes                 # or query: SELECT … (joins, WHERE)
  columns: { id: note_id, text: body, userId: user_id, sessionId: session_id,
             createdAt: created_at, metadata: [topic, score], metadataJson: extra, tags: tags }
  defaults: { namespace: notes, kind: fact }`;

// The environment this command reads (parsed once, its errors naming the variable); a function,
// so `membus import-from --help` loads neither zod nor the bus.
const importEnvSpec = (env: typeof import('@membus/bus').env, z: typeof import('zod').z) => ({
  price: {
    env: 'EMBEDDING_PRICE_PER_MILLION_TOKENS',
    schema: z.coerce.number().min(0).optional(),
    description: 'USD per 1M tokens for the dry run estimate',
  },
  databaseUrl: {
    env: 'DATABASE_URL',
    schema: env.optionalString(),
    description: 'PostgreSQL URL of `import-from postgres` without --url',
  },
  qdrantUrl: {
    env: 'QDRANT_URL',
    schema: env.optionalString(),
    description: 'Qdrant URL of `import-from qdrant` without --url',
  },
  qdrantApiKey: {
    env: 'QDRANT_API_KEY',
    schema: env.optionalString(),
    description: 'Qdrant API key of `import-from qdrant` without --api-key',
  },
});

const flags = {
  yes: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  file: { type: 'string' },
  'vector-db': { type: 'string' },
  'history-db': { type: 'string' },
  mapping: { type: 'string' },
  url: { type: 'string' },
  'api-key': { type: 'string' },
  collection: { type: 'string' },
  format: { type: 'string' },
  ...ownerFlags,
  'price-per-million': { type: 'string' },
  batch: { type: 'string' },
  'nats-port': { type: 'string' },
  'data-dir': { type: 'string' },
} as const;

function parse(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], allowPositionals: true, options: flags });
  } catch (error) {
    fail(`${(error as Error).message}\n\n${IMPORT_USAGE}`);
  }
}

/** The agent credentials of `tenant`: NATS_CREDS / NATS_USER / NATS_TOKEN, else the local stack's. */
async function credentialsOf(
  config: ReturnType<typeof loadCliConfig>,
  tenant: string,
): Promise<Record<string, string>> {
  if (config.natsCreds) return { credsFile: config.natsCreds };
  if (config.natsUser)
    return { user: config.natsUser, ...(config.natsPassword ? { pass: config.natsPassword } : {}) };
  if (config.natsToken) return { token: config.natsToken };
  const dir = join(resolve(config.dataDir), 'tenancy');
  if (!existsSync(join(dir, 'tenancy.json'))) return {};
  const { TenancyDirectory } = await import('@membus/tenancy');
  const tenancy = await TenancyDirectory.open(dir);
  if (!tenancy.tenants.includes(tenant))
    fail(
      `tenant "${tenant}" has no account in ${dir}: add it with \`membus tenant add ${tenant}\``,
    );
  return tenancy.agent(tenant);
}

export async function importFrom(argv: readonly string[]): Promise<void> {
  const { values, positionals } = parse(argv);
  const [source] = positionals;
  if (values.help || source === undefined) {
    process.stdout.write(`${IMPORT_USAGE}\n`);
    return;
  }
  const [{ env, parseEnv }, { z }, { loadCliConfig }, { kindValues }, clientModule, importers] =
    await Promise.all([
      import('@membus/bus'),
      import('zod'),
      import('./config.ts'),
      import('@membus/contracts'),
      import('@membus/client'),
      import('@membus/importers'),
    ]);
  const { connect, MembusError } = clientModule;
  let config: ReturnType<typeof loadCliConfig>;
  let environment: ReturnType<typeof parseEnv<ReturnType<typeof importEnvSpec>>>;
  try {
    config = loadCliConfig(undefined, {
      natsPort: values['nats-port'],
      dataDir: values['data-dir'],
    });
    environment = parseEnv(importEnvSpec(env, z), process.env);
  } catch (error) {
    fail((error as Error).message);
  }
  const price =
    values['price-per-million'] !== undefined
      ? Number(values['price-per-million'])
      : (environment.price ?? importers.DEFAULT_PRICE_PER_MILLION_TOKENS);
  if (!Number.isFinite(price) || price < 0) fail('--price-per-million takes a number ≥ 0');
  const batchSize = values.batch !== undefined ? Number(values.batch) : 200;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 500)
    fail('--batch takes a whole number from 1 to 500');
  if (values.kind !== undefined && !(kindValues as readonly string[]).includes(values.kind))
    fail(`--kind must be one of ${kindValues.join(', ')}`);
  const kind = values.kind as Kind | undefined;
  const defaults = {
    ...(values.namespace ? { namespace: values.namespace } : {}),
    ...(kind ? { kind } : {}),
  };
  const withDefaults = (mapping: Mapping): Mapping => ({
    ...mapping,
    defaults: { ...defaults, ...mapping.defaults },
  });
  const mappingFile = async () => {
    if (!values.mapping) fail(`import-from ${source} needs --mapping FILE\n\n${IMPORT_USAGE}`);
    try {
      return withDefaults(await importers.loadMapping(values.mapping));
    } catch (error) {
      fail((error as Error).message);
    }
  };

  // The source, as a function: the dry run reads it once, the import once more.
  let items: () => AsyncIterable<SourceItem>;
  let described: string;
  switch (source) {
    case 'mem0': {
      const given = [values.file, values['vector-db'], values['history-db']].filter(Boolean);
      if (given.length !== 1)
        fail(`import-from mem0 takes one of --file, --vector-db, --history-db\n\n${IMPORT_USAGE}`);
      if (values.file) {
        const file = values.file;
        items = () => importers.mem0ExportItems(file, defaults);
        described = `mem0 export ${file}`;
      } else if (values['vector-db']) {
        const file = values['vector-db'];
        items = () => importers.mem0VectorStoreItems(file, defaults);
        described = `mem0 vector store ${file}`;
      } else {
        const file = values['history-db'] as string;
        const owners = {
          ...(values.user ? { userId: values.user } : {}),
          ...(values.agent ? { agentId: values.agent } : {}),
          ...(values.session ? { sessionId: values.session } : {}),
        };
        items = () => importers.mem0HistoryItems(file, { ...defaults, ...owners });
        described = `mem0 history ${file}`;
      }
      break;
    }
    case 'sqlite': {
      if (!values.file) fail(`import-from sqlite needs --file DATA.db\n\n${IMPORT_USAGE}`);
      if (!existsSync(values.file)) fail(`no file ${values.file}`);
      const mapping = await mappingFile();
      const file = values.file;
      items = () => importers.sqliteItems(file, mapping);
      described = `SQLite ${file} (${mapping.table ?? 'query'})`;
      break;
    }
    case 'postgres': {
      const mapping = await mappingFile();
      const url = values.url ?? environment.databaseUrl;
      items = () => importers.postgresItems(url ? { connectionString: url } : {}, mapping);
      described = `PostgreSQL ${url ? url.replace(/\/\/[^@/]*@/, '//…@') : '(PG* environment)'} (${mapping.table ?? 'query'})`;
      break;
    }
    case 'qdrant': {
      const url = values.url ?? environment.qdrantUrl;
      if (!url) fail('import-from qdrant needs --url (or QDRANT_URL)');
      if (!values.collection) fail('import-from qdrant needs --collection NAME');
      const apiKey = values['api-key'] ?? environment.qdrantApiKey;
      const qdrant = { url, collection: values.collection, ...(apiKey ? { apiKey } : {}) };
      if (values.format !== undefined && values.format !== 'mem0')
        fail('--format takes mem0 (a collection mem0 wrote); otherwise give --mapping');
      const how =
        values.format === 'mem0'
          ? { format: 'mem0' as const, options: defaults }
          : { mapping: await mappingFile() };
      items = () => importers.qdrantItems(qdrant, how);
      described = `Qdrant ${url} collection ${values.collection}`;
      break;
    }
    default:
      fail(`unknown source "${source}": mem0, sqlite, postgres or qdrant\n\n${IMPORT_USAGE}`);
  }

  const tenant = values.tenant ?? config.tenant;
  const natsUrl = config.natsUrl ?? `nats://127.0.0.1:${config.natsPort}`;
  let client: MemoryClient | undefined;
  try {
    client = await connect({
      servers: natsUrl,
      tenant,
      reconnect: false,
      name: 'membus-import',
      timeoutMs: 30_000,
      ...(await credentialsOf(config, tenant)),
    });
  } catch (error) {
    if (values.yes)
      fail(
        `cannot reach NATS at ${natsUrl} (${(error as Error).message}). Is \`membus start\` running?`,
      );
    process.stdout.write(
      `membus is not reachable at ${natsUrl}: the counts include memories it may hold already\n`,
    );
  }
  const started = performance.now();
  const progress = (label: string) => (counts: ImportCounts) => {
    if (process.stderr.isTTY)
      process.stderr.write(
        `\r  ${label} ${counts.memories.toLocaleString('en')} of ${counts.read.toLocaleString('en')} read…`,
      );
  };
  try {
    process.stdout.write(`${described} → tenant "${tenant}"\n`);
    const plan = await importers.planImport(items(), {
      ...(client ? { target: client } : {}),
      batchSize,
      pricePerMillionTokens: price,
      onProgress: progress('planned'),
    });
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    process.stdout.write(`${importers.formatCounts(plan, 'to import', price)}\n`);
    if (!values.yes || !client) {
      process.stdout.write('dry run: nothing written (add --yes to import)\n');
      return;
    }
    const done = await importers.runImport(items(), {
      target: client,
      batchSize,
      pricePerMillionTokens: price,
      onProgress: progress('imported'),
    });
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(
      `${importers.formatCounts(done, 'imported', price)}\n` +
        `done in ${seconds.toFixed(1)} s (${Math.round(done.memories / Math.max(seconds, 0.001)).toLocaleString('en')} memories/s); run it again to resume: what is there is left\n`,
    );
  } catch (error) {
    if (error instanceof MembusError) fail(`${error.code}: ${error.message}`);
    fail((error as Error).message);
  } finally {
    await client?.close();
  }
}
