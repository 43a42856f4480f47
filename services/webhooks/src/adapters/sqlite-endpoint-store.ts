import { openSqliteFile } from '@membus/service-runtime';
import Database from 'better-sqlite3';
import type { EndpointRecord, EndpointStore } from '../domain/webhook-dispatcher.ts';

interface Row {
  id: string;
  tenant: string;
  url: string;
  events: string;
  secret: string;
  created_at: string;
  after_seq: number;
}

/**
 * Endpoints in the service's SQLite file (`MEMBUS_DATA_DIR/webhooks/endpoints.sqlite`), read
 * through an in-memory copy by tenant: every event asks for its tenant's endpoints.
 */
export function openSqliteEndpointStore(path: string): EndpointStore & { close(): void } {
  const db = openSqliteFile(path, (file) => new Database(file));
  db.exec(`CREATE TABLE IF NOT EXISTS endpoints (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at TEXT NOT NULL,
    after_seq INTEGER NOT NULL
  )`);
  const byTenant = new Map<string, EndpointRecord[]>();
  const load = () => {
    byTenant.clear();
    for (const row of db.prepare('SELECT * FROM endpoints ORDER BY created_at').all() as Row[]) {
      const record: EndpointRecord = {
        id: row.id,
        tenant: row.tenant,
        url: row.url,
        events: JSON.parse(row.events) as EndpointRecord['events'],
        secret: row.secret,
        createdAt: row.created_at,
        afterSeq: row.after_seq,
      };
      byTenant.set(row.tenant, [...(byTenant.get(row.tenant) ?? []), record]);
    }
  };
  load();
  const insert = db.prepare(
    'INSERT INTO endpoints (id, tenant, url, events, secret, created_at, after_seq) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const remove = db.prepare('DELETE FROM endpoints WHERE tenant = ? AND id = ?');
  return {
    add(record) {
      insert.run(
        record.id,
        record.tenant,
        record.url,
        JSON.stringify(record.events),
        record.secret,
        record.createdAt,
        record.afterSeq,
      );
      load();
    },
    list(tenant) {
      return byTenant.get(tenant) ?? [];
    },
    remove(tenant, id) {
      const removed = remove.run(tenant, id).changes > 0;
      load();
      return removed;
    },
    close() {
      db.close();
    },
  };
}
