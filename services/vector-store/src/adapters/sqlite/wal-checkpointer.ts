import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * The worker's module beside this one: `checkpoint-worker.js` once compiled; from the TypeScript
 * sources (tests, `node --import tsx`) a one-line data: module that registers tsx in the worker
 * and imports `checkpoint-worker.ts` (Node 20 does not apply `--import` hooks to a worker's
 * entry). As the embedded index's store worker does.
 */
const workerFile = import.meta.url.endsWith('.ts')
  ? new URL(
      `data:text/javascript,${encodeURIComponent(
        `const { register } = await import(${JSON.stringify(tsxApi())}); register(); await import(${JSON.stringify(new URL('./checkpoint-worker.ts', import.meta.url).href)});`,
      )}`,
    )
  : new URL('./checkpoint-worker.js', import.meta.url);

function tsxApi(): string {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('tsx/package.json');
  const { exports } = require(manifest) as {
    exports: { './esm/api': { import: { default: string } } };
  };
  return pathToFileURL(join(dirname(manifest), exports['./esm/api'].import.default)).href;
}

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
    this.#worker = new Worker(workerFile, { workerData: { file, intervalMs } });
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
