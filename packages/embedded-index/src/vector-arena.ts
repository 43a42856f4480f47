import { MembusError } from '@membus/contracts';
import { type CodeMemory, codeMemory, DOT_CHUNK, int16Query } from './int8-dot.ts';

import type { VectorFile } from './vector-file.ts';
import { dotAt, dotManyPaged, PAGE_MASK, PAGE_SHIFT, PAGE_SLOTS } from './vector-pages.ts';

/**
 * A slot's stored vector as little-endian float32 bytes (the SQLite row's blob), or undefined
 * when the slot holds no memory.
 */
export type StoredVectorReader = (slot: number) => Uint8Array | undefined;

/**
 * Vectors by slot, as int8 codes with a scale per vector (dimension + 4 bytes) for scanning, and
 * the exact float32 vectors for scores. Without a `readStored` the float32 vectors are kept here
 * too; with one (the index: SQLite holds every vector) they are read from the store when a score
 * is asked, so the only float copy in memory is the graph's (a quarter of the bytes per memory:
 * 1M memories at 384 dimensions, 1.54 GB → 0.39 GB).
 *
 * Both in fixed-size pages of 4,096 slots, so growing never copies what is already stored (a
 * doubling copy of ~150 MB stalled the loop for ~50 ms). When the dimension is a multiple of 16,
 * the code pages are blocks of the thread's WebAssembly memory (int8-dot.ts), where estimates
 * are computed with SIMD.
 */
export class VectorArena {
  /** The code pages (views into `wasm`'s memory when there is one: see `codePages`). */
  private codes: Int8Array[] = [];
  /**
   * The WebAssembly memory holding the code pages, with each page's offset in it; undefined for
   * dimensions that are not a multiple of 16, and once the memory could not grow (the pages then
   * move to ArrayBuffers).
   */
  private wasm: CodeMemory | undefined;
  private readonly pageOffsets: number[] = [];
  /** The memory's buffer that `codes` views (it is replaced when the memory grows). */
  private codesBuffer: ArrayBuffer | undefined;
  private readonly scales: Float32Array[] = [];
  /** The float32 vectors when there is no `readStored`. */
  private readonly floats: Float32Array[] = [];
  /**
   * `readStored` reads a slot's vector from the store; `openFile`, when given, opens (at the
   * first `set`, so that a failed open of the index around it leaks no descriptor) a faster copy
   * of the store's vectors that each `set` writes and that is read first.
   */
  constructor(
    readonly dimension: number,
    private readonly readStored?: StoredVectorReader,
    private readonly openFile?: () => VectorFile | undefined,
    memory: CodeMemory | undefined = codeMemory(),
  ) {
    this.wasm = dimension % 16 === 0 && dimension > 0 ? memory : undefined;
  }

  /** The code pages, as views of the memory's current buffer when they live in WebAssembly. */
  private codePages(): Int8Array[] {
    const wasm = this.wasm;
    if (wasm !== undefined && this.codesBuffer !== wasm.buffer) {
      const buffer = wasm.buffer;
      const bytes = PAGE_SLOTS * this.dimension;
      this.codes = this.pageOffsets.map((offset) => new Int8Array(buffer, offset, bytes));
      this.codesBuffer = buffer;
      this.pagesChanged++;
    }
    return this.codes;
  }

  /** Counts the changes of the page list (a page added, views renewed, pages moved). */
  private pagesChanged = 0;

  /**
   * The code pages as the graph reads them (ArenaGraph.setPages), and a version that changes
   * whenever they do: the graph's nodes point into these bytes, so a page keeps its codes (and
   * place, or the graph is told) for as long as the arena is open.
   */
  graphPages(): { pages: readonly Int8Array[]; pageSlots: number; version: number } {
    const pages = this.codePages();
    return { pages, pageSlots: PAGE_SLOTS, version: this.pagesChanged };
  }

  private file: VectorFile | undefined;
  private fileOpened = false;
  /**
   * What `dot` reads a slot's vector from the file into. A query scores ~100 candidates exactly;
   * a new Float32Array for each was ~170 kB of ArrayBuffers per query, whose external-memory
   * pressure made V8 run a full mark-compact every ~100 queries (5-15 ms on the event loop).
   */
  private scratch: Float32Array | undefined;

  /** Slots that fit without allocating. */
  get capacity(): number {
    return this.codes.length * PAGE_SLOTS;
  }

