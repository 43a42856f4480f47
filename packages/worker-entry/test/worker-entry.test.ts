import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { workerEntry } from '../src/index.ts';

describe('workerEntry', () => {
  it('names the compiled sibling when the caller runs compiled', () => {
    expect(workerEntry('file:///app/dist/store.js', './store-worker').href).toBe(
      'file:///app/dist/store-worker.js',
    );
  });

  it('runs the TypeScript sibling in a worker when the caller runs from sources', async () => {
    const entry = workerEntry(import.meta.url, './fixtures/echo-worker');
    expect(entry.protocol).toBe('data:');
    const worker = new Worker(entry, { workerData: { file: 'x.sqlite' } });
    try {
      const [message] = await once(worker, 'message');
      expect(message).toEqual({ echoed: { file: 'x.sqlite' } });
    } finally {
      await worker.terminate();
    }
  });
});
