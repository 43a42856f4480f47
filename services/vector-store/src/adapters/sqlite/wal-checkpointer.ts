import { Worker } from 'node:worker_threads';
import { workerEntry } from '@membus/worker-entry';

/** `checkpoint-worker.js` beside this module, or `checkpoint-worker.ts` through tsx from the sources. */
const workerFile = workerEntry(import.meta.url, './checkpoint-worker');

/**
 * Bytes the WAL is cut back to once checkpointed (`journal_size_limit`, on every connection):
 * without it the file keeps its high-water mark.
 */
export const WAL_SIZE_LIMIT = 16 * 2 ** 20;

/**
 * Passive WAL checkpoints of `file` every `intervalMs` in a worker thread with its own
 * connection, so that no commit on the event loop runs one (SQLite's auto-checkpoint copies the
 * WAL into the file and syncs it inside the commit that crosses 1,000 pages: 15–113 ms stalls of
 * the vector-store's ingest at 1,000 stores/s). `onGone` runs if the thread dies (the caller
 * then turns auto-checkpoints back on). Keeps the process alive only while closing.
 */
export class WalCheckpointer {
  readonly #worker: Worker;
  readonly #exited: Promise<void>;
  #closing = false;

  constructor(file: string, intervalMs: number, onGone: () => void) {
    this.#worker = new Worker(workerFile, {
      workerData: { file, intervalMs, walSizeLimit: WAL_SIZE_LIMIT },
    });
    this.#worker.unref();
    this.#worker.on('error', () => {
      // Reported through 'exit' (onGone).
    });
    this.#exited = new Promise<void>((resolve) => {
      this.#worker.once('exit', () => {
        if (!this.#closing) onGone();
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    this.#closing = true;
    this.#worker.ref();
    this.#worker.postMessage('close');
    await this.#exited;
  }
}
