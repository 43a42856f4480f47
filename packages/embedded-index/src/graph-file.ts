import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import zlib from 'node:zlib';

/**
 * Reads an hnswlib (0.8, as in hnswlib-node 3) graph file before hnswlib does, and says whether
 * it can be trusted. hnswlib's own `loadIndex` checks only the sizes of the upper-level link
 * lists: garbage in the level-0 links (counts of up to 65,535, ids far past the last element)
 * or in the header (`max_elements` drives one allocation) is read as is, and a search or an
 * insert then walks it (a hang with growing memory, or a segfault). Here every count, id,
 * label and size is checked, the checksum the manifest recorded is compared, and each point
 * the caller expects to be current is compared bit for bit with its vector in SQLite.
 *
 * Layout: a 96-byte header; `count` level-0 records of `size_data_per_element` bytes each
 * (a u32 whose low 16 bits are the link count and byte 2 the deleted mark, `maxM0` u32 links,
 * the vector, a u64 label); then per element a u32 byte length and that many bytes of upper
 * levels, each a u32 count and `maxM` u32 links.
 */

const HEADER_BYTES = 96;
/** Level-0 bytes read (and checked) per step: a bounded buffer, whatever the graph's size. */
const CHUNK_BYTES = 4 << 20;
/** No hnswlib graph of ours has more levels (mult = 1/ln 16: level 16 has odds 16^-16). */
const MAX_LEVEL = 32;

/** What the caller knows about the graph it expects. */
export interface GraphExpectations {
  dimension: number;
  m: number;
  efConstruction: number;
  /** Checksum recorded beside the file (`algorithm:hex`); absent for files saved before it. */
  checksum?: string;
  /** Labels must be below this (slots; a bound on what a garbage label could allocate). */
  labelLimit: number;
  /**
   * The vector SQLite holds for a label the manifest says is current in the graph, or
   * undefined when the label's point is stale or deleted (not compared).
   */
  currentVector(label: number): Float32Array | undefined;
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
    if (size < HEADER_BYTES) return damaged(`the file has ${size} bytes, less than a header`);
    const header = Buffer.alloc(HEADER_BYTES);
    await readExactly(handle, header, 0);
    checksum?.update(header);
    const u64 = (offset: number): number => {
      const value = header.readBigUInt64LE(offset);
      return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(value);
    };
    const maxElements = u64(8);
    const count = u64(16);
    const elementBytes = u64(24);
    const labelOffset = u64(32);
    const dataOffset = u64(40);
    const maxLevel = header.readInt32LE(48);
    const entryPoint = header.readUInt32LE(52);
    const maxM = u64(56);
    const maxM0 = u64(64);
    const m = u64(72);
    const mult = header.readDoubleLE(80);
    const efConstruction = u64(88);

    if (m !== expect.m || maxM !== m || maxM0 !== 2 * m)
      return damaged(`the header says M ${m} (maxM ${maxM}, maxM0 ${maxM0}), expected ${expect.m}`);
    if (efConstruction !== expect.efConstruction)
      return damaged(
        `the header says efConstruction ${efConstruction}, expected ${expect.efConstruction}`,
      );
    if (Math.abs(mult - 1 / Math.log(m)) > 1e-9)
      return damaged(`the header's level factor is ${mult}`);
    const linksBytes = 4 + 4 * maxM0;
    const vectorBytes = 4 * expect.dimension;
    if (
      u64(0) !== 0 ||
      dataOffset !== linksBytes ||
      labelOffset !== linksBytes + vectorBytes ||
      elementBytes !== linksBytes + vectorBytes + 8
    )
      return damaged(
        `the header's element layout (${elementBytes} bytes, data at ${dataOffset}, label at ${labelOffset}) is not that of ${expect.dimension}-dimensional vectors`,
      );
    if (!Number.isFinite(count) || count > (size - HEADER_BYTES) / elementBytes)
      return damaged(
        `the header counts ${header.readBigUInt64LE(16)} elements, more than the file holds`,
      );
    if (!(maxElements >= count && maxElements <= 4 * count + 65_536))
      return damaged(
        `the header's capacity ${header.readBigUInt64LE(8)} does not fit ${count} elements`,
      );
    if (count === 0 ? maxLevel !== -1 : maxLevel < 0 || maxLevel > MAX_LEVEL || entryPoint >= count)
      return damaged(
        `the header's top level ${maxLevel} or entry point ${entryPoint} is out of range`,
      );

