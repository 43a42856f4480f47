import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { MemoryRecord } from '@membus/contracts';
import Database from 'better-sqlite3';

/** One stored memory as the in-memory index needs it at load time. */
export interface StoredRow {
  tenant: string;
  id: string;
  slot: number;
  seq: number;
  scope: string;
  user_id: string | null;
  agent_id: string | null;
  session_id: string | null;
  namespace: string | null;
  kind: string;
  tier: string;
  created_at: number;
  updated_at: number;
  expires_at: number | null;
  dedup_key: string | null;
  /** The record's importance (a ranking input kept in memory). */
  importance: number;
  /** JSON `{ categories, tags, metadata }`. */
  labels: string;
  vector: Buffer;
  /** The memory's text, for the in-memory keyword index. */
  text: string;
}

/**
 * A row to write; `record` is the full record JSON. The access statistics live in their own
 * columns (`recordAccess` bumps them without rewriting the JSON) and override the JSON's on read.
 */
export interface RowToWrite extends Omit<StoredRow, 'vector' | 'text'> {
  record: string;
  vector: Buffer;
  access_count: number;
  /** ms since epoch. */
  last_accessed_at: number | null;
}

const schema = `
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS memories (
  tenant TEXT NOT NULL,
  id TEXT NOT NULL,
  slot INTEGER NOT NULL UNIQUE,
  seq INTEGER NOT NULL,
  scope TEXT NOT NULL,
  user_id TEXT,
  agent_id TEXT,
  session_id TEXT,
  namespace TEXT,
  kind TEXT NOT NULL,
  tier TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  expires_at INTEGER,
  dedup_key TEXT,
  labels TEXT NOT NULL,
  record TEXT NOT NULL,
  vector BLOB NOT NULL,
  importance REAL NOT NULL DEFAULT 0.5,
  access_count INTEGER NOT NULL DEFAULT 0,
  last_accessed_at INTEGER,
  PRIMARY KEY (tenant, id)
);
`;

/** Columns added after the first release, with how to fill them in from the record JSON. */
const addedColumns = [
  {
    name: 'importance',
    definition: 'REAL NOT NULL DEFAULT 0.5',
    backfill: "coalesce(json_extract(record, '$.importance'), 0.5)",
  },
  {
    name: 'access_count',
    definition: 'INTEGER NOT NULL DEFAULT 0',
    backfill: "coalesce(json_extract(record, '$.accessCount'), 0)",
  },
  {
    name: 'last_accessed_at',
    definition: 'INTEGER',
    backfill:
      "CAST(round(unixepoch(json_extract(record, '$.lastAccessedAt'), 'subsec') * 1000) AS INTEGER)",
  },
] as const;

const columns =
  'tenant, id, slot, seq, scope, user_id, agent_id, session_id, namespace, kind, tier, created_at, updated_at, expires_at, dedup_key, importance, labels, record, vector, access_count, last_accessed_at';

/**
 * The durable source of truth: one SQLite row per memory, written in one transaction per batch.
 * WAL with `synchronous=NORMAL`; auto-checkpoints are off because they stall writers for
 * 10–20 ms, and a worker thread checkpoints passively instead.
 */
export class SqliteStore {
  private readonly db: Database.Database;
  private readonly statements;
  private checkpointer: Worker | undefined;

  constructor(
    readonly file: string,
    options: { checkpointIntervalMs: number; mmapBytes: number },
  ) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma(`mmap_size = ${Math.floor(options.mmapBytes)}`);
    this.db.pragma('busy_timeout = 5000');
    if (options.checkpointIntervalMs > 0) {
      this.db.pragma('wal_autocheckpoint = 0');
      this.checkpointer = startCheckpointer(file, options.checkpointIntervalMs);
    }
    this.db.exec(schema);
    this.migrate();
    // Stores written before the keyword index moved into memory kept an FTS5 copy of every text.
    this.db.exec('DROP TABLE IF EXISTS memories_fts');
    const db = this.db;
    this.statements = {
      getSetting: db.prepare<[string], { value: string }>(
        'SELECT value FROM settings WHERE key = ?',
      ),
      putSetting: db.prepare<[string, string]>(
        'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      ),
      upsert: db.prepare<RowToWrite>(
        `INSERT INTO memories (${columns}) VALUES (@tenant, @id, @slot, @seq, @scope, @user_id, @agent_id, @session_id, @namespace, @kind, @tier, @created_at, @updated_at, @expires_at, @dedup_key, @importance, @labels, @record, @vector, @access_count, @last_accessed_at)
         ON CONFLICT(tenant, id) DO UPDATE SET slot = excluded.slot, seq = excluded.seq, scope = excluded.scope,
           user_id = excluded.user_id, agent_id = excluded.agent_id, session_id = excluded.session_id,
           namespace = excluded.namespace, kind = excluded.kind, tier = excluded.tier,
           created_at = excluded.created_at, updated_at = excluded.updated_at, expires_at = excluded.expires_at,
           dedup_key = excluded.dedup_key, importance = excluded.importance, labels = excluded.labels,
           record = excluded.record, vector = excluded.vector, access_count = excluded.access_count,
           last_accessed_at = excluded.last_accessed_at`,
      ),
      getRecord: db.prepare<
        [string, string],
        { record: string; access_count: number; last_accessed_at: number | null }
      >('SELECT record, access_count, last_accessed_at FROM memories WHERE tenant = ? AND id = ?'),
      deleteRow: db
        .prepare<[string, string], number>(
          'DELETE FROM memories WHERE tenant = ? AND id = ? RETURNING slot',
        )
        .pluck(),
      recordAccess: db.prepare<[number, number, string, string]>(
        'UPDATE memories SET access_count = access_count + ?, last_accessed_at = max(coalesce(last_accessed_at, 0), ?) WHERE tenant = ? AND id = ?',
      ),
      maxSeq: db.prepare<[], number | null>('SELECT max(seq) FROM memories').pluck(),
      loadAll: db.prepare<[], StoredRow>(
        "SELECT tenant, id, slot, seq, scope, user_id, agent_id, session_id, namespace, kind, tier, created_at, updated_at, expires_at, dedup_key, importance, labels, vector, json_extract(record, '$.text') AS text FROM memories",
      ),
    };
  }

