import { openSqliteFile } from '@membus/service-runtime';
import Database from 'better-sqlite3';
import type {
  OutcomeQuery,
  OutcomeRow,
  OutcomeStore,
  PatternMemoryState,
} from '../../ports/outcome-store.ts';

interface StoredRow {
  body: string;
}

/** The embedded OutcomeStore: one SQLite file (WAL). */
export function openSqliteOutcomeStore(options: { path: string }): OutcomeStore {
  const db = openSqliteFile(options.path, (path) => new Database(path));
  db.exec(`
    CREATE TABLE IF NOT EXISTS outcomes (
      tenant TEXT NOT NULL,
      id TEXT NOT NULL,
      namespace TEXT NOT NULL,
      task_type TEXT NOT NULL,
      success INTEGER NOT NULL,
      occurred_at_ms INTEGER NOT NULL,
      body TEXT NOT NULL,
      PRIMARY KEY (tenant, id)
    );
    CREATE INDEX IF NOT EXISTS outcomes_key ON outcomes (tenant, task_type, namespace, occurred_at_ms);
    CREATE TABLE IF NOT EXISTS pattern_memories (
      tenant TEXT NOT NULL,
      pattern_id TEXT NOT NULL,
      digest TEXT NOT NULL,
      sent_at TEXT NOT NULL,
      PRIMARY KEY (tenant, pattern_id)
    );
  `);
  const insert = db.prepare(
    `INSERT OR IGNORE INTO outcomes (tenant, id, namespace, task_type, success, occurred_at_ms, body)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertAll = db.transaction((rows: readonly OutcomeRow[]) => {
    const inserted = new Set<string>();
    for (const row of rows) {
      const result = insert.run(
        row.tenant,
        row.id,
        row.namespace,
        row.taskType,
        row.success ? 1 : 0,
        row.occurredAtMs,
        JSON.stringify(row),
      );
      if (result.changes > 0) inserted.add(row.id);
    }
    return inserted;
  });
  const totals = db.prepare<[], { task_type: string; executions: number; successes: number }>(
    'SELECT task_type, COUNT(*) AS executions, SUM(success) AS successes FROM outcomes GROUP BY task_type',
  );
  const selectPattern = db.prepare<
    [string, string],
    { pattern_id: string; digest: string; sent_at: string }
  >('SELECT pattern_id, digest, sent_at FROM pattern_memories WHERE tenant = ? AND pattern_id = ?');
  const upsertPattern = db.prepare(
    `INSERT INTO pattern_memories (tenant, pattern_id, digest, sent_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (tenant, pattern_id) DO UPDATE SET digest = excluded.digest, sent_at = excluded.sent_at`,
  );

  return {
    capabilities: { name: 'sqlite' },
    async insertOutcomes(rows) {
      return insertAll(rows);
    },
    async outcomes(tenant, query: OutcomeQuery = {}) {
      const conditions = ['tenant = ?'];
      const parameters: string[] = [tenant];
      if (query.taskType !== undefined) {
        conditions.push('task_type = ?');
        parameters.push(query.taskType);
      }
      if (query.namespace !== undefined) {
        conditions.push('namespace = ?');
        parameters.push(query.namespace);
      }
      return db
        .prepare<string[], StoredRow>(
          `SELECT body FROM outcomes WHERE ${conditions.join(' AND ')} ORDER BY occurred_at_ms, id`,
        )
        .all(...parameters)
        .map((row) => JSON.parse(row.body) as OutcomeRow);
    },
    async taskTypeTotals() {
      return totals.all().map((row) => ({
        taskType: row.task_type,
        executions: row.executions,
        successes: row.successes,
      }));
    },
    async patternMemory(tenant, patternId): Promise<PatternMemoryState | undefined> {
      const row = selectPattern.get(tenant, patternId);
      return row
        ? { patternId: row.pattern_id, digest: row.digest, sentAt: row.sent_at }
        : undefined;
    },
    async savePatternMemory(tenant, state) {
      upsertPattern.run(tenant, state.patternId, state.digest, state.sentAt);
    },
    async close() {
      db.close();
    },
  };
}
