import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import zlib from 'node:zlib';

/**
 * Reads a usearch (2.x, as in usearch 2.26) graph file before usearch does, and says whether it
 * can be trusted. usearch's `load` checks the header's magic, version and types, but reads node
 * levels, link counts and link targets as they are: garbage there is walked by the next search or
 * insert (out-of-bounds reads, a crash). Here every count, link, level and key is checked, the
 * size must be exactly what the header and levels imply, the checksum the manifest recorded is
 * compared, and each point the caller expects to be current is compared byte for byte with the
 * arena's int8 codes of its vector in SQLite.
 *
 * Layout (index_dense save): u32 rows, u32 bytes per vector; the vectors (int8 codes) by internal
 * slot; a 64-byte head ("usearch", u16 major/minor/patch, u8 metric, scalar, key and slot kinds,
 * u64 present and deleted counts, u64 dimensions, u8 multi); the graph's header (u64 size,
 * connectivity, base connectivity, top level, entry slot); an i16 level per node; then per node
 * a u64 key (all ones: removed), its i16 level, the level-0 links (u32 count, `base` u32 slots)
 * and per upper level a u32 count and `connectivity` u32 slots.
 */

/** Bytes read (and checked) per step: a bounded buffer, whatever the graph's size. */
const CHUNK_BYTES = 4 << 20;
/** No graph of ours has more levels (1/ln 16 per level: level 16 has odds 16^-16). */
const MAX_LEVEL = 32;
const HEAD_BYTES = 64;
const GRAPH_HEADER_BYTES = 40;
const MAGIC = 'usearch';
const VERSION_MAJOR = 2;
/** The kinds usearch 2.26 writes for a cosine index of int8 vectors with u64 keys, u32 slots. */
const METRIC_COS = 0x63;
const SCALAR_I8 = 0x17;
const KEY_U64 = 0x0e;
const SLOT_U32 = 0x0f;
/** The key of a removed node. */
const FREE_KEY = 0xffffffffffffffffn;

/** What the caller knows about the graph it expects. */
export interface GraphExpectations {
  dimension: number;
  /** usearch connectivity (links per node above level 0; twice that at level 0). */
  m: number;
  /** Checksum recorded beside the file (`algorithm:hex`). */
  checksum?: string;
  /** Keys must be below this (slots; a bound on what a garbage key could allocate). */
  labelLimit: number;
  /**
   * The int8 codes the arena holds for a key the manifest says is current in the graph, or
   * undefined when the key's point is stale (not compared).
   */
  currentCodes(label: number): Int8Array | undefined;
}

export type GraphInspection =
  | { ok: true; labels: number[]; elements: number }
  | {
      ok: false;
      /** `damaged`: the file is not what was saved; `mismatch`: it is, but not of this SQLite. */
      reason: 'damaged' | 'mismatch';
      problem: string;
    };

