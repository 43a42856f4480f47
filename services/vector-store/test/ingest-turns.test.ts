/**
 * Write batches in flight at once (STORE_CONCURRENCY): their writes take turns, in call order,
 * and a batch's events are waited for after its turn, so the next batch writes meanwhile.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@membus/bus/testing';
import { openEmbeddedVectorIndex } from '@membus/embedded-index';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openSqliteDocumentStore } from '../src/adapters/sqlite/sqlite-document-store.ts';
import { MemoryService } from '../src/domain/memory-service.ts';
import { DIMENSION, embeddedOf, TENANT, vectorOf } from './service-fixture.ts';

let directory: string;
let service: MemoryService;
let closeStores: () => Promise<void>;
/** The ids of each publish call's events, in call order. */
let published: string[][];
/** Resolves every publish held so far. */
let releaseAll: () => void;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'membus-turns-'));
  published = [];
  let held: (() => void)[] = [];
  releaseAll = () => {
    for (const release of held) release();
    held = [];
  };
  const index = await openEmbeddedVectorIndex({
    directory: join(directory, 'index'),
    dimension: DIMENSION,
  });
  const documents = openSqliteDocumentStore({ path: join(directory, 'documents.sqlite') });
  closeStores = async () => {
    await index.close();
    await documents.close();
  };
  service = new MemoryService({
    index,
    documents,
    embed: {
      query: async (text) => vectorOf(text),
      documents: async () => [],
    },
    // Acks that do not come until the test says so.
    events: {
      publish: (_tenant, events) => {
        published.push(events.map(({ event }) => event.id));
        return new Promise<void>((resolve) => held.push(resolve));
      },
    },
    nearDuplicates: { default: 0 },
  });
});

afterEach(async () => {
  releaseAll();
  await service.close();
  await closeStores();
  await rm(directory, { recursive: true, force: true });
});

it('writes the next batch while the events of the one before are not acked yet, publishing in the order written', async () => {
  const [first, second] = [randomUUID(), randomUUID()];
  let firstDone = false;
  const one = service.ingest([embeddedOf({ id: first, text: 'Alice deploys on Fridays' })]);
  void one.then(() => {
    firstDone = true;
  });
  const two = service.ingest([embeddedOf({ id: second, text: 'Bob reviews on Mondays' })]);
  await waitFor(() => published.length === 2, { what: 'both batches published' });
  const written = (await service.get(TENANT, [first, second])).memories.map(({ id }) => id);
  expect({ published, written: written.sort(), firstDone }).toEqual({
    published: [[first], [second]],
    written: [first, second].sort(),
    firstDone: false,
  });
  releaseAll();
  expect([...(await one), ...(await two)].map((result) => result.ok && result.status)).toEqual([
    'stored',
    'stored',
  ]);
});

it('answers a store id retried in a batch in flight beside the first as a replay, one memory with one history entry', async () => {
  const id = randomUUID();
  const text = 'Alice deploys on Fridays';
  const one = service.ingest([embeddedOf({ id, text })]);
  const two = service.ingest([embeddedOf({ id, text })]);
  await waitFor(() => published.length >= 1, { what: 'the first batch published' });
  releaseAll();
  const results = [...(await one), ...(await two)];
  expect({
    results: results.map((result) => result.ok && [result.status, result.replayed]),
    history: (await service.history(TENANT, id)).entries.length,
    published: published.flat(),
  }).toEqual({
    results: [
      ['stored', false],
      ['stored', true],
    ],
    history: 1,
    published: [id],
  });
});

it('tells onWritten the results once the batch is written, before its events are acked', async () => {
  const id = randomUUID();
  let heard: string[] | undefined;
  let done = false;
  const ingested = service.ingest(
    [embeddedOf({ id, text: 'Carol ships on Tuesdays' })],
    (results) => {
      heard = results.map((result) => (result.ok ? result.status : result.error.code));
    },
  );
  void ingested.then(() => {
    done = true;
  });
  await waitFor(() => heard !== undefined, { what: 'onWritten called' });
  const written = (await service.get(TENANT, [id])).memories.map((memory) => memory.id);
  expect({ heard, written, published, done }).toEqual({
    heard: ['stored'],
    written: [id],
    published: [[id]],
    done: false,
  });
  releaseAll();
  expect((await ingested).map((result) => result.ok && result.status)).toEqual(['stored']);
});
