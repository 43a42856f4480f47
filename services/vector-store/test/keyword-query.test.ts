/**
 * A keyword query is never embedded: it neither asks the embed port (`memory.embed` in the
 * service) nor waits on it, so it answers while the embedder is down. Dense and hybrid queries
 * still ask it (which proves the counting port below sees every call).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedVectorIndex } from '@membus/embedded-index';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteDocumentStore } from '../src/adapters/sqlite/sqlite-document-store.ts';
import { type EmbedPort, MemoryService } from '../src/domain/memory-service.ts';
import { DIMENSION, embeddedOf, TENANT, vectorOf } from './service-fixture.ts';

const texts = [
  'deploy of payments-api failed: ECONNREFUSED on db-primary:5432',
  'the nightly billing export finished in 14 minutes',
  'rollback of checkout to v2.3.1 after OOMKilled pods',
];

/** An embedder that is down: every query embed hangs, and each call is counted. */
const asked: string[] = [];
const down: EmbedPort = {
  query: (text) => {
    asked.push(text);
    return new Promise<Float32Array>(() => undefined);
  },
  documents: async () => [],
};
/** An embedder that answers, counting calls the same way. */
const up: EmbedPort = {
  query: async (text) => {
    asked.push(text);
    return vectorOf(text);
  },
  documents: async () => [],
};

let directory: string;
let close: () => Promise<void>;
let embedderDown: MemoryService;
let embedderUp: MemoryService;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'membus-keyword-query-'));
  const index = await openEmbeddedVectorIndex({
    directory: join(directory, 'index'),
    dimension: DIMENSION,
  });
  const documents = openSqliteDocumentStore({ path: join(directory, 'documents.sqlite') });
  const events = { publish: async () => undefined };
  embedderDown = new MemoryService({ index, documents, embed: down, events });
  embedderUp = new MemoryService({ index, documents, embed: up, events });
  const results = await embedderDown.ingest(
    texts.map((text) => embeddedOf({ id: randomUUID(), text })),
  );
  expect(results.map((result) => result.ok)).toEqual([true, true, true]);
  close = async () => {
    await embedderDown.close();
    await embedderUp.close();
    await index.close();
    await documents.close();
  };
});

afterAll(async () => {
  await close?.();
  await rm(directory, { recursive: true, force: true });
});

type QueryRequest = Parameters<MemoryService['query']>[1];

/** `text` asked of `service` in `mode`: the top 3, recency half-life a week, and `more`. */
const query = (
  service: MemoryService,
  text: string,
  mode: QueryRequest['mode'],
  more: Partial<QueryRequest> = {},
) => service.query(TENANT, { v: 1, text, mode, topK: 3, recencyHalfLifeHours: 168, ...more });

describe('a keyword query', () => {
  it('answers while the embedder is down, without asking it, and its hits carry no cosine', async () => {
    asked.length = 0;
    const reply = await query(embedderDown, 'ECONNREFUSED', 'keyword');
    expect(reply.mode).toBe('keyword');
    expect(reply.plan).toBe('keyword');
    expect(reply.hits.map((hit) => hit.memory.text)).toEqual([texts[0]]);
    expect(reply.hits[0]?.scores).toMatchObject({ relevance: 1, keyword: 1 });
    expect(reply.hits[0]?.scores.dense).toBeUndefined();
    expect(asked).toEqual([]);
  });

  it('with a filter and no keyword match, answers empty, still without asking', async () => {
    asked.length = 0;
    const reply = await query(embedderDown, 'kubernetes', 'keyword', {
      filter: { kinds: ['fact'] },
    });
    expect(reply.hits).toEqual([]);
    expect(asked).toEqual([]);
  });
});

describe('dense and hybrid queries', () => {
  it('still ask the embedder for the query vector', async () => {
    asked.length = 0;
    for (const mode of ['dense', 'hybrid'] as const) {
      const reply = await query(embedderUp, 'rollback OOMKilled', mode);
      expect(reply.hits.length).toBeGreaterThan(0);
    }
    expect(asked).toEqual(['rollback OOMKilled', 'rollback OOMKilled']);
  });
});
