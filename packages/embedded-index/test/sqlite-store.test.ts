import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { testRecord } from '@membus/vector-index/testing';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { type RowToWrite, SqliteStore } from '../src/sqlite-store.ts';
import { WAL_SIZE_LIMIT } from '../src/store-access.ts';
import { expectWalCutAfterCheckpoint } from '../src/testing/index.ts';
import { directoryPerTest } from './helpers/directory-per-test.ts';

const TENANT = 'acme';
const ID = '01900000-0000-7000-8000-000000000001';

function row(): RowToWrite {
  const at = '2026-06-01T00:00:00.000Z';
  const record = testRecord(1, {
    id: ID,
    tenant: TENANT,
    userId: 'u1',
    text: 'the deploy key rotates monthly',
    metadata: {},
    createdAt: at,
    updatedAt: at,
    contentHash: 'hash',
  });
  return {
    tenant: TENANT,
    id: ID,
    slot: 0,
    seq: 1,
    scope: 'user',
    user_id: 'u1',
    agent_id: null,
    session_id: null,
    namespace: null,
    kind: 'fact',
    tier: 'short',
    created_at: Date.parse(at),
    updated_at: Date.parse(at),
    expires_at: null,
    dedup_key: null,
    importance: 0.5,
    labels: '{}',
    record: JSON.stringify(record),
    vector: Buffer.alloc(16),
    access_count: 0,
    last_accessed_at: null,
  };
}

let store: SqliteStore | undefined;
const directory = directoryPerTest('membus-sqlite-store-', async () => {
  await store?.close();
  store = undefined;
});

describe('SqliteStore background worker', () => {
  it('falls back to writing access on its own thread when the worker dies', async () => {
    store = new SqliteStore(join(directory.path, 'memories.sqlite'), {
      checkpointIntervalMs: 1_000,
      mmapBytes: 0,
    });
    store.writeRows([row()]);
    const at = Date.parse('2026-06-02T00:00:00.000Z');
    await store.recordAccess(TENANT, new Map([[ID, { count: 2, at }]]));
    // The worker is private: reach it only to kill it, as a crash would.
    const worker = (store as unknown as { background: { worker: Worker } }).background.worker;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    await worker.terminate();
    await exited;
    await store.recordAccess(TENANT, new Map([[ID, { count: 3, at: at + 1 }]]));
    expect(store.getRecord(TENANT, ID)).toMatchObject({
      accessCount: 5,
      lastAccessedAt: new Date(at + 1).toISOString(),
    });
    await store.close();
    store = new SqliteStore(join(directory.path, 'memories.sqlite'), {
      checkpointIntervalMs: 0,
      mmapBytes: 0,
    });
    expect(store.getRecord(TENANT, ID)?.accessCount).toBe(5);
  });

  it('rejects a write handed to the worker when it dies before answering', async () => {
    store = new SqliteStore(join(directory.path, 'memories.sqlite'), {
      checkpointIntervalMs: 1_000,
      mmapBytes: 0,
    });
    store.writeRows([row()]);
    const worker = (store as unknown as { background: { worker: Worker } }).background.worker;
    // Terminating stops the worker's JavaScript at once; the exit event comes later, so the
    // store still hands it the write.
    const terminated = worker.terminate();
    const pending = store.recordAccess(TENANT, new Map([[ID, { count: 1, at: 1 }]]));
    await expect(pending).rejects.toThrow(/store worker exited/);
    await terminated;
    expect(store.getRecord(TENANT, ID)?.accessCount).toBe(0);
  });
});

describe('SqliteStore files', () => {
  /** `count` rows of ~4.5 KB each, in slots from `from`. */
  function rows(from: number, count: number): RowToWrite[] {
    return Array.from({ length: count }, (_, index) => {
      const slot = from + index;
      const id = `01900000-0000-7000-8000-${slot.toString(16).padStart(12, '0')}`;
      return { ...row(), id, slot, seq: slot + 1, vector: Buffer.alloc(4_096, slot % 251) };
    });
  }

  const pageSize = (file: string): number => {
    const db = new Database(file, { readonly: true });
    try {
      return db.pragma('page_size', { simple: true }) as number;
    } finally {
      db.close();
    }
  };

  it('creates a new store with 8 KB pages and keeps an older store’s 4 KB ones', async () => {
    const fresh = join(directory.path, 'fresh.sqlite');
    store = new SqliteStore(fresh, { checkpointIntervalMs: 0, mmapBytes: 0 });
    store.writeRows([row()]);
    expect(pageSize(fresh)).toBe(8_192);
    await store.close();

    const older = join(directory.path, 'older.sqlite');
    const db = new Database(older);
    db.pragma('page_size = 4096');
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    db.close();
    store = new SqliteStore(older, { checkpointIntervalMs: 0, mmapBytes: 0 });
    store.writeRows([row()]);
    expect(store.getRecord(TENANT, ID)?.id).toBe(ID);
    expect(pageSize(older)).toBe(4_096);
  });

  it('cuts its WAL back to the limit at the first write after a checkpoint', async () => {
    const file = join(directory.path, 'memories.sqlite');
    // The worker's timer never fires during the test: the checkpoint below is the only one.
    store = new SqliteStore(file, { checkpointIntervalMs: 3_600_000, mmapBytes: 0 });
    const opened = store;
    await expectWalCutAfterCheckpoint(file, WAL_SIZE_LIMIT, {
      fill: () => {
        for (let from = 0; from < 6_000; from += 500) opened.writeRows(rows(from, 500));
      },
      writeOnce: () => opened.writeRows(rows(6_000, 1)),
    });
    expect(store.getRecord(TENANT, rows(6_000, 1)[0]?.id as string)?.text).toBe(
      'the deploy key rotates monthly',
    );
  });
});
