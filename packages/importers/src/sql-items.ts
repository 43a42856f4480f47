import type { SourceItem } from './imported-memory.ts';
import { type Mapping, mapRow } from './mapping.ts';
import {
  defaultSource,
  mappingQuery,
  type PostgresSource,
  postgresRows,
  sqliteRows,
} from './sources/sql.ts';

/** The memories of a SQLite file's table or query, by a mapping, row by row. */
export async function* sqliteItems(file: string, mapping: Mapping): AsyncGenerator<SourceItem> {
  const source = defaultSource(mapping);
  for await (const row of sqliteRows(file, mappingQuery(mapping)))
    yield mapRow(row, mapping, { source });
}

/** The memories of a PostgreSQL table or query, by a mapping, through a server-side cursor. */
export async function* postgresItems(
  connection: PostgresSource,
  mapping: Mapping,
): AsyncGenerator<SourceItem> {
  const source = defaultSource(mapping);
  for await (const row of postgresRows(connection, mappingQuery(mapping)))
    yield mapRow(row, mapping, { source });
}
