import type { MemoryRecord } from '@membus/contracts';
import { openSqliteFile } from '@membus/service-runtime';
import Database from 'better-sqlite3';
import type { CompactionPlan, LifecycleStore } from '../ports/lifecycle-store.ts';

/** The embedded LifecycleStore: one SQLite file (WAL; survives a killed process). */
export function openSqliteLifecycleStore(options: { path: string }): LifecycleStore {
  const db = openSqliteFile(options.path, (path) => new Database(path));
  db.exec(`
    CREATE TABLE IF NOT EXISTS plans (
      tenant TEXT NOT NULL, session_id TEXT NOT NULL, state TEXT NOT NULL,
      updated INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (tenant, session_id)
    );
    CREATE INDEX IF NOT EXISTS plans_state ON plans (state, updated);
    CREATE TABLE IF NOT EXISTS archive (
      tenant TEXT NOT NULL, id TEXT NOT NULL, session_id TEXT, created_at TEXT NOT NULL,
      body TEXT NOT NULL, PRIMARY KEY (tenant, id)
    );
    CREATE INDEX IF NOT EXISTS archive_session ON archive (tenant, session_id, created_at);
    CREATE TABLE IF NOT EXISTS sessions (
      tenant TEXT NOT NULL, session_id TEXT NOT NULL, last_activity INTEGER NOT NULL,
      PRIMARY KEY (tenant, session_id)
    );
    CREATE INDEX IF NOT EXISTS sessions_idle ON sessions (last_activity);
    CREATE TABLE IF NOT EXISTS tenants (tenant TEXT PRIMARY KEY);
  `);
  const upsertPlan = db.prepare(
    `INSERT INTO plans (tenant, session_id, state, updated, body) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (tenant, session_id) DO UPDATE SET state = excluded.state, updated = excluded.updated, body = excluded.body`,
  );
  const selectPlan = db.prepare<[string, string], { body: string }>(
    'SELECT body FROM plans WHERE tenant = ? AND session_id = ?',
  );
  const selectPending = db.prepare<[], { body: string }>(
    "SELECT body FROM plans WHERE state = 'pending' ORDER BY updated",
  );
  const insertArchive = db.prepare(
    'INSERT OR IGNORE INTO archive (tenant, id, session_id, created_at, body) VALUES (?, ?, ?, ?, ?)',
  );
  const selectArchive = db.prepare<[string, string], { body: string }>(
    'SELECT body FROM archive WHERE tenant = ? AND session_id = ? ORDER BY created_at, id',
  );
  const touch = db.prepare(
    `INSERT INTO sessions (tenant, session_id, last_activity) VALUES (?, ?, ?)
     ON CONFLICT (tenant, session_id) DO UPDATE SET last_activity = max(last_activity, excluded.last_activity)`,
  );
  const selectIdle = db.prepare<[number, number], { tenant: string; session_id: string }>(
    'SELECT tenant, session_id FROM sessions WHERE last_activity < ? ORDER BY last_activity LIMIT ?',
  );
  const forget = db.prepare<[string, string, number]>(
    'DELETE FROM sessions WHERE tenant = ? AND session_id = ? AND last_activity <= ?',
  );
  const insertTenant = db.prepare('INSERT OR IGNORE INTO tenants (tenant) VALUES (?)');
  const selectTenants = db.prepare<[], { tenant: string }>(
    'SELECT tenant FROM tenants ORDER BY tenant',
  );
  let sequence = 0;
  const archiveMany = db.transaction((tenant: string, records: readonly MemoryRecord[]) => {
    for (const record of records)
      insertArchive.run(
        tenant,
        record.id,
        record.sessionId ?? null,
        record.createdAt,
        JSON.stringify(record),
      );
  });

  return {
    capabilities: { name: 'sqlite' },
    async savePlan(plan: CompactionPlan) {
      // Monotonic order for pendingPlans, even within one millisecond.
      sequence = Math.max(sequence + 1, Date.now());
      upsertPlan.run(plan.tenant, plan.sessionId, plan.state, sequence, JSON.stringify(plan));
    },
    async plan(tenant, sessionId) {
      const row = selectPlan.get(tenant, sessionId);
      return row ? (JSON.parse(row.body) as CompactionPlan) : undefined;
    },
    async pendingPlans() {
      return selectPending.all().map((row) => JSON.parse(row.body) as CompactionPlan);
    },
    async archive(tenant, records) {
      archiveMany(tenant, records);
    },
    async archived(tenant, sessionId) {
      return selectArchive
        .all(tenant, sessionId)
        .map((row) => JSON.parse(row.body) as MemoryRecord);
    },
    async touchSession(tenant, sessionId, at) {
      touch.run(tenant, sessionId, at);
    },
    async idleSessions(before, limit) {
      return selectIdle
        .all(before, limit)
        .map((row) => ({ tenant: row.tenant, sessionId: row.session_id }));
    },
    async forgetSession(tenant, sessionId, upTo = Number.POSITIVE_INFINITY) {
      forget.run(tenant, sessionId, upTo);
    },
    async tenants() {
      return selectTenants.all().map((row) => row.tenant);
    },
    async addTenant(tenant) {
      insertTenant.run(tenant);
    },
    async close() {
      db.close();
    },
  };
}
