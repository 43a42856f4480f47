/**
 * Re-embedding to another model without downtime (issue 23, decision 011), on the embedded
 * index with the hashing models (384 dimensions on the store path, 256 the target): queries and
 * stores run against the tenant all through its run and every query finds what it looks for;
 * the other tenant is untouched; the old vectors are gone at the end; a vector-store killed
 * mid-run resumes from its cursor and ends with exactly the tenant's memories; a model the
 * embedder does not serve is a typed error; a tenant reaches only its own run.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from '@membus/bus/testing';
import { repoRoot } from '@membus/cli';
import type { MemoryClient } from '@membus/client';
import { MembusError } from '@membus/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv } from '../helpers/shell-cli.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

// better-sqlite3 is the vector-store's dependency; resolve it from there.
const require = createRequire(
  join(import.meta.dirname, '../../services/vector-store/package.json'),
);
const Database = require('better-sqlite3') as new (
  file: string,
  options: { readonly: boolean },
) => {
  prepare(sql: string): { get(...values: unknown[]): unknown };
  close(): void;
};

const run = promisify(execFile);
const CLI = join(repoRoot, 'packages/cli/bin/membus.mjs');

/** `membus ARGS` as an agent of `tenant`: its stdout. */
async function membus(tenant: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [CLI, ...args], {
    env: await cliEnv(stack, tenant),
  });
  return stdout;
}

const STORE_MODEL = 'local-hash-v1-384';
const TARGET = 'local-hash-v1-256';
const SEEDED = 3_000;

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    EMBEDDING_PROVIDER: 'local',
    EMBEDDING_EXTRA_MODELS: TARGET,
    // Small pages: the run lasts long enough for the queries and stores to overlap it.
    REEMBED_BATCH: '16',
  });
}, 120_000);

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

/** A text only one memory has (every word and identifier its own). */
const textOf = (tenant: string, index: number) =>
  `${tenant} note ${index}: deploy-${tenant}-${index} finished on host-${index * 7919} with code ${index * 31}`;

async function seed(client: MemoryClient, tenant: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < count; start += 100) {
    const results = await client.storeMany(
      Array.from({ length: Math.min(100, count - start) }, (_, offset) => ({
        text: textOf(tenant, start + offset),
        createdAt: new Date(Date.UTC(2026, 0, 1) + (start + offset) * 60_000).toISOString(),
      })),
      { wait: 'queryable' },
    );
    ids.push(...results.map((result) => result.id));
  }
  return ids;
}

/**
 * A run under way: `count` memories of `tenant` seeded, their re-embedding to TARGET started,
 * back once `done` of them have their new vector.
 */
async function reembedding(tenant: string, count: number, done: number) {
  const client = await stack.client(tenant);
  const ids = await seed(client, tenant, count);
  await client.reembed({ model: TARGET });
  await waitFor(async () => (await client.reembedStatus()).done >= done, {
    timeoutMs: 120_000,
    intervalMs: 20,
  });
  return { client, ids };
}

/** The memories of `tenant` in the index file of `directory` (the primary's or a model's). */
function indexCount(directory: string, tenant: string): number {
  const database = new Database(join(directory, 'memories.sqlite'), { readonly: true });
  try {
    const row = database.prepare('SELECT count(*) AS n FROM memories WHERE tenant = ?').get(tenant);
    return (row as { n: number }).n;
  } finally {
    database.close();
  }
}

const primaryIndex = () => join(stack.dataDir, 'vector-store', 'index');
const modelIndex = (model: string, dimension: number) =>
  join(stack.dataDir, 'vector-store', 'models', `${model}_${dimension}`);

/**
 * A dense query for `text` narrowed to memory `id` (the index's ANN search need not rank an exact
 * match first among thousands of near-identical notes): the id it finds and its cosine, which is
 * 1 only when the query vector is of the model the memory's vector is.
 */
async function find(
  client: MemoryClient,
  text: string,
  id: string,
): Promise<{ id?: string; cosine?: number }> {
  const [hit] = (await client.query(text, { topK: 1, mode: 'dense', filter: { ids: [id] } })).hits;
  return hit ? { id: hit.memory.id, cosine: Math.round((hit.scores.dense ?? 0) * 1e4) / 1e4 } : {};
}

