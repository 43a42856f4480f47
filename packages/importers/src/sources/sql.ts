import Database from 'better-sqlite3';
import type { Mapping } from '../mapping.ts';

/** `"name"` or `"schema"."name"`: a table name as a quoted SQL identifier. */
export function quotedTable(table: string): string {
  return table
    .split('.')
    .map((part) => `"${part.replaceAll('"', '""')}"`)
    .join('.');
}

/** The query a mapping reads: its own, or every row of its table. */
export function mappingQuery(mapping: Mapping): string {
  // A trailing `;` would end the cursor's DECLARE (PostgreSQL) early.
  if (mapping.query) return mapping.query.trim().replace(/;+\s*$/, '');
  if (mapping.table) return `SELECT * FROM ${quotedTable(mapping.table)}`;
  throw new Error('the mapping names no table and no query');
}

/** The name ids are derived under when the mapping gives none. */
export function defaultSource(mapping: Mapping): string {
  return mapping.source ?? mapping.table ?? 'query';
}

/**
 * The rows of a SQLite file (opened read-only), one at a time: better-sqlite3's statement
 * iterator steps the query as rows are asked for, so memory stays constant at any size.
 */
export async function* sqliteRows(
  file: string,
  query: string,
): AsyncGenerator<Record<string, unknown>> {
  const database = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const statement = database.prepare(query);
    if (!statement.reader) throw new Error(`not a query that returns rows: ${query}`);
    // Safe integers: a 64-bit key is read exactly (as a bigint), not rounded.
    statement.safeIntegers(true);
    for (const row of statement.iterate() as Iterable<Record<string, unknown>>) yield row;
  } finally {
    database.close();
  }
}

/** What {@link postgresRows} connects with: a URL, or the `PG*` environment when undefined. */
export interface PostgresSource {
  connectionString?: string;
  /** Rows fetched per round trip (default 500). */
  fetchSize?: number;
}

/**
 * The rows of a PostgreSQL query, through a server-side cursor in a read-only transaction
 * (`DECLARE … CURSOR`, `FETCH n`): at most `fetchSize` rows are held at a time.
 */
export async function* postgresRows(
  source: PostgresSource,
  query: string,
): AsyncGenerator<Record<string, unknown>> {
  const { default: pg } = await import('pg');
  const client = new pg.Client(
    source.connectionString ? { connectionString: source.connectionString } : {},
  );
  await client.connect();
  const fetchSize = source.fetchSize ?? 500;
  try {
    await client.query('BEGIN READ ONLY');
    await client.query(`DECLARE membus_import NO SCROLL CURSOR FOR ${query}`);
    for (;;) {
      const page = await client.query(`FETCH ${fetchSize} FROM membus_import`);
      for (const row of page.rows as Record<string, unknown>[]) yield row;
      if (page.rows.length < fetchSize) break;
    }
    await client.query('COMMIT');
  } finally {
    await client.end();
  }
}
