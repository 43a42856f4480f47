import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** What `openSqliteFile` needs of a database handle (better-sqlite3's `Database`). */
export interface PragmaDatabase {
  pragma(source: string): unknown;
}

/**
 * Opens a service store's SQLite file as every store does: its directory made (unless
 * `:memory:`), WAL, and `synchronous = NORMAL` - JetStream keeps a message until it is acked
 * after the write, and NORMAL survives a killed process. `open` makes the handle (the service
 * owns the driver and its options, e.g. a busy timeout).
 */
export function openSqliteFile<D extends PragmaDatabase>(
  path: string,
  open: (path: string) => D,
): D {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = open(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  return db;
}
