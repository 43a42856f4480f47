/** The document store's WAL checkpointed by a worker thread, not inside commits. */
import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { reopenableFile, temporaryDirectory, waitFor } from '@membus/bus/testing';
import { expectWalCutAfterCheckpoint } from '@membus/embedded-index/testing';
import { expect, it } from 'vitest';
import { openSqliteDocumentStore } from '../src/adapters/sqlite/sqlite-document-store.ts';
import { WAL_SIZE_LIMIT } from '../src/adapters/sqlite/wal-checkpointer.ts';
import { createDocumentStoreConformanceSuite } from '../src/testing/index.ts';

createDocumentStoreConformanceSuite({
  name: 'sqlite, checkpoints in a worker thread',
  capabilities: { persistent: true },
  create: () =>
    reopenableFile('documents.sqlite', (path) =>
      openSqliteDocumentStore({ path, checkpointIntervalMs: 20 }),
    ),
});

it('copies committed history into the database file from its worker thread', async () => {
  await using directory = await temporaryDirectory('membus-checkpoints-');
  const path = join(directory.path, 'documents.sqlite');
  const store = openSqliteDocumentStore({ path, checkpointIntervalMs: 20 });
  try {
    const before = statSync(path).size;
    const entries = Array.from({ length: 500 }, (_, index) => ({
      memoryId: randomUUID(),
      event: 'ADD' as const,
      at: new Date(0).toISOString(),
      storeId: randomUUID(),
      text: `history entry ${index} ${'x'.repeat(200)}`,
    }));
    await store.appendHistory('acme', entries);
    // No commit runs a checkpoint (auto-checkpoints are off): the file grows only by the worker's.
    await waitFor(() => statSync(path).size > before, { what: 'a checkpoint by the worker' });
    const first = entries[0] as (typeof entries)[number];
    expect((await store.history('acme', first.memoryId)).map((entry) => entry.text)).toEqual([
      first.text,
    ]);
  } finally {
    await store.close();
  }
});

it('cuts its WAL back to the limit at the first write after a checkpoint', async () => {
  await using directory = await temporaryDirectory('membus-checkpoints-');
  const path = join(directory.path, 'documents.sqlite');
  // The worker's timer never fires during the test: the checkpoint below is the only one.
  const store = openSqliteDocumentStore({ path, checkpointIntervalMs: 3_600_000 });
  const entries = (count: number) =>
    Array.from({ length: count }, (_, index) => ({
      memoryId: randomUUID(),
      event: 'ADD' as const,
      at: new Date(0).toISOString(),
      storeId: randomUUID(),
      text: `history entry ${index} ${'x'.repeat(4_000)}`,
    }));
  try {
    const last = entries(1)[0]!;
    await expectWalCutAfterCheckpoint(path, WAL_SIZE_LIMIT, {
      fill: async () => {
        for (let batch = 0; batch < 10; batch++) await store.appendHistory('acme', entries(500));
      },
      writeOnce: () => store.appendHistory('acme', [last]),
    });
    expect((await store.history('acme', last.memoryId)).length).toBe(1);
  } finally {
    await store.close();
  }
});