  /** Allocates pages so that `slot` fits. */
  ensure(slot: number): void {
    while (slot >= this.codes.length * PAGE_SLOTS) {
      this.pagesChanged++;
      if (this.wasm === undefined) this.codes.push(new Int8Array(PAGE_SLOTS * this.dimension));
      else {
        let offset: number;
        try {
          offset = this.wasm.allocate(PAGE_SLOTS * this.dimension);
        } catch {
          this.leaveWasm();
          continue;
        }
        this.pageOffsets.push(offset);
        this.codesBuffer = undefined;
        this.codePages();
      }
      this.scales.push(new Float32Array(PAGE_SLOTS));
      if (this.readStored === undefined)
        this.floats.push(new Float32Array(PAGE_SLOTS * this.dimension));
    }
  }

  /** Stores a slot's vector (with `readStored`, the store must already hold it). */
  set(slot: number, vector: Float32Array): void {
    this.ensure(slot);
    const page = slot >>> PAGE_SHIFT;
    const dimension = this.dimension;
    const start = (slot & PAGE_MASK) * dimension;
    if (this.readStored === undefined) this.floats[page]!.set(vector, start);
    else {
      if (!this.fileOpened) {
        this.fileOpened = true;
        this.file = this.openFile?.();
      }
      this.file?.write(slot, vector);
    }
    this.quantise(slot, vector);
  }

  /** Writes a slot's int8 codes and scale from its vector (the slot's page allocated). */
  private quantise(slot: number, vector: Float32Array): void {
    const dimension = this.dimension;
    const page = slot >>> PAGE_SHIFT;
    const start = (slot & PAGE_MASK) * dimension;
    // Per-vector symmetric scale: the largest component maps to ±127.
    let largest = 0;
    for (let index = 0; index < dimension; index++) {
      const magnitude = Math.abs(vector[index]!);
      if (magnitude > largest) largest = magnitude;
    }
    const scale = largest / 127;
    this.scales[page]![slot & PAGE_MASK] = scale;
    const codes = this.codePages()[page]!;
    const inverse = scale === 0 ? 0 : 1 / scale;
    for (let index = 0; index < dimension; index++)
      codes[start + index] = Math.round(vector[index]! * inverse);
  }

  /** The pages of codes and of scales, as a restart snapshot writes them. */
  snapshotPages(): { codes: readonly Int8Array[]; scales: readonly Float32Array[] } {
    return { codes: this.codePages(), scales: this.scales };
  }

  /**
   * Page `index` of codes or of scales, allocated if need be, for a restart snapshot to be read
   * into: the view is valid until the next page is allocated (the memory may move).
   */
  restorePage(kind: 'codes' | 'scales', index: number): Int8Array | Float32Array {
    this.ensure((index + 1) * PAGE_SLOTS - 1);
    return kind === 'codes' ? this.codePages()[index]! : this.scales[index]!;
  }

  /**
   * Takes `file` as the arena's vector file, once the codes of the slots below `end` are
   * restored: a file a clean close vouched for, which holds every live slot's vector. False, with
   * the file not taken, when the file or the restored pages are short of `end` slots (the caller
   * then sets every slot from the store).
   */
  adoptFile(file: VectorFile, end: number): boolean {
    if (this.readStored === undefined || file.slots() < end || this.capacity < end) return false;
    this.file?.close();
    this.file = file;
    this.fileOpened = true;
    return true;
  }

  /**
   * Flushes the vector file to disk; true when it holds every live slot's vector (the arena
   * keeps one and no write to it failed).
   */
  syncFile(): boolean {
    return this.fileOpened && this.file?.sync() === true;
  }

  /** Stores a slot's vector given as a little-endian float32 blob. */
  setBytes(slot: number, bytes: Uint8Array): void {
    this.set(slot, this.floatsOf(bytes));
  }

  /** The slot's exact vector (with `readStored`, a fresh read from the file or the store). */
  view(slot: number): Float32Array {
    if (this.readStored === undefined) {
      const start = (slot & PAGE_MASK) * this.dimension;
      return this.floats[slot >>> PAGE_SHIFT]!.subarray(start, start + this.dimension);
    }
    const cached = this.file?.read(slot);
    if (cached !== undefined) return cached;
    const bytes = this.readStored(slot);
    if (bytes === undefined)
      throw new MembusError('INTERNAL', `slot ${slot} holds no stored vector`, {
        details: { slot },
      });
    return this.floatsOf(bytes);
  }

  /** The slot's int8 codes (largest component → ±127), a view into the arena (what the graph holds). */
  codesView(slot: number): Int8Array {
    const start = (slot & PAGE_MASK) * this.dimension;
    return this.codePages()[slot >>> PAGE_SHIFT]!.subarray(start, start + this.dimension);
  }