  getSetting(key: string): string | undefined {
    return this.statements.getSetting.get(key)?.value;
  }

  putSetting(key: string, value: string): void {
    this.statements.putSetting.run(key, value);
  }

  maxSeq(): number {
    return this.statements.maxSeq.get() ?? 0;
  }

  /** Every row, streamed, for loading the in-memory index. */
  loadAll(): IterableIterator<StoredRow> {
    return this.statements.loadAll.iterate();
  }

  writeRows(rows: readonly RowToWrite[]): void {
    this.transaction(() => {
      for (const row of rows) this.statements.upsert.run(row);
    });
  }

  /** Deletes rows; returns the slots of those that existed, by id. */
  deleteRows(tenant: string, ids: readonly string[]): Map<string, number> {
    const deleted = new Map<string, number>();
    this.transaction(() => {
      for (const id of ids) {
        if (deleted.has(id)) continue;
        const slot = this.statements.deleteRow.get(tenant, id);
        if (slot === undefined) continue;
        deleted.set(id, slot);
      }
    });
    return deleted;
  }

  getRecord(tenant: string, id: string): MemoryRecord | undefined {
    const row = this.statements.getRecord.get(tenant, id);
    if (row === undefined) return undefined;
    // Our own rows, written from validated records by `writeRows`.
    const record = JSON.parse(row.record) as MemoryRecord;
    record.accessCount = row.access_count;
    if (row.last_accessed_at !== null)
      record.lastAccessedAt = new Date(row.last_accessed_at).toISOString();
    return record;
  }

  /**
   * Adds to access counts and moves `lastAccessedAt` forward (never back), in one transaction:
   * two integer columns per memory, no record rewrite. Unknown ids are skipped.
   */
  recordAccess(tenant: string, accesses: ReadonlyMap<string, { count: number; at: number }>): void {
    this.transaction(() => {
      for (const [id, { count, at }] of accesses)
        this.statements.recordAccess.run(count, Math.floor(at), tenant, id);
    });
  }

  /** Adds the columns of later versions to a store created before them, filled from the JSON. */
  private migrate(): void {
    const existing = new Set(
      this.db
        .prepare<[], { name: string }>("SELECT name FROM pragma_table_info('memories')")
        .all()
        .map((column) => column.name),
    );
    const missing = addedColumns.filter((column) => !existing.has(column.name));
    if (missing.length === 0) return;
    this.transaction(() => {
      for (const column of missing) {
        this.db.exec(`ALTER TABLE memories ADD COLUMN ${column.name} ${column.definition}`);
        this.db.exec(`UPDATE memories SET ${column.name} = ${column.backfill}`);
      }
    });
  }

  transaction(work: () => void): void {
    this.db.transaction(work)();
  }

  async close(): Promise<void> {
    const checkpointer = this.checkpointer;
    this.checkpointer = undefined;
    if (checkpointer !== undefined) {
      // Referenced again so the process waits for the worker to close its connection.
      checkpointer.ref();
      const exited = new Promise<void>((resolve) => checkpointer.once('exit', () => resolve()));
      checkpointer.postMessage('close');
      await exited;
    }
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.db.close();
  }
}

const checkpointerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
}, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'close') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

function startCheckpointer(file: string, intervalMs: number): Worker {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(checkpointerSource, {
    eval: true,
    workerData: { file, driver, intervalMs },
  });
  worker.unref();
  return worker;
}
