import { openSqliteLifecycleStore } from '../src/adapters/sqlite-lifecycle-store.ts';
import { createLifecycleStoreConformanceSuite } from '../src/testing/index.ts';

createLifecycleStoreConformanceSuite({
  create: async () => openSqliteLifecycleStore({ path: ':memory:' }),
});
