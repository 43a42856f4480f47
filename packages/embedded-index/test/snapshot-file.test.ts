import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readSnapshotFile, SnapshotUnreadable, writeSnapshotFile } from '../src/snapshot-file.ts';

describe('snapshot file', () => {
  let directory: string;
  let path: string;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'membus-snapshot-file-'));
    path = join(directory, 'restart.snapshot');
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  const contents = () => ({
    header: { id: 'x', count: 3 },
    arrays: {
      ints: Int32Array.from([1, -2, 3]),
      // A view into a larger buffer: only its own elements are written.
      view: new Uint16Array([9, 8, 7, 6]).subarray(1, 3),
      empty: new Float64Array(0),
    },
    strings: {
      // More strings than one section holds, and more characters than one holds.
      many: Array.from({ length: 300_000 }, (_, n) => `t${n}é`),
      long: Array.from({ length: 20 }, (_, n) => String.fromCharCode(97 + n).repeat(1_000_000)),
      none: [] as string[],
    },
  });

  it('reads back what was written: arrays by type and value, string lists across sections', () => {
    const written = contents();
    writeSnapshotFile(path, written);
    const read = readSnapshotFile<{ id: string; count: number }>(path);
    expect(read.header).toEqual(written.header);
    expect(read.arrays.ints).toEqual(Int32Array.from([1, -2, 3]));
    expect(read.arrays.view).toEqual(Uint16Array.from([8, 7]));
    expect(read.arrays.empty).toEqual(new Float64Array(0));
    expect(read.strings.many).toEqual(written.strings.many);
    expect(read.strings.long).toEqual(written.strings.long);
    expect(read.strings.none).toEqual([]);
  });

  it('a flipped byte, a truncation or another file are refused as unreadable', () => {
    writeSnapshotFile(path, contents());
    const bytes = readFileSync(path);
    const flipped = Buffer.from(bytes);
    flipped[bytes.length - 10] = flipped[bytes.length - 10]! ^ 1;
    writeFileSync(path, flipped);
    expect(() => readSnapshotFile(path)).toThrow(SnapshotUnreadable);
    expect(() => readSnapshotFile(path)).toThrow(/checksum/);

    writeFileSync(path, bytes);
    truncateSync(path, bytes.length - 1);
    expect(() => readSnapshotFile(path)).toThrow(/truncated/);

    writeFileSync(path, 'SQLite format 3\u0000 and so on');
    expect(() => readSnapshotFile(path)).toThrow(/not a snapshot file/);
    expect(() => readSnapshotFile(join(directory, 'absent'))).toThrow(/cannot open/);
  });
});