/** Reads and checks `file` against `expect`; never throws for bad content (I/O errors do). */
export async function inspectGraphFile(
  file: string,
  expect: GraphExpectations,
): Promise<GraphInspection> {
  const damaged = (problem: string): GraphInspection => ({ ok: false, reason: 'damaged', problem });
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const checksum =
      expect.checksum === undefined ? undefined : new Checksum(expect.checksum.split(':')[0]!);
    if (checksum?.unknown) return damaged(`unknown checksum algorithm in ${expect.checksum}`);
    if (size < 8 + HEAD_BYTES + GRAPH_HEADER_BYTES)
      return damaged(`the file has ${size} bytes, less than a header`);
    const matrix = Buffer.alloc(8);
    await readExactly(handle, matrix, 0);
    const rows = matrix.readUInt32LE(0);
    const vectorBytes = matrix.readUInt32LE(4);
    if (vectorBytes !== expect.dimension)
      return damaged(
        `the header says ${vectorBytes} bytes per vector, expected ${expect.dimension} (int8 codes)`,
      );
    const headAt = 8 + rows * vectorBytes;
    if (headAt + HEAD_BYTES + GRAPH_HEADER_BYTES + 2 * rows > size)
      return damaged(`the header counts ${rows} vectors, more than the file holds`);
    const headers = Buffer.alloc(HEAD_BYTES + GRAPH_HEADER_BYTES);
    await readExactly(handle, headers, headAt);
    if (headers.toString('latin1', 0, MAGIC.length) !== MAGIC)
      return damaged('the header has no usearch magic');
    const major = headers.readUInt16LE(7);
    if (major !== VERSION_MAJOR)
      return damaged(`the header says usearch file format ${major}, expected ${VERSION_MAJOR}`);
    if (
      headers[13] !== METRIC_COS ||
      headers[14] !== SCALAR_I8 ||
      headers[15] !== KEY_U64 ||
      headers[16] !== SLOT_U32 ||
      headers[41] !== 0
    )
      return damaged(
        `the header's kinds (metric 0x${headers[13]?.toString(16)}, scalar 0x${headers[14]?.toString(16)}, key 0x${headers[15]?.toString(16)}, slot 0x${headers[16]?.toString(16)}, multi ${headers[41]}) are not those of a cosine index of int8 codes`,
      );
    const u64 = (offset: number): number => {
      const value = headers.readBigUInt64LE(offset);
      return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(value);
    };
    const present = u64(17);
    const deleted = u64(25);
    if (u64(33) !== expect.dimension)
      return damaged(`the header says dimension ${u64(33)}, expected ${expect.dimension}`);
    if (present + deleted !== rows)
      return damaged(
        `the header counts ${headers.readBigUInt64LE(17)} present and ${headers.readBigUInt64LE(25)} removed nodes, not the ${rows} vectors it holds`,
      );
    const count = u64(HEAD_BYTES);
    const connectivity = u64(HEAD_BYTES + 8);
    const base = u64(HEAD_BYTES + 16);
    const maxLevel = u64(HEAD_BYTES + 24);
    const entry = u64(HEAD_BYTES + 32);
    if (count !== rows)
      return damaged(
        `the graph's header counts ${headers.readBigUInt64LE(HEAD_BYTES)} nodes, not ${rows}`,
      );
    if (connectivity !== expect.m || base !== 2 * expect.m)
      return damaged(
        `the header says connectivity ${headers.readBigUInt64LE(HEAD_BYTES + 8)} (base ${headers.readBigUInt64LE(HEAD_BYTES + 16)}), expected ${expect.m}`,
      );
    if (count > 0 && (maxLevel > MAX_LEVEL || entry >= count))
      return damaged(
        `the header's top level ${headers.readBigUInt64LE(HEAD_BYTES + 24)} or entry slot ${headers.readBigUInt64LE(HEAD_BYTES + 32)} is out of range`,
      );
    checksum?.update(matrix);

    // Levels: they give every node's size, so the file's exact size.
    const levelsAt = headAt + HEAD_BYTES + GRAPH_HEADER_BYTES;
    const levelBuffer = Buffer.alloc(2 * count);
    await readExactly(handle, levelBuffer, levelsAt);
    const levels = new Int16Array(count);
    const baseBytes = 4 + 4 * base;
    const upperBytes = 4 + 4 * connectivity;
    let nodesBytes = 0;
    for (let node = 0; node < count; node++) {
      const level = levelBuffer.readInt16LE(2 * node);
      if (level < 0 || level > maxLevel)
        return damaged(`node ${node}: level ${level}, the header's top level is ${maxLevel}`);
      levels[node] = level;
      nodesBytes += 10 + baseBytes + level * upperBytes;
    }
    if (count > 0 && levels[entry] !== maxLevel)
      return damaged(`the entry slot has level ${levels[entry]}, the header says ${maxLevel}`);
    const expected = levelsAt + 2 * count + nodesBytes;
    if (size !== expected)
      return damaged(`the file has ${size} bytes, its header and levels make ${expected}`);

    // Nodes, read in bounded chunks of whole nodes.
    const labelLimit = Math.max(expect.labelLimit, 2 * count + 65_536);
    const keys = new Float64Array(count);
    const seen = new Set<number>();
    let live = 0;
    const buffer = Buffer.allocUnsafeSlow(
      Math.max(CHUNK_BYTES, 10 + baseBytes + MAX_LEVEL * upperBytes),
    );
    let filled = 0;
    let cursor = 0;
    let position = levelsAt + 2 * count;
    const need = async (bytes: number): Promise<void> => {
      if (filled - cursor >= bytes) return;
      buffer.copy(buffer, 0, cursor, filled);
      filled -= cursor;
      cursor = 0;
      const more = Math.min(buffer.length - filled, size - position);
      await readExactly(handle, buffer.subarray(filled, filled + more), position);
      position += more;
      filled += more;
    };
    const links = (node: number, level: number, capacity: number): string | undefined => {
      const linkCount = buffer.readUInt32LE(cursor);
      if (linkCount > capacity)
        return `node ${node}, level ${level}: ${linkCount} links, at most ${capacity}`;
      for (let link = 0; link < linkCount; link++) {
        const target = buffer.readUInt32LE(cursor + 4 + 4 * link);
        if (target >= count)
          return `node ${node}, level ${level}: a link to ${target}, past ${count} nodes`;
      }
      return undefined;
    };
    for (let node = 0; node < count; node++) {
      const level = levels[node]!;
      await need(10 + baseBytes + level * upperBytes);
      const key = buffer.readBigUInt64LE(cursor);
      if (key === FREE_KEY) keys[node] = -1;
      else {
        if (key >= BigInt(labelLimit)) return damaged(`node ${node}: key ${key} is out of range`);
        const label = Number(key);
        if (seen.has(label)) return damaged(`node ${node}: key ${label} appears twice`);
        seen.add(label);
        keys[node] = label;
        live++;
      }
      if (buffer.readInt16LE(cursor + 8) !== level)
        return damaged(
          `node ${node}: level ${buffer.readInt16LE(cursor + 8)}, the levels say ${level}`,
        );
      cursor += 10;
      const baseProblem = links(node, 0, base);
      if (baseProblem !== undefined) return damaged(`level-0 links: ${baseProblem}`);
      cursor += baseBytes;
      for (let upper = 1; upper <= level; upper++, cursor += upperBytes) {
        const problem = links(node, upper, connectivity);
        if (problem !== undefined) return damaged(`upper-level links: ${problem}`);
      }
    }
    if (live !== present)
      return damaged(`${live} nodes have keys, the header counts ${present} present`);

    // The whole file through the checksum, the vectors against the arena's codes on the way.
    let differs: number | undefined;
    if (checksum !== undefined) {
      position = 8;
      const perChunk = Math.max(1, Math.floor(CHUNK_BYTES / Math.max(1, vectorBytes)));
      for (let first = 0; first < count; first += perChunk) {
        const rowsHere = Math.min(perChunk, count - first);
        const chunk = buffer.subarray(0, rowsHere * vectorBytes);
        await readExactly(handle, chunk, position);
        position += chunk.length;
        checksum.update(chunk);
        if (differs === undefined) differs = compareCodes(chunk, first, rowsHere, keys, expect);
      }
      for (; position < size; ) {
        const chunk = buffer.subarray(0, Math.min(buffer.length, size - position));
        await readExactly(handle, chunk, position);
        position += chunk.length;
        checksum.update(chunk);
      }
      if (checksum.digest() !== expect.checksum)
        return damaged(`checksum ${checksum.digest()}, the manifest recorded ${expect.checksum}`);
    } else {
      position = 8;
      const perChunk = Math.max(1, Math.floor(CHUNK_BYTES / Math.max(1, vectorBytes)));
      for (let first = 0; first < count && differs === undefined; first += perChunk) {
        const rowsHere = Math.min(perChunk, count - first);
        const chunk = buffer.subarray(0, rowsHere * vectorBytes);
        await readExactly(handle, chunk, position);
        position += chunk.length;
        differs = compareCodes(chunk, first, rowsHere, keys, expect);
      }
    }
    if (differs !== undefined)
      return {
        ok: false,
        reason: 'mismatch',
        problem: `slot ${differs}: the graph's vector is not the one the memories database holds`,
      };
    const labels: number[] = [];
    for (const key of keys) if (key >= 0) labels.push(key);
    return { ok: true, labels, elements: count };
  } finally {
    await handle.close();
  }
}

