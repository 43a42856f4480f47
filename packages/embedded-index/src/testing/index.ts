/** Damage done to a saved store on purpose, for tests of how it is detected when opened. */
import { closeSync, openSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { seededRandom } from '@membus/vector-index/testing';

/** Where the parts of a saved usearch graph file are (graph-file.ts describes the layout). */
export interface GraphLayout {
  /** Bytes per vector (the dimension: int8 codes); vectors start at byte 8. */
  vectorBytes: number;
  /** The graph's header: u64 size, connectivity, base connectivity, top level, entry slot. */
  graphHeaderAt: number;
  /** The node searches and inserts start at. */
  entry: number;
  /** Nodes in the graph (removed ones included). */
  nodes: number;
  /** Where a node's record (u64 key, i16 level, then its level-0 links) starts. */
  nodeAt(node: number): number;
}

/** The layout of the usearch graph file `file`. */
export async function graphLayout(file: string): Promise<GraphLayout> {
  const bytes = await readFile(file);
  const rows = bytes.readUInt32LE(0);
  const vectorBytes = bytes.readUInt32LE(4);
  const graphHeaderAt = 8 + rows * vectorBytes + 64;
  const connectivity = Number(bytes.readBigUInt64LE(graphHeaderAt + 8));
  const base = Number(bytes.readBigUInt64LE(graphHeaderAt + 16));
  const entry = Number(bytes.readBigUInt64LE(graphHeaderAt + 32));
  const levelsAt = graphHeaderAt + 40;
  const starts: number[] = [];
  let offset = levelsAt + 2 * rows;
  for (let node = 0; node < rows; node++) {
    starts.push(offset);
    offset += 10 + 4 + 4 * base + bytes.readInt16LE(levelsAt + 2 * node) * (4 + 4 * connectivity);
  }
  return { vectorBytes, graphHeaderAt, entry, nodes: rows, nodeAt: (node) => starts[node]! };
}

/** The byte offset of the level-0 links (their u32 count first) of the graph's entry node. */
export async function entryLinksOffset(file: string): Promise<number> {
  const layout = await graphLayout(file);
  return layout.nodeAt(layout.entry) + 10;
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

export type { WalLimitWrites } from './sqlite-wal.ts';
export { expectWalCutAfterCheckpoint } from './sqlite-wal.ts';
