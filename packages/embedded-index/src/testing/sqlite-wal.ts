import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { expect } from 'vitest';

/** The writes of a test of a store's WAL size limit. */
export interface WalLimitWrites {
  /** Writes until the WAL holds more than the limit (no checkpoint may run meanwhile). */
  fill: () => void | Promise<void>;
  /** Writes once more, after the checkpoint. */
  writeOnce: () => void | Promise<void>;
}

/**
 * Asserts that the store writing the SQLite database `file` cuts its WAL back to `limit` bytes at
 * its first write after a checkpoint: `fill` grows the WAL past the limit, another connection
 * checkpoints all of it (no reader may hold any back), and after `writeOnce` it is within the limit.
 */
export async function expectWalCutAfterCheckpoint(
  file: string,
  limit: number,
  writes: WalLimitWrites,
): Promise<void> {
  const wal = `${file}-wal`;
  await writes.fill();
  expect(statSync(wal).size).toBeGreaterThan(limit);
  const other = new Database(file);
  try {
    expect(other.pragma('wal_checkpoint(PASSIVE)')).toEqual([expect.objectContaining({ busy: 0 })]);
  } finally {
    other.close();
  }
  await writes.writeOnce();
  expect(statSync(wal).size).toBeLessThanOrEqual(limit);
}
