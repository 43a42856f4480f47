/**
 * Re-embedding (decision 011) on the domain: the memory service over the model router, real
 * embedded indexes and SQLite history in a temp directory, the store path's model the fixture's
 * 8-dimension test model and the target the 16-dimension hashing model. Queries, stores,
 * updates and deletes go on during a run; a run stopped mid-way resumes from its cursor; cancel
 * drops the new vectors; unknown models and second runs are typed errors.
 */
import { randomUUID as newId } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MembusError, QueryRequestSchema } from '@membus/contracts';
import { openEmbeddedVectorIndex } from '@membus/embedded-index';
import { embedLocal } from '@membus/embedding-local';
import type { VectorIndex } from '@membus/vector-index';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openQdrantVectorIndex, qdrantCollectionName } from '../src/adapters/qdrant/index.ts';
import { openSqliteDocumentStore } from '../src/adapters/sqlite/sqlite-document-store.ts';
import { MemoryService } from '../src/domain/memory-service.ts';
import { indexName, ModelRouter } from '../src/domain/reembed/model-router.ts';
import { Reembedder, type ReembedEmbedPort } from '../src/domain/reembed/reembedder.ts';
import {
  type ModelIndexKey,
  memoryStateStore,
  type TenantModels,
} from '../src/domain/reembed/state.ts';
import { startQdrantDouble } from '../src/testing/index.ts';
import { DIMENSION, embeddedOf, testEmbed, vectorOf } from './service-fixture.ts';

const TARGET = 'local-hash-v1-16';

const embed: ReembedEmbedPort = {
  async documents(texts, model) {
    if (model === 'test') return texts.map(vectorOf);
    if (model !== TARGET)
      throw new MembusError('NOT_FOUND', `the embedder does not serve model ${model}`);
    return texts.map((text) => embedLocal(text, 16));
  },
  async query(text, model) {
    return model === TARGET ? embedLocal(text, 16) : vectorOf(text);
  },
  async primary() {
    return { model: 'test', dimension: DIMENSION };
  },
};

interface Stack {
  service: MemoryService;
  router: ModelRouter;
  reembedder: Reembedder;
  primary: VectorIndex;
  close(): Promise<void>;
}

// The embedded index, and Qdrant (its protocol double): each model a collection of its own.
const double = await startQdrantDouble();
afterAll(() => double.close());

type Backend = 'embedded' | 'qdrant';

let directory: string;
/** Names this test's Qdrant collections (reopened under the same names after a restart). */
let run: string;
let states: Map<string, TenantModels>;
/** Pages that failed (a run retries them): none expected. */
let errors: string[];

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'membus-reembed-'));
  states = new Map();
  run = newId().slice(0, 8);
  errors = [];
});

afterEach(async () => {
  expect(errors).toEqual([]);
  await rm(directory, { recursive: true, force: true });
});

/** The service as main.ts wires it, on `directory` (opened again after a stop: a restart). */
function openIndex(backend: Backend, key: ModelIndexKey | undefined): Promise<VectorIndex> {
  const dimension = key?.dimension ?? DIMENSION;
  if (backend === 'embedded')
    return openEmbeddedVectorIndex({
      directory: key ? join(directory, 'models', indexName(key)) : join(directory, 'index'),
      dimension,
    });
  return openQdrantVectorIndex({
    url: double.url,
    dimension,
    collection: qdrantCollectionName(`${run}-${key?.model ?? 'test'}`, dimension),
    retryBaseMs: 1,
  });
}

async function open(backend: Backend, batchSize = 16): Promise<Stack> {
  const primary = await openIndex(backend, undefined);
  const documents = openSqliteDocumentStore({ path: join(directory, 'documents.sqlite') });
  const router = new ModelRouter({
    primary,
    embed,
    open: (key) => openIndex(backend, key),
  });
  const reembedder = new Reembedder({
    router,
    store: memoryStateStore(states),
    embed,
    batchSize,
    hooks: { onError: (tenant, error) => errors.push(`${tenant}: ${(error as Error).message}`) },
  });
  await reembedder.resume();
  const service = new MemoryService({
    index: router,
    documents,
    embed: {
      ...testEmbed,
      prepareChange: async (change) => ({
        ...(change.metadata !== undefined ? { metadata: change.metadata } : {}),
      }),
    },
    events: { publish: async () => {} },
  });
  return {
    service,
    router,
    reembedder,
    primary,
    async close() {
      await reembedder.close();
      await service.close();
      await router.close();
      await documents.close();
    },
  };
}

const textOf = (tenant: string, index: number) =>
  `${tenant} note ${index}: deploy-${tenant}-${index} on host-${index * 7919} code ${index * 31}`;

