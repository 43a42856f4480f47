import type { HistoryEntry } from '@membus/contracts';
import { openSqliteFile } from '@membus/service-runtime';
import Database, { type Statement } from 'better-sqlite3';
import type { DocumentStore, StoredHistoryEntry } from '../../ports/document-store.ts';
import { groupBy, readByIds } from '../read-by-ids.ts';
import { WAL_SIZE_LIMIT, WalCheckpointer } from './wal-checkpointer.ts';

/** Store ids asked for per statement (SQLite's bound parameters are limited). */
const RECEIPTS_CHUNK = 500;

interface HistoryRow {
  memory_id: string;
  event: HistoryEntry['event'];
  at: string;
  body: string;
  store_id: string | null;
}

/**
 * The embedded DocumentStore: one SQLite file (WAL). With `checkpointIntervalMs` its WAL is
 * checkpointed by a worker thread (see wal-checkpointer.ts) instead of inside commits.
 */
export function openSqliteDocumentStore(options: {
  path: string;
  busyTimeoutMs?: number;
  /** Passive WAL checkpoints in a worker thread this often, ms; unset = SQLite's own. */
  checkpointIntervalMs?: number;
}): DocumentStore {
  // better-sqlite3 waits for a lock synchronously, blocking the event loop: wait briefly, then
  // fail with SQLITE_BUSY so the write is nak'd and retried from JetStream instead.
  const timeout = options.busyTimeoutMs ?? 100;
  const db = openSqliteFile(options.path, (path) => new Database(path, { timeout }));
  db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
  db.exec(`
    CREATE TABLE IF NOT EXISTS history (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      tenant TEXT NOT NULL,
      memory_id TEXT NOT NULL,
      event TEXT NOT NULL,
      at TEXT NOT NULL,
      store_id TEXT,
      body TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS history_memory ON history (tenant, memory_id, seq);
    CREATE UNIQUE INDEX IF NOT EXISTS history_store ON history (tenant, store_id, event) WHERE store_id IS NOT NULL;
  `);
  let checkpointer: WalCheckpointer | undefined;
  if (options.checkpointIntervalMs !== undefined && options.path !== ':memory:') {
    db.pragma('wal_autocheckpoint = 0');
    checkpointer = new WalCheckpointer(options.path, options.checkpointIntervalMs, () => {
      checkpointer = undefined;
      if (db.open) db.pragma('wal_autocheckpoint = 1000');
    });
  }
  // Every ingested batch asks for its receipts: preparing the statement each time was ~30 % of
  // that lookup (230 ms of the vector-store's main thread per 10 s at 1,000 stores/s). One
  // statement per list length, as the batches come (at most RECEIPTS_CHUNK of them).
  const receipts = new Map<number, Statement<string[], { store_id: string; memory_id: string }>>();
  const receiptsStatement = (count: number) => {
    let statement = receipts.get(count);
    if (statement === undefined) {
      statement = db.prepare<string[], { store_id: string; memory_id: string }>(
        `SELECT store_id, memory_id FROM history WHERE tenant = ? AND store_id IN (${new Array(count).fill('?').join(',')})`,
      );
      receipts.set(count, statement);
    }
    return statement;
  };
  const insert = db.prepare(
    'INSERT OR IGNORE INTO history (tenant, memory_id, event, at, store_id, body) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const select = db.prepare<[string, string], HistoryRow>(
    'SELECT memory_id, event, at, body, store_id FROM history WHERE tenant = ? AND memory_id = ? ORDER BY seq',
  );
  const appendAll = db.transaction((tenant: string, entries: readonly StoredHistoryEntry[]) => {
    for (const { storeId, memoryId, event, at, ...rest } of entries) {
      insert.run(tenant, memoryId, event, at, storeId ?? null, JSON.stringify(rest));
    }
  });

  return {
    capabilities: { name: 'sqlite' },
    async appendHistory(tenant, entries) {
      appendAll(tenant, entries);
    },
    async history(tenant, memoryId) {
      return select.all(tenant, memoryId).map(entryOf);
    },
    async histories(tenant, memoryIds) {
      const rows = await readByIds(memoryIds, 500, (chunk) =>
        db
          .prepare<string[], HistoryRow>(
            `SELECT memory_id, event, at, body, store_id FROM history WHERE tenant = ? AND memory_id IN (${chunk.map(() => '?').join(',')}) ORDER BY seq`,
          )
          .all(tenant, ...chunk),
      );
      return groupBy(rows, (row) => row.memory_id, entryOf);
    },
    async storeReceipts(tenant, storeIds) {
      const rows = await readByIds(storeIds, RECEIPTS_CHUNK, (chunk) =>
        receiptsStatement(chunk.length).all(tenant, ...chunk),
      );
      return new Map(rows.map((row) => [row.store_id, row.memory_id]));
    },
    async close() {
      await checkpointer?.close();
      db.close();
    },
  };
}

function entryOf(row: HistoryRow): StoredHistoryEntry {
  return {
    memoryId: row.memory_id,
    event: row.event,
    at: row.at,
    ...(row.store_id ? { storeId: row.store_id } : {}),
    ...(JSON.parse(row.body) as Omit<HistoryEntry, 'memoryId' | 'event' | 'at'>),
  } as StoredHistoryEntry;
}