/** The first key among `rows` vectors from node `first` whose codes differ from the arena's. */
function compareCodes(
  chunk: Buffer,
  first: number,
  rows: number,
  keys: Float64Array,
  expect: GraphExpectations,
): number | undefined {
  const bytes = expect.dimension;
  for (let row = 0; row < rows; row++) {
    const key = keys[first + row]!;
    if (key < 0) continue;
    const codes = expect.currentCodes(key);
    if (codes === undefined) continue;
    const start = row * bytes;
    const wanted = Buffer.from(codes.buffer, codes.byteOffset, codes.byteLength);
    if (wanted.compare(chunk, start, start + bytes) !== 0) return key;
  }
  return undefined;
}

/** `algorithm:hex` of a whole file, read in bounded chunks (recorded when a graph is saved). */
export async function fileChecksum(file: string): Promise<string> {
  const checksum = new Checksum(zlib.crc32 === undefined ? 'sha1' : 'crc32');
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.allocUnsafeSlow(CHUNK_BYTES);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      checksum.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
  return checksum.digest();
}

/** CRC-32 (zlib's, ~4 GB/s here) where Node has it (20.15+), SHA-1 before. */
class Checksum {
  private crc = 0;
  private readonly hash: ReturnType<typeof createHash> | undefined;
  readonly unknown: boolean;

  constructor(private readonly algorithm: string) {
    this.unknown = algorithm !== 'crc32' && algorithm !== 'sha1';
    this.hash = algorithm === 'sha1' ? createHash('sha1') : undefined;
    if (algorithm === 'crc32' && zlib.crc32 === undefined) this.unknown = true;
  }

  update(data: Uint8Array): void {
    if (this.hash !== undefined) this.hash.update(data);
    else if (!this.unknown) this.crc = zlib.crc32(data, this.crc);
  }

  digest(): string {
    return this.hash !== undefined
      ? `sha1:${this.hash.copy().digest('hex')}`
      : `${this.algorithm}:${this.crc.toString(16).padStart(8, '0')}`;
  }
}

async function readExactly(
  handle: Awaited<ReturnType<typeof open>>,
  target: Buffer,
  position: number,
): Promise<void> {
  let done = 0;
  while (done < target.length) {
    const { bytesRead } = await handle.read(target, done, target.length - done, position + done);
    if (bytesRead === 0) throw new Error(`unexpected end of ${target.length - done} bytes`);
    done += bytesRead;
  }
}
