import { randomUUID } from 'node:crypto';
import { describe } from 'vitest';
import { openMongoLifecycleStore } from '../src/adapters/mongodb-lifecycle-store.ts';
import { createLifecycleStoreConformanceSuite } from '../src/testing/index.ts';

const uri = process.env.MONGODB_URI;

describe.skipIf(!uri)('mongodb lifecycle store (skipped: MONGODB_URI is not set)', () => {
  createLifecycleStoreConformanceSuite({
    create: () =>
      openMongoLifecycleStore({
        uri: uri as string,
        database: 'membus_test',
        prefix: `t${randomUUID().slice(0, 8)}_`,
      }),
  });
});
