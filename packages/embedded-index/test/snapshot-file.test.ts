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

  it('page lists come back in order, read in place into the arrays a destination gives', () => {
    const codes = [Int8Array.from([1, -2, 3, -4]), Int8Array.from([5, 6, 7, 8])];
    const scales = [Float32Array.from([0.5, 0.25]), Float32Array.from([2, 4])];
    writeSnapshotFile(path, { ...contents(), pages: { codes, scales } });

    // Without a destination each page is allocated.
    const allocated = readSnapshotFile(path);
    expect(allocated.pages?.codes).toEqual(codes);
    expect(allocated.pages?.scales).toEqual(scales);

    // Code pages into views of one larger buffer (as the arena's WebAssembly memory); scales
    // left to the reader.
    const arena = new Int8Array(16).fill(99);
    const asked: string[] = [];
    const read = readSnapshotFile(path, (name, index, type, length) => {
      asked.push(`${name}:${index}:${type}:${length}`);
      return name === 'codes' ? arena.subarray(4 + index * 4, 8 + index * 4) : undefined;
    });
    expect(asked).toEqual([
      'codes:0:Int8Array:4',
      'codes:1:Int8Array:4',
      'scales:0:Float32Array:2',
      'scales:1:Float32Array:2',
    ]);
    expect([...arena]).toEqual([99, 99, 99, 99, 1, -2, 3, -4, 5, 6, 7, 8, 99, 99, 99, 99]);
    expect(read.pages?.scales).toEqual(scales);
    expect(read.arrays.ints).toEqual(Int32Array.from([1, -2, 3]));

    // A destination of another type or length is refused, never written past.
    const short = new Int8Array(3);
    expect(() => readSnapshotFile(path, () => short)).toThrow(/section codes is malformed/);
    expect([...short]).toEqual([0, 0, 0]);
    expect(() => readSnapshotFile(path, () => new Uint32Array(4))).toThrow(/malformed/);
  });
});
