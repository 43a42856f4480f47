import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { testRecord } from '@membus/vector-index/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RowToWrite, SqliteStore } from '../src/sqlite-store.ts';

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

describe('SqliteStore background worker', () => {
  let directory: string;
  let store: SqliteStore | undefined;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'membus-sqlite-store-'));
  });

  afterEach(async () => {
    await store?.close();
    store = undefined;
    await rm(directory, { recursive: true, force: true });
  });

  it('falls back to writing access on its own thread when the worker dies', async () => {
    store = new SqliteStore(join(directory, 'memories.sqlite'), {
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
    store = new SqliteStore(join(directory, 'memories.sqlite'), {
      checkpointIntervalMs: 0,
      mmapBytes: 0,
    });
    expect(store.getRecord(TENANT, ID)?.accessCount).toBe(5);
  });

  it('rejects a write handed to the worker when it dies before answering', async () => {
    store = new SqliteStore(join(directory, 'memories.sqlite'), {
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