describe('re-embedding', () => {
  it('moves a tenant to another model while its queries and stores go on', async () => {
    const alpha = await stack.client('alpha');
    const beta = await stack.client('beta');
    const alphaIds = await seed(alpha, 'alpha', SEEDED);
    const betaIds = await seed(beta, 'beta', 200);
    const betaQueries = [0, 57, 199].map((index) => textOf('beta', index));
    const betaBefore = await Promise.all(
      betaQueries.map((text) => beta.query(text, { topK: 5, mode: 'dense' })),
    );

    // The dry run counts and writes nothing.
    const dry = await alpha.reembed({ model: TARGET, dryRun: true });
    expect(dry).toMatchObject({ state: 'idle', dryRun: true, total: SEEDED, done: 0 });
    expect(dry.tokens).toBeGreaterThan(SEEDED * 10);
    expect((await alpha.reembedStatus()).state).toBe('idle');

    // Queries and stores against alpha from before the start until after the switch.
    let stop = false;
    let queriesWhileRunning = 0;
    let running = false;
    const failures: string[] = [];
    const storedDuringRun: { id: string; text: string }[] = [];
    const queryLoop = (async () => {
      for (let round = 0; !stop; round++) {
        const index = (round * 37) % SEEDED;
        const expected = alphaIds[index];
        const wasRunning = running;
        try {
          // Every query answers, with hits; the memory it names is found, at cosine 1.
          const found = await find(alpha, textOf('alpha', index), expected as string);
          if (found.id !== expected || found.cosine !== 1)
            failures.push(`query ${index}: found ${JSON.stringify(found)}, not ${expected}`);
          const { hits } = await alpha.query(textOf('alpha', index), { topK: 5, mode: 'dense' });
          if (hits.length === 0) failures.push(`query ${index}: no hits`);
        } catch (error) {
          failures.push(`query ${index}: ${(error as Error).message}`);
        }
        if (wasRunning && running) queriesWhileRunning++;
      }
    })();
    const storeLoop = (async () => {
      for (let round = 0; !stop; round++) {
        const text = textOf('late', 100_000 + round);
        const [result] = await alpha.storeMany([{ text }], { wait: 'queryable' });
        if (result) storedDuringRun.push({ id: result.id, text });
      }
    })();

    let started: Awaited<ReturnType<MemoryClient['reembed']>>;
    let last: Awaited<ReturnType<MemoryClient['reembedStatus']>>;
    try {
      started = await alpha.reembed({ model: TARGET });
      running = true;
      last = started;
      await waitFor(
        async () => {
          last = await alpha.reembedStatus();
          if (last.state !== 'running') running = false;
          return last.state === 'idle' && last.activeModel === TARGET;
        },
        { timeoutMs: 240_000, intervalMs: 50 },
      );
    } finally {
      stop = true;
      await Promise.all([queryLoop, storeLoop]);
    }
    // The stores made before the start are in its total.
    expect(started).toMatchObject({ state: 'running', targetModel: TARGET });
    expect(started.total).toBeGreaterThanOrEqual(SEEDED);

    expect(failures).toEqual([]);
    expect(queriesWhileRunning).toBeGreaterThan(10);
    expect(storedDuringRun.length).toBeGreaterThan(0);
    expect(last).toMatchObject({ state: 'idle', activeModel: TARGET, targetModel: TARGET });
    expect(last.done).toBeGreaterThanOrEqual(started.total);

    // Stores made during the run are found after the switch, with the new model.
    for (const { id, text } of storedDuringRun)
      expect(await find(alpha, text, id)).toEqual({ id, cosine: 1 });
    const total = SEEDED + storedDuringRun.length;
    expect((await alpha.stats()).total).toBe(total);
    const sample = await alpha.get(alphaIds[5] as string);
    expect(sample?.embeddingModel).toBe(TARGET);

    // The old vectors are gone; the new index holds every memory once.
    expect(indexCount(primaryIndex(), 'alpha')).toBe(0);
    expect(indexCount(modelIndex(TARGET, 256), 'alpha')).toBe(total);

    // The other tenant: its model, its memories and its answers unchanged.
    expect(await beta.reembedStatus()).toMatchObject({ state: 'idle', activeModel: STORE_MODEL });
    expect(indexCount(primaryIndex(), 'beta')).toBe(betaIds.length);
    const betaAfter = await Promise.all(
      betaQueries.map((text) => beta.query(text, { topK: 5, mode: 'dense' })),
    );
    const shape = (replies: typeof betaBefore) =>
      replies.map((reply) => reply.hits.map((hit) => [hit.memory.id, hit.scores.relevance]));
    expect(shape(betaAfter)).toEqual(shape(betaBefore));
  }, 600_000);

  it('resumes a run after the vector-store is killed, with exactly the tenant memories', async () => {
    const { client: gamma, ids } = await reembedding('gamma', 2_000, 400);
    await stack.restart('vector-store', 'SIGKILL');
    // Resumed from the saved cursor, not from the start (the 100 pages left take longer than
    // the first status request after the restart).
    const resumed = await waitFor(() => gamma.reembedStatus().catch(() => undefined), {
      timeoutMs: 60_000,
      intervalMs: 50,
    });
    expect(resumed.state).toBe('running');
    expect(resumed.done).toBeGreaterThanOrEqual(400);
    await waitFor(
      async () => {
        const status = await gamma.reembedStatus().catch(() => undefined);
        return status?.state === 'idle' && status.activeModel === TARGET;
      },
      { timeoutMs: 240_000, intervalMs: 50 },
    );
    expect(indexCount(modelIndex(TARGET, 256), 'gamma')).toBe(ids.length);
    expect(indexCount(primaryIndex(), 'gamma')).toBe(0);
    const listed = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await gamma.list({ limit: 500, ...(cursor ? { cursor } : {}) });
      for (const memory of page.memories) listed.add(memory.id);
      cursor = page.nextCursor;
    } while (cursor);
    expect([...listed].sort()).toEqual([...ids].sort());
    for (const index of [0, 999, 1_999])
      expect(await find(gamma, textOf('gamma', index), ids[index] as string)).toEqual({
        id: ids[index],
        cosine: 1,
      });
  }, 600_000);

  it('refuses a model the embedder does not serve, and keeps each tenant to its own run', async () => {
    const delta = await stack.client('delta');
    const epsilon = await stack.client('epsilon');
    await seed(delta, 'delta', 300);
    const refused = await delta.reembed({ model: 'text-embedding-3-large' }).catch((e) => e);
    expect(MembusError.is(refused) && refused.code).toBe('NOT_FOUND');
    expect(await delta.reembedStatus()).toMatchObject({ state: 'idle', activeModel: STORE_MODEL });

    // Already on the model: a CONFLICT, not a run.
    const same = await delta.reembed({ model: STORE_MODEL }).catch((e) => e);
    expect(MembusError.is(same) && same.code).toBe('CONFLICT');

    await delta.reembed({ model: TARGET });
    // Another tenant sees and cancels only its own (no) run.
    expect(await epsilon.reembedStatus()).toEqual({
      state: 'idle',
      activeModel: STORE_MODEL,
      done: 0,
      total: 0,
      tokens: 0,
    });
    await epsilon.cancelReembed();
    await waitFor(
      async () => {
        const status = await delta.reembedStatus();
        return status.state === 'idle' && status.activeModel === TARGET;
      },
      { timeoutMs: 120_000, intervalMs: 50 },
    );
    expect((await delta.stats()).total).toBe(300);
  }, 300_000);

  it('runs from the command line: a dry run, then a run followed to its summary', async () => {
    const eta = await stack.client('eta');
    await seed(eta, 'eta', 120);
    expect(await membus('eta', 'reembed', '--to', TARGET, '--dry-run')).toMatch(
      new RegExp(
        `^dry run: 120 memories, ~\\d+ tokens to embed with ${TARGET}, estimated cost \\$0\\.0000; nothing written\n$`,
      ),
    );
    expect(await membus('eta', 'reembed', '--to', TARGET)).toMatch(
      new RegExp(
        `^re-embedded: 120 of 120 memories, ~\\d+ tokens, estimated cost \\$0\\.0000 \\(${TARGET}\\); queries use ${TARGET}\n$`,
      ),
    );
    expect(await membus('eta', 'reembed', 'status')).toBe(
      `queries use ${TARGET}; no re-embedding running\n`,
    );
    expect(indexCount(primaryIndex(), 'eta')).toBe(0);
  }, 300_000);

  it('cancels a run: the old vectors stay, the new ones are dropped', async () => {
    const { client: zeta, ids } = await reembedding('zeta', 1_500, 100);
    const cancelled = await zeta.cancelReembed();
    expect(cancelled.state).not.toBe('running');
    await waitFor(async () => (await zeta.reembedStatus()).state === 'idle', {
      timeoutMs: 120_000,
      intervalMs: 50,
    });
    expect(await zeta.reembedStatus()).toMatchObject({ activeModel: STORE_MODEL });
    expect(indexCount(modelIndex(TARGET, 256), 'zeta')).toBe(0);
    expect(indexCount(primaryIndex(), 'zeta')).toBe(ids.length);
    expect(await find(zeta, textOf('zeta', 7), ids[7] as string)).toEqual({
      id: ids[7],
      cosine: 1,
    });
  }, 300_000);
});
