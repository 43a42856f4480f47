/**
 * What the store's thread and its background worker (`store-worker.ts`) share: the access
 * statistics' SQL, batch sizes and the messages between them.
 */

/** Access entries per write transaction (~0.5 ms of write lock; larger ones saved little). */
export const ACCESS_TRANSACTION = 32;

/**
 * The background worker pauses this many times as long as a transaction took before the next:
 * it uses at most a fifth of a core for access statistics, and a flush spreads over a part of
 * the interval instead of taking a core at once.
 */
export const ACCESS_PAUSE_FACTOR = 4;

/**
 * Bytes the WAL is cut back to once checkpointed (`journal_size_limit`, set on every connection
 * that writes): without it the file keeps its high-water mark, ~185 MB after 100k stores.
 */
export const WAL_SIZE_LIMIT = 16 * 2 ** 20;

/** Parameters: tenant, id. */
export const slotOfSql = 'SELECT slot FROM memories WHERE tenant = ? AND id = ?';

/**
 * Adds to a memory's access count for a memory whose slot was looked up earlier: written only
 * if the slot still holds it (it may have been deleted, and the slot reused, since).
 * Parameters: count to add, access time (ms), slot, tenant, id.
 */
export const recordAccessBySlotSql = `INSERT INTO memory_access (slot, access_count, last_accessed_at)
  SELECT slot, ?, ? FROM memories WHERE slot = ? AND tenant = ? AND id = ?
  ON CONFLICT(slot) DO UPDATE SET access_count = access_count + excluded.access_count,
    last_accessed_at = max(coalesce(last_accessed_at, 0), excluded.last_accessed_at)`;

/** One memory's accesses since the last write: id, count to add, last access (ms). */
export type AccessEntry = [id: string, count: number, at: number];

/** What the worker is started with. */
export interface StoreWorkerData {
  /** The SQLite file. */
  file: string;
  /** Passive WAL checkpoint interval, ms. */
  intervalMs: number;
}

export type ToWorker =
  | { type: 'access'; seq: number; tenant: string; entries: AccessEntry[] }
  | { type: 'close' };

export type FromWorker = { type: 'done'; seq: number; error?: string };
