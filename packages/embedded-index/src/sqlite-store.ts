import { CALLER_MODEL, type MemoryRecord } from '@membus/contracts';
import Database from 'better-sqlite3';
import { BackgroundWriter } from './background-writer.ts';
import { ACCESS_TRANSACTION, type AccessEntry, WAL_SIZE_LIMIT } from './store-access.ts';

/** A stored memory's payload columns (what the slot table and payload index hold). */
export interface PayloadRow {
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
}

/** What the arena and the keyword index are built from at load time. */
export interface DerivedRow {
  slot: number;
  vector: Buffer;
  /** The memory's text, for the in-memory keyword index. */
  text: string;
  /** The memory's keyword-only context (null when it has none), for the same index. */
  context: string | null;
}

/** One stored memory as the in-memory index needs it at load time. */
export type StoredRow = PayloadRow & DerivedRow;

/**
 * A row to write; `record` is the full record JSON. The access statistics live in their own
 * table (`recordAccess` bumps them without touching the memory's row) and override the JSON's
 * on read.
 */
export interface RowToWrite extends Omit<StoredRow, 'vector' | 'text' | 'context'> {
  record: string;
  vector: Buffer;
  access_count: number;
  /** ms since epoch. */
  last_accessed_at: number | null;
}

const PAYLOAD_COLUMNS =
  'tenant, id, slot, seq, scope, user_id, agent_id, session_id, namespace, kind, tier, created_at, updated_at, expires_at, dedup_key, importance, labels';
