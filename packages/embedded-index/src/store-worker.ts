/**
 * The store's background thread (started by `background-writer.ts`): its own connection to the
 * SQLite file, passive WAL checkpoints on a timer, and access-statistics writes on request,
 * answered in order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import {
  ACCESS_PAUSE_FACTOR,
  ACCESS_TRANSACTION,
  type AccessEntry,
  type FromWorker,
  recordAccessBySlotSql,
  type StoreWorkerData,
  slotOfSql,
  type ToWorker,
  WAL_SIZE_LIMIT,
} from './store-access.ts';

/** An access flush: first each memory's slot is looked up, then the counts are written. */
interface Job {
  seq: number;
  tenant: string;
  entries: AccessEntry[];
  resolving: boolean;
  next: number;
  found: [slot: number, id: string, count: number, at: number][];
}

const port = parentPort;
if (port === null) throw new Error('store-worker.ts runs as a worker thread');
const { file, intervalMs } = workerData as StoreWorkerData;

const db = new Database(file);
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
const slotOf = db.prepare<[string, string], number>(slotOfSql).pluck();
const bump = db.prepare<[number, number, number, string, string]>(recordAccessBySlotSql);
const writeAccess = db.transaction((tenant: string, found: Job['found']) => {
  for (const [slot, id, count, at] of found) bump.run(count, at, slot, tenant, id);
});
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // A busy database: the next tick tries again.
  }
}, intervalMs);

// Access flushes go in steps of ACCESS_TRANSACTION entries, ordered by slot when written, a
// transaction per step. Each step is followed by a pause ACCESS_PAUSE_FACTOR times as long as
// it took: a flush done in one go kept a core busy for ~20 ms every second, and the queries
// running then waited for it.
const queue: Job[] = [];
let pumping = false;

function reply(message: FromWorker): void {
  port?.postMessage(message);
}

/** One step of the oldest job; returns how long it took, ms. */
function step(): number {
  const job = queue[0]!;
  const started = performance.now();
  try {
    const end = job.next + ACCESS_TRANSACTION;
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
      reply({ type: 'done', seq: job.seq });
    }
  } catch (error) {
    queue.shift();
    reply({
      type: 'done',
      seq: job.seq,
      error: error instanceof Error ? error.message : String(error),
    });
  }
  return performance.now() - started;
}

function pump(): void {
  if (queue.length === 0) {
    pumping = false;
    return;
  }
  const took = step();
  setTimeout(pump, Math.max(1, took * ACCESS_PAUSE_FACTOR));
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'access') {
    const { seq, tenant, entries } = message;
    queue.push({ seq, tenant, entries, resolving: true, next: 0, found: [] });
    if (!pumping) {
      pumping = true;
      setImmediate(pump);
    }
    return;
  }
  // What was handed over is written before the connection closes (without pauses).
  while (queue.length > 0) step();
  clearInterval(timer);
  db.close();
  port.close();
});
