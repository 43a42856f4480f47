import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { MemoryRecord } from '@membus/contracts';
import Database from 'better-sqlite3';

/** One stored memory as the in-memory index needs it at load time (no text). */
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
  /** JSON `{ categories, tags, metadata }`. */
  labels: string;
  vector: Buffer;
}

/** A row to write; `record` is the full record JSON, `text` and `keys` go to the keyword index. */
export interface RowToWrite extends Omit<StoredRow, 'vector'> {
  record: string;
  vector: Buffer;
  text: string;
  keys: string;
}

/** A keyword match: the memory's slot and its BM25 score (higher is better). */
export interface KeywordRow {
  slot: number;
  score: number;
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
  PRIMARY KEY (tenant, id)
);
-- Keyword leg of hybrid search: BM25 over the text; rowid = slot. The keys column holds hashed
-- tokens of tenant, scope, owners, namespace and kind, so filters narrow the match inside FTS5
-- (weight 0 in bm25). '_' keeps identifiers like ERR_CONNECTION_REFUSED whole.
CREATE VIRTUAL TABLE IF NOT EXISTS memories_fts USING fts5(
  text, keys, tokenize = "porter unicode61 tokenchars '_'"
);
`;

const columns =
  'tenant, id, slot, seq, scope, user_id, agent_id, session_id, namespace, kind, tier, created_at, updated_at, expires_at, dedup_key, labels, record, vector';

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
    // A keyword index of an older layout is rebuilt by the caller (see needsKeywordRebuild).
    const existing = this.db
      .prepare("SELECT sql FROM sqlite_master WHERE name = 'memories_fts'")
      .pluck()
      .get() as string | undefined;
    if (existing !== undefined && !existing.includes('keys'))
      this.db.exec('DROP TABLE memories_fts');
    this.db.exec(schema);
    const db = this.db;
    this.statements = {
      getSetting: db.prepare<[string], { value: string }>(
        'SELECT value FROM settings WHERE key = ?',
      ),
      putSetting: db.prepare<[string, string]>(
        'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      ),
      upsert: db.prepare<Omit<RowToWrite, 'text' | 'keys'>>(
        `INSERT INTO memories (${columns}) VALUES (@tenant, @id, @slot, @seq, @scope, @user_id, @agent_id, @session_id, @namespace, @kind, @tier, @created_at, @updated_at, @expires_at, @dedup_key, @labels, @record, @vector)
         ON CONFLICT(tenant, id) DO UPDATE SET slot = excluded.slot, seq = excluded.seq, scope = excluded.scope,
           user_id = excluded.user_id, agent_id = excluded.agent_id, session_id = excluded.session_id,
           namespace = excluded.namespace, kind = excluded.kind, tier = excluded.tier,
           created_at = excluded.created_at, updated_at = excluded.updated_at, expires_at = excluded.expires_at,
           dedup_key = excluded.dedup_key, labels = excluded.labels, record = excluded.record, vector = excluded.vector`,
      ),
      getRecord: db
        .prepare<[string, string], string>(
          'SELECT record FROM memories WHERE tenant = ? AND id = ?',
        )
        .pluck(),
      deleteRow: db
        .prepare<[string, string], number>(
          'DELETE FROM memories WHERE tenant = ? AND id = ? RETURNING slot',
        )
        .pluck(),
      updateRecord: db.prepare<[string, string, string]>(
        'UPDATE memories SET record = ? WHERE tenant = ? AND id = ?',
      ),
      maxSeq: db.prepare<[], number | null>('SELECT max(seq) FROM memories').pluck(),
      ftsDelete: db.prepare<[number]>('DELETE FROM memories_fts WHERE rowid = ?'),
      ftsInsert: db.prepare<[number, string, string]>(
        'INSERT INTO memories_fts (rowid, text, keys) VALUES (?, ?, ?)',
      ),
      ftsCount: db.prepare<[], number>('SELECT count(*) FROM memories_fts').pluck(),
      rowCount: db.prepare<[], number>('SELECT count(*) FROM memories').pluck(),
      ftsSearch: db.prepare<[string, number, number], KeywordRow>(
        'SELECT rowid AS slot, -bm25(memories_fts, 1.0, 0.0) AS score FROM memories_fts WHERE memories_fts MATCH ? ORDER BY bm25(memories_fts, 1.0, 0.0) LIMIT ? OFFSET ?',
      ),
      loadAll: db.prepare<[], StoredRow>(
        'SELECT tenant, id, slot, seq, scope, user_id, agent_id, session_id, namespace, kind, tier, created_at, updated_at, expires_at, dedup_key, labels, vector FROM memories',
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
      for (const { text, keys, ...row } of rows) {
        this.statements.upsert.run(row);
        this.statements.ftsDelete.run(row.slot);
        this.statements.ftsInsert.run(row.slot, text, keys);
      }
    });
  }

  /** True when memories exist but the keyword index is empty (new layout, or a new store). */
  needsKeywordRebuild(): boolean {
    return this.statements.ftsCount.get() === 0 && (this.statements.rowCount.get() ?? 0) > 0;
  }

  /** Re-creates the keyword rows from the stored records, in one transaction. */
  rebuildKeywords(keysOf: (row: StoredRow, record: MemoryRecord) => string): void {
    this.transaction(() => {
      for (const row of this.statements.loadAll.all()) {
        const record = this.getRecord(row.tenant, row.id);
        if (record !== undefined)
          this.statements.ftsInsert.run(row.slot, record.text, keysOf(row, record));
      }
    });
  }

  /** One page of BM25 matches of an FTS5 expression, best first. */
  keywordPage(match: string, limit: number, offset: number): KeywordRow[] {
    return this.statements.ftsSearch.all(match, limit, offset);
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
        this.statements.ftsDelete.run(slot);
      }
    });
    return deleted;
  }

  getRecord(tenant: string, id: string): MemoryRecord | undefined {
    const json = this.statements.getRecord.get(tenant, id);
    // Our own rows, written from validated records by `writeRows`.
    return json === undefined ? undefined : (JSON.parse(json) as MemoryRecord);
  }

  /** Reads, changes and writes records in one transaction. */
  updateRecords(
    tenant: string,
    ids: Iterable<string>,
    change: (record: MemoryRecord) => MemoryRecord,
  ): void {
    this.transaction(() => {
      for (const id of ids) {
        const record = this.getRecord(tenant, id);
        if (record === undefined) continue;
        this.statements.updateRecord.run(JSON.stringify(change(record)), tenant, id);
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