async function seed(service: MemoryService, tenant: string, count: number, from = 0) {
  const ids: string[] = [];
  for (let start = from; start < from + count; start += 200) {
    const items = Array.from({ length: Math.min(200, from + count - start) }, (_, offset) => {
      const item = embeddedOf({
        id: newId(),
        text: textOf(tenant, start + offset),
        createdAt: new Date(Date.UTC(2026, 0, 1) + (start + offset) * 60_000).toISOString(),
      });
      return { ...item, tenant };
    });
    const results = await service.ingest(items);
    for (const result of results) if (result.ok) ids.push(result.memoryId);
  }
  return ids;
}

const denseQuery = (text: string, topK: number) =>
  QueryRequestSchema.parse({ v: 1, text, topK, mode: 'dense' });

async function topHit(service: MemoryService, tenant: string, text: string) {
  const reply = await service.query(tenant, denseQuery(text, 3));
  return reply.hits[0]?.memory.id;
}

/** Every id of the tenant in `index`, expired ones included. */
async function idsIn(index: VectorIndex, tenant: string): Promise<string[]> {
  const ids: string[] = [];
  let after: Awaited<ReturnType<VectorIndex['scroll']>>['next'];
  do {
    const page = await index.scroll({ tenant, limit: 500, now: 0, ...(after ? { after } : {}) });
    ids.push(...page.records.map((record) => record.id));
    after = page.next;
  } while (after);
  return ids.sort();
}

