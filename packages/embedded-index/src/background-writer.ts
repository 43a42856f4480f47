import { Worker } from 'node:worker_threads';
import { workerEntry } from '@membus/worker-entry';
import type { AccessEntry, FromWorker, StoreWorkerData, ToWorker } from './store-access.ts';

/** `store-worker.js` beside this module, or `store-worker.ts` through tsx from the sources. */
const workerFile = workerEntry(import.meta.url, './store-worker');

/**
 * A worker thread (`store-worker.ts`) with its own connection to the store: passive checkpoints
 * on a timer and access-statistics writes on request, answered in order. It keeps the process
 * alive only while a write is outstanding. If it dies, outstanding writes fail and `onGone` runs.
 */
export class BackgroundWriter {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private nextSeq = 0;
  private closing = false;
  private readonly exited: Promise<void>;

  constructor(file: string, intervalMs: number, onGone: () => void) {
    const workerData: StoreWorkerData = { file, intervalMs };
    this.worker = new Worker(workerFile, { workerData });
    this.worker.unref();
    this.worker.on('message', (message: FromWorker) => {
      const waiter = this.waiting.get(message.seq);
      if (waiter === undefined) return;
      this.waiting.delete(message.seq);
      if (this.waiting.size === 0) this.worker.unref();
      if (message.error === undefined) waiter.resolve();
      else waiter.reject(new Error(message.error));
    });
    let failure: Error | undefined;
    this.worker.on('error', (error) => {
      failure = error;
    });
    this.exited = new Promise<void>((resolve) => {
      this.worker.once('exit', (code) => {
        const reason = failure ?? new Error(`store worker exited with code ${code}`);
        for (const waiter of this.waiting.values()) waiter.reject(reason);
        this.waiting.clear();
        if (!this.closing) onGone();
        resolve();
      });
    });
  }

  recordAccess(tenant: string, entries: AccessEntry[]): Promise<void> {
    const seq = this.nextSeq++;
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(seq, { resolve, reject });
      this.worker.ref();
      this.post({ type: 'access', seq, tenant, entries });
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    // Referenced again so the process waits for the worker to close its connection.
    this.worker.ref();
    this.post({ type: 'close' });
    await this.exited;
  }

  private post(message: ToWorker): void {
    this.worker.postMessage(message);
  }
}
