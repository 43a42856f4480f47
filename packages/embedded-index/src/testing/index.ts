/** Damage done to a saved store on purpose, for tests of how it is detected when opened. */
import { closeSync, openSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { seededRandom } from '@membus/vector-index/testing';

/** hnswlib's header in a saved graph file, in bytes. */
export const HNSW_HEADER_BYTES = 96;

/** One level-0 record of a saved hnswlib graph: u32 link header, 32 links, vector, u64 label. */
export function hnswElementBytes(dimension: number): number {
  return 4 + 4 * 32 + 4 * dimension + 8;
}

/** The graph file the store's manifest (`graph.json`) names. */
export async function graphFile(directory: string): Promise<string> {
  const manifest = JSON.parse(await readFile(join(directory, 'graph.json'), 'utf8')) as {
    file: string;
  };
  return join(directory, manifest.file);
}

/** Writes `words` 32-bit little-endian words at `offset` of `file`. */
export function overwrite(file: string, offset: number, words: number[]): void {
  const bytes = Buffer.alloc(words.length * 4);
  for (const [index, word] of words.entries()) bytes.writeUInt32LE(word >>> 0, index * 4);
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

/** 64 words of garbage, the same every run for one `seed`. */
export function garbage(seed: number): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: 64 }, () => Math.floor(random() * 2 ** 32));
}
