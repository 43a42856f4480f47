import {
  closeSync,
  fstatSync,
  fsyncSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import * as zlib from 'node:zlib';

/**
 * A file of named typed arrays, lists of typed arrays (pages) and string lists under a JSON
 * header, each section with its CRC-32: what the index writes at a clean close so that the next
 * open restores its in-memory structures instead of rebuilding them from every row
 * (restart-snapshot.ts). A reader may give the arrays that pages are read into (the vector
 * arena's code pages, which live in WebAssembly memory): gigabytes of codes are then read in
 * place, never held twice.
 *
 * Layout: the magic line, the header's byte length (u32 little-endian), the header (JSON: the
 * caller's fields and the sections' names, types, lengths and checksums), then each section's
 * bytes in that order. Written to a temporary name, synced and renamed, so the file under
 * `path` is whole or absent.
 */

const MAGIC = Buffer.from('membus-snapshot 1\n', 'utf8');
/**
 * A string list is written in sections of at most this many strings and characters, each
 * joined by NUL (stems and words hold none): one joined string stays far below V8's limit
 * (~2^29 characters) however long the tenants' words are.
 */
const CHUNK_STRINGS = 1 << 18;
const CHUNK_CHARACTERS = 1 << 24;
const SEPARATOR = '\u0000';
/** zlib's CRC-32 where Node has it (20.15+); before, sections are written and read unchecked. */
const crc32 = (bytes: Uint8Array): number => (zlib.crc32 === undefined ? 0 : zlib.crc32(bytes));

export type SnapshotArray =
  | Int8Array<ArrayBufferLike>
  | Int32Array<ArrayBufferLike>
  | Uint32Array<ArrayBufferLike>
  | Uint16Array<ArrayBufferLike>
  | Float32Array<ArrayBufferLike>
  | Float64Array<ArrayBufferLike>;

const ARRAY_TYPES = {
  Int8Array,
  Int32Array,
  Uint32Array,
  Uint16Array,
  Float32Array,
  Float64Array,
} as const;
export type SnapshotArrayType = keyof typeof ARRAY_TYPES;

interface Section {
  name: string;
  /** A typed array's type, or 'strings' for a chunk of a string list. */
  type: SnapshotArrayType | 'strings';
  /** True for a page of a list of arrays. */
  page?: true;
  /** Elements of the typed array, or strings of the chunk. */
  length: number;
  bytes: number;
  crc: number;
}

export interface SnapshotContents<H> {
  header: H;
  arrays: Record<string, SnapshotArray>;
  strings: Record<string, string[]>;
  /** Lists of arrays, in order (pages of one structure). */
  pages?: Record<string, readonly SnapshotArray[]>;
}

/**
 * The array page `index` of list `name` is to be read into (of `type` and `length` elements,
 * else the file is refused as malformed), or undefined to have one allocated.
 */
export type PageDestination = (
  name: string,
  index: number,
  type: SnapshotArrayType,
  length: number,
) => SnapshotArray | undefined;

/** Why a snapshot file was not restored. */
export class SnapshotUnreadable extends Error {}

export function writeSnapshotFile<H>(path: string, contents: SnapshotContents<H>): void {
  const sections: Section[] = [];
  const payloads: Uint8Array[] = [];
  const addArray = (name: string, array: SnapshotArray, page: boolean): void => {
    const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
    const type = array.constructor.name as SnapshotArrayType;
    const length = array.length;
    sections.push({
      name,
      type,
      ...(page ? { page } : {}),
      length,
      bytes: bytes.byteLength,
      crc: crc32(bytes),
    });
    payloads.push(bytes);
  };
  for (const [name, array] of Object.entries(contents.arrays)) addArray(name, array, false);
  for (const [name, pages] of Object.entries(contents.pages ?? {}))
    for (const page of pages) addArray(name, page, true);
  for (const [name, strings] of Object.entries(contents.strings))
    for (const chunk of chunks(strings)) {
      const bytes = Buffer.from(chunk.join(SEPARATOR), 'utf8');
      sections.push({
        name,
        type: 'strings',
        length: chunk.length,
        bytes: bytes.byteLength,
        crc: crc32(bytes),
      });
      payloads.push(bytes);
    }
  const header = Buffer.from(JSON.stringify({ header: contents.header, sections }), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(header.byteLength);

  const temporary = `${path}.tmp`;
  const descriptor = openSync(temporary, 'w');
  try {
    for (const part of [MAGIC, length, header, ...payloads]) writeAll(descriptor, part);
    fsyncSync(descriptor);
  } catch (error) {
    closeSync(descriptor);
    rmSync(temporary, { force: true });
    throw error;
  }
  closeSync(descriptor);
  renameSync(temporary, path);
  syncDirectory(dirname(path));
}

/** `strings` in consecutive runs within the chunk bounds; one empty run for an empty list. */
function* chunks(strings: readonly string[]): Generator<string[]> {
  let chunk: string[] = [];
  let characters = 0;
  for (const string of strings) {
    if (
      chunk.length > 0 &&
      (chunk.length === CHUNK_STRINGS || characters + string.length > CHUNK_CHARACTERS)
    ) {
      yield chunk;
      chunk = [];
      characters = 0;
    }
    chunk.push(string);
    characters += string.length + 1;
  }
  if (chunk.length > 0 || strings.length === 0) yield chunk;
}

/**
 * Reads a snapshot file whole, pages into the arrays `destination` gives; throws
 * `SnapshotUnreadable` when it is not one, or damaged (pages read before the damage was found
 * are then in their destinations).
 */
export function readSnapshotFile<H>(
  path: string,
  destination?: PageDestination,
): SnapshotContents<H> {
  let descriptor: number;
  try {
    descriptor = openSync(path, 'r');
  } catch (error) {
    throw new SnapshotUnreadable(`cannot open ${path}`, { cause: error });
  }
  try {
    const size = fstatSync(descriptor).size;
    let position = 0;
    const read = (into: Uint8Array): void => {
      if (position + into.byteLength > size) throw new SnapshotUnreadable(`${path} is truncated`);
      readAll(descriptor, into, position);
      position += into.byteLength;
    };
    const magic = new Uint8Array(MAGIC.byteLength);
    read(magic);
    if (!MAGIC.equals(magic)) throw new SnapshotUnreadable(`${path} is not a snapshot file`);
    const length = Buffer.alloc(4);
    read(length);
    const headerBytes = Buffer.alloc(length.readUInt32LE());
    read(headerBytes);
    const parsed = JSON.parse(headerBytes.toString('utf8')) as { header: H; sections: Section[] };
    const pages: Record<string, SnapshotArray[]> = Object.create(null);
    const contents: SnapshotContents<H> = { header: parsed.header, arrays: {}, strings: {}, pages };
    const malformed = (section: Section) =>
      new SnapshotUnreadable(`${path}: section ${section.name} is malformed`);
    for (const section of parsed.sections) {
      let bytes: Uint8Array;
      let array: SnapshotArray | undefined;
      if (section.type === 'strings') bytes = Buffer.alloc(section.bytes);
      else {
        const Type = Object.hasOwn(ARRAY_TYPES, section.type)
          ? ARRAY_TYPES[section.type]
          : undefined;
        if (Type === undefined || section.length * Type.BYTES_PER_ELEMENT !== section.bytes)
          throw malformed(section);
        let list: SnapshotArray[] | undefined;
        if (section.page === true) {
          list = pages[section.name] ?? [];
          pages[section.name] = list;
          array = destination?.(section.name, list.length, section.type, section.length);
        }
        if (array === undefined) array = new Type(section.length);
        else if (!(array instanceof Type) || array.length !== section.length)
          throw malformed(section);
        list?.push(array);
        bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
      }
      read(bytes);
      if (crc32(bytes) !== section.crc)
        throw new SnapshotUnreadable(`${path}: section ${section.name} fails its checksum`);
      if (array !== undefined) {
        if (section.page !== true) contents.arrays[section.name] = array;
      } else {
        const strings = section.length === 0 ? [] : bytes.toString().split(SEPARATOR);
        if (strings.length !== section.length)
          throw new SnapshotUnreadable(`${path}: section ${section.name} is malformed`);
        const list = contents.strings[section.name];
        if (list === undefined) contents.strings[section.name] = strings;
        else for (const string of strings) list.push(string);
      }
    }
    if (position !== size) throw new SnapshotUnreadable(`${path} has trailing bytes`);
    return contents;
  } catch (error) {
    if (error instanceof SnapshotUnreadable) throw error;
    throw new SnapshotUnreadable(`${path} cannot be read`, { cause: error });
  } finally {
    closeSync(descriptor);
  }
}

// Positional reads and writes move at most ~2 GB per call.
const IO_CHUNK = 1 << 30;

function writeAll(descriptor: number, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.byteLength)
    offset += writeSync(descriptor, bytes, offset, Math.min(IO_CHUNK, bytes.byteLength - offset));
}

function readAll(descriptor: number, into: Uint8Array, position: number): void {
  let offset = 0;
  while (offset < into.byteLength) {
    const read = readSync(
      descriptor,
      into,
      offset,
      Math.min(IO_CHUNK, into.byteLength - offset),
      position + offset,
    );
    if (read === 0) throw new SnapshotUnreadable('unexpected end of file');
    offset += read;
  }
}

/** Makes a rename in `directory` durable (where the platform allows opening a directory). */
function syncDirectory(directory: string): void {
  let descriptor: number | undefined;
  try {
    descriptor = openSync(directory, 'r');
    fsyncSync(descriptor);
  } catch {
    // Not supported here (e.g. Windows): the rename is as durable as the platform makes it.
  } finally {
    if (descriptor !== undefined) closeSync(descriptor);
  }
}
