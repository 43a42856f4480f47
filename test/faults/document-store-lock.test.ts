/**
 * Fault (d): the document store is unavailable for a while: the test holds an exclusive
 * write lock on the vector-store's SQLite documents file. Writes fail with SQLITE_BUSY; the
 * vector-store must nak and retry them (BACKEND_FAILED), never dead-letter or drop them.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { waitFor } from '@membus/bus/testing';
import { expect, it } from 'vitest';
import { expectedCounts, FAULT_COUNT, metricSum, runFaultScenario } from '../helpers/faults.ts';
import { startTestStack } from '../helpers/stack.ts';

// better-sqlite3 is the vector-store's dependency; resolve it from there.
const require = createRequire(
  join(import.meta.dirname, '../../services/vector-store/package.json'),
);
interface SqliteConnection {
  exec(sql: string): void;
  close(): void;
  readonly inTransaction: boolean;
}
const Database = require('better-sqlite3') as new (file: string) => SqliteConnection;

it(`keeps exactly ${FAULT_COUNT} memories when the documents file is locked mid-load`, async () => {
  // The SQLite documents store is the one under test, even when CI provides MONGODB_URI.
  await using stack = await startTestStack({ MONGODB_URI: '' });
  const client = await stack.client('fault-documents');
  const documents = new Database(join(stack.dataDir, 'vector-store', 'documents.sqlite'));
  try {
    // Hold the lock until the vector-store has had to retry, then release it.
    const retriedWrite = async () => {
      const port = stack.services.get('vector-store')?.metricsPort as number;
      // The vector-store's event loop waits in SQLite's busy handler while locked, so a scrape
      // can time out: that counts as "not yet".
      const retries = await metricSum(port, 'membus_messages_handled_total', {
        subject: 'memory.embedded',
        outcome: 'retry',
      }).catch(() => 0);
      return retries > 0;
    };
    const counts = await runFaultScenario({
      name: 'document store locked',
      stack,
      client,
      faults: [
        { after: 0.3, action: async () => documents.exec('BEGIN EXCLUSIVE') },
        {
          after: 0.7,
          action: async () => {
            await waitFor(retriedWrite, {
              timeoutMs: 60_000,
              intervalMs: 100,
              what: 'a retried write',
            });
            documents.exec('COMMIT');
          },
        },
      ],
    });
    expect(counts).toEqual(expectedCounts());
  } finally {
    if (documents.inTransaction) documents.exec('ROLLBACK');
    documents.close();
  }
}, 300_000);