const DERIVED_COLUMNS =
  "vector, json_extract(record, '$.text') AS text, json_extract(record, '$.context') AS context";

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
  PRIMARY KEY (tenant, id)
);
`;

/**
 * Access statistics by the memory's slot, apart from its ~2.5 KB row: bumping them there dirtied
 * one page of the big table per memory (~80 µs with the checkpoint that copies it back), here
 * ~150 rows share a page (~10 µs). A row exists only for a memory that was accessed. Created by
 * `migrate`, in the transaction that fills it from where an older store kept the statistics.
 */
const accessTable = `CREATE TABLE memory_access (
  slot INTEGER PRIMARY KEY,
  access_count INTEGER NOT NULL,
  last_accessed_at INTEGER
)`;

/** Columns added after the first release, with how to fill them in from the record JSON. */
const addedColumns = [
  {
    name: 'importance',
    definition: 'REAL NOT NULL DEFAULT 0.5',
    backfill: "coalesce(json_extract(record, '$.importance'), 0.5)",
  },
] as const;

/**
 * Where a store kept access statistics before `memory_access`: in columns of `memories` (the
 * previous version) or only in the record JSON (the one before). Copied once, when the table is new.
 */
const accessFromColumns =
  'INSERT INTO memory_access (slot, access_count, last_accessed_at) SELECT slot, access_count, last_accessed_at FROM memories WHERE access_count > 0 OR last_accessed_at IS NOT NULL';
const accessFromJson = `INSERT INTO memory_access (slot, access_count, last_accessed_at)
  SELECT slot, coalesce(json_extract(record, '$.accessCount'), 0),
    CAST(round(unixepoch(json_extract(record, '$.lastAccessedAt'), 'subsec') * 1000) AS INTEGER)
  FROM memories
  WHERE coalesce(json_extract(record, '$.accessCount'), 0) > 0 OR json_extract(record, '$.lastAccessedAt') IS NOT NULL`;

/** Parameters: count to add, access time (ms), tenant, id. An unknown id writes nothing. */
const recordAccessSql = `INSERT INTO memory_access (slot, access_count, last_accessed_at)
  SELECT slot, ?, ? FROM memories WHERE tenant = ? AND id = ?
  ON CONFLICT(slot) DO UPDATE SET access_count = access_count + excluded.access_count,
    last_accessed_at = max(coalesce(last_accessed_at, 0), excluded.last_accessed_at)`;

const columns =
  'tenant, id, slot, seq, scope, user_id, agent_id, session_id, namespace, kind, tier, created_at, updated_at, expires_at, dedup_key, importance, labels, record, vector';

/**
 * Page size of a new store. A row is ~2.3 KB (its float32 vector is 1.5 KB at 384 dimensions),
 * so 4 KB pages held one each and 42 % of the file was unused; 8 KB pages hold three (100k
 * memories: 399 → 268 MB, inserts and point reads no slower). A store created with 4 KB pages
 * keeps them (WAL mode cannot change it).
 */
const PAGE_SIZE = 8_192;

/**
 * The durable source of truth: one SQLite row per memory, written in one transaction per batch.
 * WAL with `synchronous=NORMAL`; auto-checkpoints are off because they stall writers for
 * 10–20 ms. A background worker thread with its own connection checkpoints passively and
 * writes the access statistics, so neither runs on the event loop that answers queries.
 */
export class SqliteStore {
  private readonly db: Database.Database;
  private readonly statements;
  private background: BackgroundWriter | undefined;

  constructor(
    readonly file: string,
    options: { checkpointIntervalMs: number; mmapBytes: number },
  ) {
    this.db = new Database(file);
    try {
      // Only takes effect on a new, empty file (before WAL mode writes its first page).
      this.db.pragma(`page_size = ${PAGE_SIZE}`);
      // The first statements read the file: a damaged one fails here (SQLITE_NOTADB, _CORRUPT).
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma(`mmap_size = ${Math.floor(options.mmapBytes)}`);
      this.db.pragma('busy_timeout = 5000');
      this.db.exec(schema);
      this.migrate();
      // Stores written before the keyword index moved into memory kept an FTS5 copy of every text.
      this.db.exec('DROP TABLE IF EXISTS memories_fts');
    } catch (error) {
      this.db.close();
      throw error;
    }
    const db = this.db;
    this.statements = {
      getSetting: db.prepare<[string], { value: string }>(
        'SELECT value FROM settings WHERE key = ?',
      ),
      putSetting: db.prepare<[string, string]>(
        'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      ),
      upsert: db.prepare<Omit<RowToWrite, 'access_count' | 'last_accessed_at'>>(
        `INSERT INTO memories (${columns}) VALUES (@tenant, @id, @slot, @seq, @scope, @user_id, @agent_id, @session_id, @namespace, @kind, @tier, @created_at, @updated_at, @expires_at, @dedup_key, @importance, @labels, @record, @vector)
         ON CONFLICT(tenant, id) DO UPDATE SET slot = excluded.slot, seq = excluded.seq, scope = excluded.scope,
           user_id = excluded.user_id, agent_id = excluded.agent_id, session_id = excluded.session_id,
           namespace = excluded.namespace, kind = excluded.kind, tier = excluded.tier,
           created_at = excluded.created_at, updated_at = excluded.updated_at, expires_at = excluded.expires_at,
           dedup_key = excluded.dedup_key, importance = excluded.importance, labels = excluded.labels,
           record = excluded.record, vector = excluded.vector`,
      ),
      setAccess: db.prepare<{
        slot: number;
        access_count: number;
        last_accessed_at: number | null;
      }>(
        `INSERT INTO memory_access (slot, access_count, last_accessed_at) VALUES (@slot, @access_count, @last_accessed_at)
         ON CONFLICT(slot) DO UPDATE SET access_count = excluded.access_count, last_accessed_at = excluded.last_accessed_at`,
      ),
      clearAccess: db.prepare<[number]>('DELETE FROM memory_access WHERE slot = ?'),
      getRecord: db.prepare<
        [string, string],
        { record: string; access_count: number | null; last_accessed_at: number | null }
      >(
        'SELECT m.record, a.access_count, a.last_accessed_at FROM memories m LEFT JOIN memory_access a ON a.slot = m.slot WHERE m.tenant = ? AND m.id = ?',
      ),
      deleteRow: db
        .prepare<[string, string], number>(
          'DELETE FROM memories WHERE tenant = ? AND id = ? RETURNING slot',
        )
        .pluck(),
      recordAccess: db.prepare<[number, number, string, string]>(recordAccessSql),
      vectorOf: db.prepare<[number], Buffer>('SELECT vector FROM memories WHERE slot = ?').pluck(),
      loadAll: db.prepare<[], StoredRow>(
        `SELECT ${PAYLOAD_COLUMNS}, ${DERIVED_COLUMNS} FROM memories`,
      ),
      loadPayloads: db.prepare<[], PayloadRow>(`SELECT ${PAYLOAD_COLUMNS} FROM memories`),
      loadDerived: db.prepare<[], DerivedRow>(`SELECT slot, ${DERIVED_COLUMNS} FROM memories`),
      deleteSetting: db.prepare<[string]>('DELETE FROM settings WHERE key = ?'),
    };
    if (options.checkpointIntervalMs > 0) {
      this.db.pragma('wal_autocheckpoint = 0');
      this.background = new BackgroundWriter(file, options.checkpointIntervalMs, () => {
        // The worker is gone: checkpoint and write access statistics on this thread again.
        this.background = undefined;
        this.db.pragma('wal_autocheckpoint = 1000');
      });
    }
  }

  /**
   * The `embeddingModel` of the most recently inserted rows (by rowid: no index on `seq` is
   * needed), skipping caller vectors; undefined when none of the last 64 names one.
   */
  newestEmbeddingModel(): string | undefined {
    const models = this.db
      .prepare<[], string | null>(
        "SELECT json_extract(record, '$.embeddingModel') FROM memories ORDER BY rowid DESC LIMIT 64",
      )
      .pluck()
      .all();
    return models.find((model): model is string => model !== null && model !== CALLER_MODEL);
  }

  getSetting(key: string): string | undefined {
    return this.statements.getSetting.get(key)?.value;
  }

  putSetting(key: string, value: string): void {
    this.statements.putSetting.run(key, value);
  }

  /** The float32 vector stored in a slot (undefined when no memory holds it). */
  vectorOf(slot: number): Buffer | undefined {
    return this.statements.vectorOf.get(slot);
  }

  /** Every row, streamed, for loading the in-memory index. */
  loadAll(): IterableIterator<StoredRow> {
    return this.statements.loadAll.iterate();
  }

  /** Every row's payload columns (a restart that restores the rest from a snapshot). */
  loadPayloads(): IterableIterator<PayloadRow> {
    return this.statements.loadPayloads.iterate();
  }

  /** Every row's vector and texts (a snapshot that did not match: the rest built again). */
  loadDerived(): IterableIterator<DerivedRow> {
    return this.statements.loadDerived.iterate();
  }

  deleteSetting(key: string): void {
    this.statements.deleteSetting.run(key);
  }

  writeRows(rows: readonly RowToWrite[]): void {
    const { upsert, setAccess, clearAccess } = this.statements;
    this.transaction(() => {
      for (const row of rows) {
        const { access_count, last_accessed_at, ...memory } = row;
        upsert.run(memory);
        // A slot freed by a delete is reused: a memory never accessed has no access row.
        if (access_count > 0 || last_accessed_at !== null)
          setAccess.run({ slot: row.slot, access_count, last_accessed_at });
        else clearAccess.run(row.slot);
      }
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
        this.statements.clearAccess.run(slot);
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
    record.accessCount = row.access_count ?? 0;
    if (row.last_accessed_at !== null)
      record.lastAccessedAt = new Date(row.last_accessed_at).toISOString();
    else delete record.lastAccessedAt;
    return record;
  }

  /**
   * Adds to access counts and moves `lastAccessedAt` forward (never back); unknown ids are
   * skipped. On the background worker when there is one: it finds each memory's slot, orders
   * the accesses by slot so that neighbours share pages (in random order each access dirtied a
   * page of its own: ~60 µs with its checkpoint, ~4 times as much), and writes them in short
   * transactions, pausing between steps (see `store-worker.ts`). This thread only hands them
   * over: looking slots up here cost the event loop ~5 µs an access, 5–10 ms a flush. Without
   * the worker, they are written here in short transactions, yielding to the event loop between
   * them so that queries are not held up behind a flush.
   */
  async recordAccess(
    tenant: string,
    accesses: ReadonlyMap<string, { count: number; at: number }>,
  ): Promise<void> {
    const entries: AccessEntry[] = [];
    for (const [id, { count, at }] of accesses) entries.push([id, count, Math.floor(at)]);
    if (entries.length === 0) return;
    if (this.background !== undefined) return this.background.recordAccess(tenant, entries);
    for (let start = 0; start < entries.length; start += ACCESS_TRANSACTION) {
      if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      this.transaction(() => {
        for (const [id, count, at] of entries.slice(start, start + ACCESS_TRANSACTION))
          this.statements.recordAccess.run(count, at, tenant, id);
      });
    }
  }

  /**
   * Brings a store created by an earlier version up to this one, in one transaction: adds later
   * columns, filled from the JSON, and creates `memory_access` filled from where the statistics
   * were kept. (The old `access_count` and `last_accessed_at` columns stay, unused: dropping
   * them would rewrite the whole table.)
   */
  private migrate(): void {
    const existing = new Set(
      this.db
        .prepare<[], { name: string }>("SELECT name FROM pragma_table_info('memories')")
        .all()
        .map((column) => column.name),
    );
    const missing = addedColumns.filter((column) => !existing.has(column.name));
    const hasAccessTable =
      this.db
        .prepare<[], number>(
          "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'memory_access'",
        )
        .pluck()
        .get() === 1;
    if (missing.length === 0 && hasAccessTable) return;
    this.transaction(() => {
      for (const column of missing) {
        this.db.exec(`ALTER TABLE memories ADD COLUMN ${column.name} ${column.definition}`);
        this.db.exec(`UPDATE memories SET ${column.name} = ${column.backfill}`);
      }
      if (!hasAccessTable) {
        this.db.exec(accessTable);
        this.db.exec(existing.has('access_count') ? accessFromColumns : accessFromJson);
      }
    });
  }

  /**
   * BEGIN IMMEDIATE: takes the write lock up front (waiting on the background worker's short
   * transactions through `busy_timeout`) rather than failing at the first write of a deferred one.
   */
  transaction(work: () => void): void {
    this.db.transaction(work).immediate();
  }

  async close(): Promise<void> {
    const background = this.background;
    this.background = undefined;
    // Writes already handed to the worker finish first: it handles messages in order.
    await background?.close();
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.db.close();
  }
}
