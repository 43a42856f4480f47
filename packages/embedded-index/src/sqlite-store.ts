import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { CALLER_MODEL, type MemoryRecord } from '@membus/contracts';
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
 * table (`recordAccess` bumps them without touching the memory's row) and override the JSON's
 * on read.
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

const slotOfSql = 'SELECT slot FROM memories WHERE tenant = ? AND id = ?';

/**
 * `recordAccessSql` for a memory whose slot was looked up earlier: written only if the slot
 * still holds it (it may have been deleted, and the slot reused, since).
 */
const recordAccessBySlotSql = `INSERT INTO memory_access (slot, access_count, last_accessed_at)
  SELECT slot, ?, ? FROM memories WHERE slot = ? AND tenant = ? AND id = ?
  ON CONFLICT(slot) DO UPDATE SET access_count = access_count + excluded.access_count,
    last_accessed_at = max(coalesce(last_accessed_at, 0), excluded.last_accessed_at)`;

const columns =
  'tenant, id, slot, seq, scope, user_id, agent_id, session_id, namespace, kind, tier, created_at, updated_at, expires_at, dedup_key, importance, labels, record, vector';

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
      // The first statements read the file: a damaged one fails here (SQLITE_NOTADB, _CORRUPT).
      this.db.pragma('journal_mode = WAL');
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
      maxSeq: db.prepare<[], number | null>('SELECT max(seq) FROM memories').pluck(),
      loadAll: db.prepare<[], StoredRow>(
        "SELECT tenant, id, slot, seq, scope, user_id, agent_id, session_id, namespace, kind, tier, created_at, updated_at, expires_at, dedup_key, importance, labels, vector, json_extract(record, '$.text') AS text FROM memories",
      ),
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

  maxSeq(): number {
    return this.statements.maxSeq.get() ?? 0;
  }

  /** Every row, streamed, for loading the in-memory index. */
  loadAll(): IterableIterator<StoredRow> {
    return this.statements.loadAll.iterate();
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
   * transactions, pausing between steps (see `backgroundSource`). This thread only hands them
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

/** Access entries per write transaction (~0.5 ms of write lock; larger ones saved little). */
const ACCESS_TRANSACTION = 32;
/**
 * The background worker pauses this many times as long as a transaction took before the next:
 * it uses at most a fifth of a core for access statistics, and a flush spreads over a part of
 * the interval instead of taking a core at once.
 */
const ACCESS_PAUSE_FACTOR = 4;

/** One memory's accesses since the last write: id, count to add, last access (ms). */
type AccessEntry = [id: string, count: number, at: number];

type ToWorker =
  | { type: 'access'; seq: number; tenant: string; entries: AccessEntry[] }
  | { type: 'close' };
type FromWorker = { type: 'done'; seq: number; error?: string };

const backgroundSource = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
const slotOf = db.prepare(workerData.slotOfSql).pluck();
const bump = db.prepare(workerData.recordAccessBySlotSql);
const writeAccess = db.transaction((tenant, entries) => {
  for (const [slot, id, count, at] of entries) bump.run(count, at, slot, tenant, id);
});
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
}, workerData.intervalMs);
// Access flushes, in steps of accessTransaction entries: first each memory's slot is looked up,
// then, ordered by slot, the counts are written, a transaction per step. Each step is followed
// by a pause accessPauseFactor times as long as it took: a flush done in one go kept a core
// busy for ~20 ms every second, and the queries running then waited for it.
const queue = [];
let pumping = false;
function step() {
  const job = queue[0];
  const started = performance.now();
  try {
    const end = job.next + workerData.accessTransaction;
    if (job.resolving) {
      for (const [id, count, at] of job.entries.slice(job.next, end)) {
        const slot = slotOf.get(job.tenant, id);
        if (slot !== undefined) job.found.push([slot, id, count, at]);
      }
      job.next = end;
      if (job.next >= job.entries.length) {
        job.found.sort((a, b) => a[0] - b[0]);
        job.resolving = false;
        job.next = 0;
      }
    } else {
      writeAccess.immediate(job.tenant, job.found.slice(job.next, end));
      job.next = end;
    }
    if (!job.resolving && job.next >= job.found.length) {
      queue.shift();
      parentPort.postMessage({ type: 'done', seq: job.seq });
    }
  } catch (error) {
    queue.shift();
    parentPort.postMessage({ type: 'done', seq: job.seq, error: String(error && error.message || error) });
  }
  return performance.now() - started;
}
function pump() {
  if (queue.length === 0) {
    pumping = false;
    return;
  }
  const took = step();
  setTimeout(pump, Math.max(1, took * workerData.accessPauseFactor));
}
parentPort.on('message', (message) => {
  if (message.type === 'access') {
    const { seq, tenant, entries } = message;
    queue.push({ seq, tenant, entries, resolving: true, next: 0, found: [] });
    if (!pumping) {
      pumping = true;
      setImmediate(pump);
    }
    return;
  }
  if (message.type !== 'close') return;
  // What was handed over is written before the connection closes (without pauses).
  while (queue.length > 0) step();
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/**
 * A worker thread with its own connection to the store: passive checkpoints on a timer and
 * access-statistics writes on request, answered in order. It keeps the process alive only
 * while a write is outstanding. If it dies, outstanding writes fail and `onGone` runs.
 */
class BackgroundWriter {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private nextSeq = 0;
  private closing = false;
  private readonly exited: Promise<void>;

  constructor(file: string, intervalMs: number, onGone: () => void) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(backgroundSource, {
      eval: true,
      workerData: {
        file,
        driver,
        intervalMs,
        slotOfSql,
        recordAccessBySlotSql,
        accessTransaction: ACCESS_TRANSACTION,
        accessPauseFactor: ACCESS_PAUSE_FACTOR,
      },
    });
    this.worker.unref();
    this.worker.on('message', (message: FromWorker) => {
      const waiter = this.waiting.get(message.seq);
      if (waiter === undefined) return;
      this.waiting.delete(message.seq);
      if (this.waiting.size === 0) this.worker.unref();
      if (message.error === undefined) waiter.resolve();
      else waiter.reject(new Error(message.error));
    });
    let failure: Error | undefined;
    this.worker.on('error', (error) => {
      failure = error;
    });
    this.exited = new Promise<void>((resolve) => {
      this.worker.once('exit', (code) => {
        const reason = failure ?? new Error(`store worker exited with code ${code}`);
        for (const waiter of this.waiting.values()) waiter.reject(reason);
        this.waiting.clear();
        if (!this.closing) onGone();
        resolve();
      });
    });
  }

  recordAccess(tenant: string, entries: AccessEntry[]): Promise<void> {
    const seq = this.nextSeq++;
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(seq, { resolve, reject });
      this.worker.ref();
      this.post({ type: 'access', seq, tenant, entries });
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    // Referenced again so the process waits for the worker to close its connection.
    this.worker.ref();
    this.post({ type: 'close' });
    await this.exited;
  }

  private post(message: ToWorker): void {
    this.worker.postMessage(message);
  }
}
