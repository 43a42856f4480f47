/**
 * The document store's checkpoint thread (started by `wal-checkpointer.ts`): its own connection
 * to the SQLite file and a passive WAL checkpoint on a timer, until told to close.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const port = parentPort;
if (port === null) throw new Error('checkpoint-worker.ts runs as a worker thread');
const { file, intervalMs, walSizeLimit } = workerData as {
  file: string;
  intervalMs: number;
  walSizeLimit: number;
};

const db = new Database(file);
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
db.pragma(`journal_size_limit = ${walSizeLimit}`);
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // A busy database: the next tick tries again.
  }
}, intervalMs);

port.on('message', (message: unknown) => {
  if (message !== 'close') return;
  clearInterval(timer);
  db.close();
  port.close();
});
