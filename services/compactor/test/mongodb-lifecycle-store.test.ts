import { randomUUID } from 'node:crypto';
import { unreachableUrl } from '@membus/bus/testing';
import { describe, expect, it } from 'vitest';
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

  it('survives concurrent upserts of one tenant and one session (no duplicate-key error)', async () => {
    const store = await openMongoLifecycleStore({
      uri: uri as string,
      database: 'membus_test',
      prefix: `t${randomUUID().slice(0, 8)}_`,
    });
    try {
      await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          Promise.all([store.addTenant('t1'), store.touchSession('t1', 's1', index)]),
        ),
      );
      expect(await store.tenants()).toEqual(['t1']);
    } finally {
      await store.close();
    }
  });

  it('accepts a numeric write concern', async () => {
    const store = await openMongoLifecycleStore({
      uri: uri as string,
      database: 'membus_test',
      prefix: `t${randomUUID().slice(0, 8)}_`,
      writeConcern: 1,
    });
    try {
      await store.addTenant('t1');
      expect(await store.tenants()).toEqual(['t1']);
    } finally {
      await store.close();
    }
  });
});

describe('mongodb lifecycle store startup', () => {
  it('fails fast with UNAVAILABLE when the server is unreachable', async () => {
    await expect(
      openMongoLifecycleStore({
        uri: await unreachableUrl('mongodb', '/?directConnection=true'),
        database: 'membus_test',
        serverSelectionTimeoutMs: 300,
      }),
    ).rejects.toMatchObject({ code: 'UNAVAILABLE', retryable: true });
  });
});
