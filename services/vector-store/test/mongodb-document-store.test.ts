import { randomUUID } from 'node:crypto';
import { reopenable, unreachableUrl } from '@membus/bus/testing';
import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { openMongoDocumentStore } from '../src/adapters/mongodb/mongodb-document-store.ts';
import { createDocumentStoreConformanceSuite } from '../src/testing/index.ts';

// A real MongoDB-protocol server: `scripts/dev.sh test` starts FerretDB (SQLite backend) and
// exports MONGODB_URI; any MongoDB works too.
const uri = process.env.MONGODB_URI;

/** A database of its own per test, dropped afterwards. */
const testDatabase = (): string => `membus_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`;

async function dropDatabase(database: string): Promise<void> {
  const client = new MongoClient(uri as string);
  try {
    await client.db(database).dropDatabase();
  } finally {
    await client.close();
  }
}

if (uri === undefined) {
  describe.skip('DocumentStore conformance: mongodb — skipped: MONGODB_URI is not set (scripts/dev.sh test provisions FerretDB and sets it)', () => {
    it('needs MONGODB_URI', () => undefined);
  });
} else {
  createDocumentStoreConformanceSuite({
    name: 'mongodb',
    capabilities: { persistent: true },
    create: async () => {
      const database = testDatabase();
      return reopenable(() => openMongoDocumentStore({ uri, database }), {
        afterClose: () => dropDatabase(database),
      });
    },
  });

  describe('mongodb document store', () => {
    it('creates its indexes at startup', async () => {
      const database = testDatabase();
      const store = await openMongoDocumentStore({ uri, database });
      const client = new MongoClient(uri);
      try {
        const indexes = await client.db(database).collection('history').listIndexes().toArray();
        expect(indexes.map((index) => index.name).sort()).toEqual([
          '_id_',
          'history_memory',
          'history_store',
        ]);
      } finally {
        await client.close();
        await store.close();
        await dropDatabase(database);
      }
    });

    it('accepts a numeric write concern', async () => {
      const database = testDatabase();
      const store = await openMongoDocumentStore({ uri, database, writeConcern: 1 });
      try {
        await store.appendHistory('t1', [
          {
            memoryId: '01900000-0000-7000-8000-000000000001',
            event: 'ADD',
            at: '2026-05-01T00:00:00.000Z',
          },
        ]);
        expect(await store.history('t1', '01900000-0000-7000-8000-000000000001')).toHaveLength(1);
      } finally {
        await store.close();
        await dropDatabase(database);
      }
    });
  });
}

describe('mongodb document store startup', () => {
  it('fails fast with UNAVAILABLE when the server is unreachable', async () => {
    const unreachable = await unreachableUrl('mongodb', '/?directConnection=true');
    const opening = openMongoDocumentStore({ uri: unreachable, serverSelectionTimeoutMs: 300 });
    await expect(opening).rejects.toMatchObject({ code: 'UNAVAILABLE', retryable: true });
  });
});