  /**
   * The WebAssembly memory is full (4 GiB of codes in this thread): the pages are copied to
   * ArrayBuffers and estimated in JavaScript from now on.
   */
  private leaveWasm(): void {
    const wasm = this.wasm;
    if (wasm === undefined) return;
    const pages = this.codePages().map((page) => new Int8Array(page));
    for (const offset of this.pageOffsets) wasm.release(offset, PAGE_SLOTS * this.dimension);
    this.pageOffsets.length = 0;
    this.wasm = undefined;
    this.codes = pages;
    this.pagesChanged++;
  }

  /** Releases the vector file, if any, and the code pages (the arena holds nothing after). */
  close(): void {
    this.fileOpened = true;
    this.file?.close();
    if (this.wasm !== undefined) {
      for (const offset of this.pageOffsets) this.wasm.release(offset, PAGE_SLOTS * this.dimension);
      this.pageOffsets.length = 0;
      this.codes = [];
      this.codesBuffer = this.wasm.buffer;
    }
  }

  /** The exact similarity (dot product) of a slot's vector with `query`. */
  dot(slot: number, query: Float32Array): number {
    if (this.readStored !== undefined) {
      this.scratch ??= new Float32Array(this.dimension);
      return dotAt(this.file?.readInto(slot, this.scratch) ?? this.view(slot), 0, query);
    }
    return dotAt(this.floats[slot >>> PAGE_SHIFT]!, (slot & PAGE_MASK) * this.dimension, query);
  }

  /**
   * `out[i] = dot(slots[i], query)` for the first `count` slots, equal to `dot` bit for bit.
   * Four vectors at a time when they are in memory: their cache and TLB misses overlap instead of
   * queueing one behind the other (1,000 scattered slots at 100k: 1.45 → 0.89 ms).
   */
  dotMany(slots: Int32Array, count: number, query: Float32Array, out: Float64Array): void {
    if (this.readStored !== undefined) {
      for (let at = 0; at < count; at++) out[at] = this.dot(slots[at]!, query);
      return;
    }
    dotManyPaged(this.floats, this.dimension, slots, count, query, out);
  }

  /**
   * `out[i]` ≈ `dot(slots[i], query)` from the int8 codes, for the first `count` slots (the error
   * is at most half a quantisation step per component: ~1e-3 for unit vectors at 384
   * dimensions; with SIMD the query is rounded to int16 codes too, ~1/250 of that again), with
   * no store read. For ranking candidates whose best are then scored exactly.
   */
  estimateMany(slots: Int32Array, count: number, query: Float32Array, out: Float64Array): void {
    if (this.wasm !== undefined) {
      this.estimateWithSimd(this.wasm, slots, count, query, out);
      return;
    }
    dotManyPaged(this.codes, this.dimension, slots, count, query, out);
    const scales = this.scales;
    for (let at = 0; at < count; at++) {
      const slot = slots[at]!;
      out[at] = out[at]! * scales[slot >>> PAGE_SHIFT]![slot & PAGE_MASK]!;
    }
  }

  private estimateWithSimd(
    wasm: CodeMemory,
    slots: Int32Array,
    count: number,
    query: Float32Array,
    out: Float64Array,
  ): void {
    const dimension = this.dimension;
    const { query: codes, addresses, sums } = wasm.views(dimension);
    const queryScale = int16Query(query, codes);
    const offsets = this.pageOffsets;
    const scales = this.scales;
    for (let from = 0; from < count; from += DOT_CHUNK) {
      const to = Math.min(count, from + DOT_CHUNK);
      for (let at = from; at < to; at++) {
        const slot = slots[at]!;
        addresses[at - from] = offsets[slot >>> PAGE_SHIFT]! + (slot & PAGE_MASK) * dimension;
      }
      wasm.dots(dimension, to - from);
      for (let at = from; at < to; at++) {
        const slot = slots[at]!;
        out[at] = sums[at - from]! * queryScale * scales[slot >>> PAGE_SHIFT]![slot & PAGE_MASK]!;
      }
    }
  }

  /** The blob as floats: a view when it is aligned, else a copy. */
  private floatsOf(bytes: Uint8Array): Float32Array {
    if (bytes.byteOffset % 4 === 0)
      return new Float32Array(bytes.buffer, bytes.byteOffset, this.dimension);
    const copy = new Float32Array(this.dimension);
    new Uint8Array(copy.buffer).set(bytes.subarray(0, this.dimension * 4));
    return copy;
  }
}