async function until(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe.each(['embedded', 'qdrant'] as const)('re-embedding (%s index)', (backend) => {
  const seeded = backend === 'embedded' ? 1_200 : 400;
  it('switches a tenant once complete while its queries, stores, updates and deletes go on', async () => {
    const stack = await open(backend);
    const { service, router, reembedder } = stack;
    try {
      const alpha = await seed(service, 'alpha', seeded);
      const beta = await seed(service, 'beta', 100);
      const betaBefore = await service.query('beta', denseQuery(textOf('beta', 42), 5));

      expect(await reembedder.start('alpha', TARGET, true)).toMatchObject({
        state: 'idle',
        dryRun: true,
        total: seeded,
        activeModel: 'test',
        targetModel: TARGET,
      });
      expect(router.state('alpha')).toBeUndefined();

      const started = await reembedder.start('alpha', TARGET);
      expect(started).toMatchObject({ state: 'running', total: seeded, activeModel: 'test' });
      const failures: string[] = [];
      let round = 0;
      let whileRunning = 0;
      const late: string[] = [];
      const deleted: string[] = [];
      const deadline = Date.now() + 60_000;
      while ((await reembedder.status('alpha')).state === 'running') {
        if (Date.now() > deadline)
          throw new Error(
            `still running: ${JSON.stringify(await reembedder.status('alpha'))} ${round} ${errors.join('; ')}`,
          );
        const index = (round * 37) % seeded;
        const top = await topHit(service, 'alpha', textOf('alpha', index));
        if (top !== alpha[index] && !deleted.includes(alpha[index] as string))
          failures.push(`${index}: ${top}`);
        if (round % 5 === 0) late.push(...(await seed(service, 'alpha', 1, 10_000 + round)));
        if (round % 7 === 0) {
          const id = alpha[(round * 13 + 200) % seeded] as string;
          await service.delete('alpha', { v: 1, ids: [id] });
          deleted.push(id);
        }
        const changed = alpha[(round * 17) % seeded] as string;
        if (round % 11 === 0 && !deleted.includes(changed))
          await service.update('alpha', { v: 1, id: changed, metadata: { round } });
        round++;
        whileRunning++;
        // Requests arrive as I/O: the run's worker gets its turns between them.
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(failures).toEqual([]);
      expect(whileRunning).toBeGreaterThan(10);
      expect(late.length).toBeGreaterThan(0);

      await until(async () => (await reembedder.status('alpha')).state === 'idle');
      const expected = [...alpha.filter((id) => !deleted.includes(id)), ...late].sort();
      const target = await router.index({ model: TARGET, dimension: 16 });
      expect(await idsIn(target, 'alpha')).toEqual(expected);
      expect(await idsIn(stack.primary, 'alpha')).toEqual([]);
      expect(await reembedder.status('alpha')).toMatchObject({
        state: 'idle',
        activeModel: TARGET,
      });
      // Queries answer from the new model, stores made during the run included.
      for (const index of [0, 199, seeded - 1]) {
        const id = alpha[index] as string;
        if (!deleted.includes(id))
          expect(await topHit(service, 'alpha', textOf('alpha', index))).toBe(id);
      }
      for (const [offset, id] of late.entries())
        expect(await topHit(service, 'alpha', textOf('alpha', 10_000 + offset * 5))).toBe(id);
      const updated = (await service.get('alpha', [alpha[0] as string])).memories[0];
      expect(updated?.metadata).toEqual({ round: 0 });
      expect(updated?.embeddingModel).toBe(TARGET);
      // Stores after the switch land in the new index, embedded with its model.
      const [after] = await seed(service, 'alpha', 1, 20_000);
      expect(await topHit(service, 'alpha', textOf('alpha', 20_000))).toBe(after);
      expect(await idsIn(stack.primary, 'alpha')).toEqual([]);

      // The other tenant: untouched.
      expect(router.state('beta')).toBeUndefined();
      expect(await idsIn(stack.primary, 'beta')).toEqual([...beta].sort());
      const betaAfter = await service.query('beta', denseQuery(textOf('beta', 42), 5));
      expect(betaAfter.hits.map((hit) => [hit.memory.id, hit.score])).toEqual(
        betaBefore.hits.map((hit) => [hit.memory.id, hit.score]),
      );
    } finally {
      await stack.close();
    }
  }, 120_000);

  it('resumes from the saved cursor after a restart and ends with exactly the memories', async () => {
    let stack = await open(backend, 8);
    const ids = await seed(stack.service, 'gamma', 600);
    await stack.reembedder.start('gamma', TARGET);
    await until(async () => (await stack.reembedder.status('gamma')).done >= 200);
    await stack.close();
    const saved = states.get('gamma')?.run;
    expect(saved?.done).toBeGreaterThanOrEqual(200);
    expect(saved?.done).toBeLessThan(600);

    stack = await open(backend, 8);
    try {
      const resumed = await stack.reembedder.status('gamma');
      expect(resumed.state).toBe('running');
      expect(resumed.done).toBeGreaterThanOrEqual(saved?.done ?? 0);
      await until(async () => (await stack.reembedder.status('gamma')).state === 'idle');
      const target = await stack.router.index({ model: TARGET, dimension: 16 });
      expect(await idsIn(target, 'gamma')).toEqual([...ids].sort());
      expect(await idsIn(stack.primary, 'gamma')).toEqual([]);
      expect((await stack.reembedder.status('gamma')).done).toBe(600);
      expect(await topHit(stack.service, 'gamma', textOf('gamma', 321))).toBe(ids[321]);
    } finally {
      await stack.close();
    }
  }, 120_000);

  it('cancels: the old vectors stay, the new ones are dropped', async () => {
    const stack = await open(backend, 8);
    try {
      const ids = await seed(stack.service, 'zeta', 400);
      await stack.reembedder.start('zeta', TARGET);
      await until(async () => (await stack.reembedder.status('zeta')).done >= 80);
      await stack.reembedder.cancel('zeta');
      await until(async () => (await stack.reembedder.status('zeta')).state === 'idle');
      expect(states.has('zeta')).toBe(false);
      const target = await stack.router.index({ model: TARGET, dimension: 16 });
      expect(await idsIn(target, 'zeta')).toEqual([]);
      expect(await idsIn(stack.primary, 'zeta')).toEqual([...ids].sort());
      expect(await topHit(stack.service, 'zeta', textOf('zeta', 7))).toBe(ids[7]);
    } finally {
      await stack.close();
    }
  }, 120_000);

  it('refuses a model the embedder does not serve, the current model and a second run', async () => {
    const stack = await open(backend);
    try {
      await seed(stack.service, 'delta', 50);
      const unknown = await stack.reembedder.start('delta', 'no-such-model').catch((e) => e);
      expect(MembusError.is(unknown) && unknown.code).toBe('NOT_FOUND');
      expect(states.has('delta')).toBe(false);
      const current = await stack.reembedder.start('delta', 'test').catch((e) => e);
      expect(MembusError.is(current) && current.code).toBe('CONFLICT');
      await stack.reembedder.start('delta', TARGET);
      expect((await stack.reembedder.start('delta', TARGET)).state).toBe('running');
      // Another tenant's status and cancel reach only its own (no) run.
      await stack.reembedder.cancel('epsilon');
      expect(await stack.reembedder.status('epsilon')).toEqual({
        v: 1,
        state: 'idle',
        activeModel: 'test',
        done: 0,
        total: 0,
        tokens: 0,
      });
      await until(async () => (await stack.reembedder.status('delta')).state === 'idle');
      expect((await stack.reembedder.status('delta')).activeModel).toBe(TARGET);
    } finally {
      await stack.close();
    }
  }, 120_000);
});
