import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteOutcomeStore } from '../src/adapters/sqlite/sqlite-outcome-store.ts';
import { createOutcomeStoreConformanceSuite } from '../src/testing/index.ts';

createOutcomeStoreConformanceSuite({
  name: 'sqlite outcome store',
  create: async () => {
    const directory = await mkdtemp(join(tmpdir(), 'membus-outcomes-'));
    const path = join(directory, 'outcomes.sqlite');
    let store = openSqliteOutcomeStore({ path });
    return {
      store,
      reopen: async () => {
        await store.close();
        store = openSqliteOutcomeStore({ path });
        return store;
      },
      dispose: async () => {
        await store.close();
        await rm(directory, { recursive: true, force: true });
      },
    };
  },
});