    // Level 0, a bounded number of whole elements at a time.
    // Labels are slots: below the caller's bound, or (slots freed by deletes) about the graph's size.
    const labelLimit = Math.max(expect.labelLimit, 2 * count + 65_536);
    const labels: number[] = new Array(count);
    const seen = new Set<number>();
    const perChunk = Math.max(1, Math.floor(CHUNK_BYTES / elementBytes));
    const buffer = Buffer.allocUnsafeSlow(perChunk * elementBytes);
    const words = new Uint32Array(buffer.buffer, buffer.byteOffset, buffer.byteLength >>> 2);
    const elementWords = elementBytes >>> 2;
    const dataWord = dataOffset >>> 2;
    const labelWord = labelOffset >>> 2;
    let position = HEADER_BYTES;
    let differs: number | undefined;
    for (let first = 0; first < count; first += perChunk) {
      const elements = Math.min(perChunk, count - first);
      const chunk = buffer.subarray(0, elements * elementBytes);
      await readExactly(handle, chunk, position);
      position += chunk.length;
      checksum?.update(chunk);
      for (let at = 0; at < elements; at++) {
        const element = first + at;
        const base = at * elementWords;
        const head = words[base]!;
        const links = head & 0xffff;
        if (links > maxM0 || head >>> 24 !== 0 || ((head >>> 16) & 0xff) > 1)
          return damaged(`element ${element}: level-0 link header 0x${head.toString(16)}`);
        for (let link = 1; link <= links; link++)
          if (words[base + link]! >= count)
            return damaged(
              `element ${element}: level-0 link to ${words[base + link]}, past ${count} elements`,
            );
        const label = words[base + labelWord]!;
        if (words[base + labelWord + 1] !== 0 || label >= labelLimit)
          return damaged(
            `element ${element}: label ${buffer.readBigUInt64LE((base + labelWord) * 4)} is out of range`,
          );
        if (seen.has(label)) return damaged(`element ${element}: label ${label} appears twice`);
        seen.add(label);
        labels[element] = label;
        const vector = expect.currentVector(label);
        if (vector === undefined) continue;
        if (differs !== undefined) continue;
        // Bit for bit (memcmp: ~3 times faster than a loop over the words).
        const start = (base + dataWord) * 4;
        const expected = Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
        // Damage or another database's graph: the checksum (at the end) tells which.
        if (expected.compare(chunk, start, start + vectorBytes) !== 0) differs = label;
      }
    }

    // Upper levels: small (a 16th of the elements have any), read at once within a bound.
    const rest = size - position;
    const levelBytes = 4 + 4 * maxM;
    if (rest < 4 * count || rest > 4 * count + count * levelBytes * 2 + levelBytes * MAX_LEVEL)
      return damaged(`${rest} bytes of upper-level links for ${count} elements`);
    const upper = Buffer.allocUnsafeSlow(rest);
    await readExactly(handle, upper, position);
    checksum?.update(upper);
    let offset = 0;
    for (let element = 0; element < count; element++) {
      if (offset + 4 > rest) return damaged(`the upper-level links end inside element ${element}`);
      const bytes = upper.readUInt32LE(offset);
      offset += 4;
      const levels = bytes / levelBytes;
      if (!Number.isInteger(levels) || levels > maxLevel || offset + bytes > rest)
        return damaged(`element ${element}: ${bytes} bytes of upper-level links`);
      if (element === entryPoint && levels !== maxLevel)
        return damaged(`the entry point has ${levels} levels, the header says ${maxLevel}`);
      for (let level = 0; level < levels; level++, offset += levelBytes) {
        const head = upper.readUInt32LE(offset);
        if (head > maxM)
          return damaged(
            `element ${element}, level ${level + 1}: link header 0x${head.toString(16)}`,
          );
        for (let link = 1; link <= head; link++)
          if (upper.readUInt32LE(offset + 4 * link) >= count)
            return damaged(`element ${element}, level ${level + 1}: a link past ${count} elements`);
      }
    }
    if (offset !== rest) return damaged(`${rest - offset} bytes after the last element`);
    if (checksum !== undefined && checksum.digest() !== expect.checksum)
      return damaged(`checksum ${checksum.digest()}, the manifest recorded ${expect.checksum}`);
    if (differs !== undefined)
      return {
        ok: false,
        reason: 'mismatch',
        problem: `slot ${differs}: the graph's vector is not the one the memories database holds`,
      };
    return { ok: true, labels, elements: count };
  } finally {
    await handle.close();
  }
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
