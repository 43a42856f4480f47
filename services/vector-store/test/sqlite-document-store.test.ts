import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteDocumentStore } from '../src/adapters/sqlite/sqlite-document-store.ts';
import { createDocumentStoreConformanceSuite } from '../src/testing/index.ts';

createDocumentStoreConformanceSuite({
  name: 'sqlite',
  capabilities: { persistent: true },
  create: async () => {
    const directory = await mkdtemp(join(tmpdir(), 'membus-documents-'));
    const path = join(directory, 'documents.sqlite');
    let store = openSqliteDocumentStore({ path });
    return {
      store,
      reopen: async () => {
        await store.close();
        store = openSqliteDocumentStore({ path });
        return store;
      },
      dispose: async () => {
        await store.close();
        await rm(directory, { recursive: true, force: true });
      },
    };
  },
});
