import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';

/**
 * Float32 vectors by slot in a flat file beside the store: a copy of what SQLite holds, so an
 * exact score costs one positional read of the OS page cache instead of an SQLite row lookup (~8
 * vs ~20 µs on a loaded 2-core host). Written again at every open, except after a clean close
 * that vouched for it (restart-snapshot.ts): nothing in it needs to survive a crash. On the first
 * failure to write or read it is given up and the store is read.
 */
export class VectorFile {
  private descriptor: number | undefined;
  private readonly bytes: number;

  /** `keep`: open the file as it is (vouched for by a clean close) instead of emptying it. */
  constructor(
    readonly path: string,
    dimension: number,
    keep = false,
  ) {
    this.bytes = dimension * 4;
    this.descriptor = openSync(path, keep ? 'r+' : 'w+');
  }

  /** Slots the file holds whole. */
  slots(): number {
    if (this.descriptor === undefined) return 0;
    return Math.floor(fstatSync(this.descriptor).size / this.bytes);
  }

  /** Flushes the file to disk; false when it was given up or the flush failed. */
  sync(): boolean {
    if (this.descriptor === undefined) return false;
    try {
      fsyncSync(this.descriptor);
      return true;
    } catch {
      this.close();
      return false;
    }
  }

  /** `count` slots' vectors from `first` on, into `into`; false (the file given up) on failure. */
  readSlots(first: number, count: number, into: Float32Array): boolean {
    if (this.descriptor === undefined) return false;
    const bytes = count * this.bytes;
    try {
      if (readSync(this.descriptor, into, 0, bytes, first * this.bytes) === bytes) return true;
    } catch {
      // Given up below.
    }
    this.close();
    return false;
  }

  /** Whether the file still holds every vector written (none failed). */
  get usable(): boolean {
    return this.descriptor !== undefined;
  }

  write(slot: number, vector: Float32Array): void {
    if (this.descriptor === undefined) return;
    try {
      if (writeSync(this.descriptor, vector, 0, this.bytes, slot * this.bytes) !== this.bytes)
        this.close();
    } catch {
      this.close();
    }
  }

  /** The slot's vector, or undefined when the file was given up. */
  read(slot: number): Float32Array | undefined {
    return this.readInto(slot, new Float32Array(this.bytes / 4));
  }

  /** The slot's vector read into `into` (returned), or undefined when the file was given up. */
  readInto(slot: number, into: Float32Array): Float32Array | undefined {
    if (this.descriptor === undefined) return undefined;
    try {
      if (readSync(this.descriptor, into, 0, this.bytes, slot * this.bytes) === this.bytes)
        return into;
    } catch {
      // Given up below.
    }
    this.close();
    return undefined;
  }

  close(): void {
    if (this.descriptor === undefined) return;
    const descriptor = this.descriptor;
    this.descriptor = undefined;
    try {
      closeSync(descriptor);
    } catch {
      // Nothing left to release.
    }
  }
}

/**
 * A new vector file at `path` (or, with `keep`, the one there), or undefined when it cannot be
 * opened (the store is read).
 */
export function openVectorFile(
  path: string,
  dimension: number,
  keep = false,
): VectorFile | undefined {
  try {
    return new VectorFile(path, dimension, keep);
  } catch {
    return undefined;
  }
}
