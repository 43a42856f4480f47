/**
 * The int8 codes' dot products with WebAssembly SIMD. An exact scan ranks its candidates by these
 * (VectorArena.estimateMany): at 1M memories a 1 % filter is ~10k candidates, 3.8 MB of codes,
 * which JavaScript multiplied one component at a time in ~6 ms on this host (its loop compiles
 * to scalar code); 16 components per instruction here. The codes live in one WebAssembly memory
 * per thread, shared by every arena of the thread (a memory reserves ~10 GB of address space, so
 * one per index could exhaust it in a process that opens many), in blocks an arena takes and
 * gives back when it closes.
 *
 * The module is written out as bytes (no WebAssembly toolchain in the build): one function,
 * `dots(addresses, count, query, dimension, out)`, for `dimension` a multiple of 16:
 *
 *   for i in 0..count: out[i] = Σ_j int8 codes[addresses[i] + j] · int16 query[j]
 *
 * with each 16 codes sign-extended to two i16x8 and multiplied pairwise into i32x4 lanes
 * (`i32x4.dot_i16x8_s`). The query is int16 so that its own rounding adds ~1/250 of the codes'
 * error; the sums are exact integers while dimension × 127 × the query's largest code < 2³¹.
 */

// biome-ignore format: one instruction per line, as the comment beside it reads.
const KERNEL = Uint8Array.of(
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // \0asm, version 1
  0x01, 0x09, 0x01, 0x60, 0x05, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x00, // type: (i32 × 5) → ()
  0x02, 0x0f, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x01, // import env.memory, min 1 page
  0x03, 0x02, 0x01, 0x00, // function 0 has type 0
  0x07, 0x08, 0x01, 0x04, 0x64, 0x6f, 0x74, 0x73, 0x00, 0x00, // export "dots" = function 0
  0x0a, 0x00, // code section: its size (in place of this 0) and the body are appended
);
/**
 * The function's body. Before each candidate it loads a byte of each 64-byte line (the first 8
 * lines) of the candidate AHEAD places on and drops them: a prefetch, so that the TLB walk and
 * cache misses of scattered candidates overlap the arithmetic (1M memories, 10k candidates 100
 * slots apart: 3.4 → 1.0 ms).
 */
function body(dimension: number): number[] {
  const prefetch: number[] = [];
  for (let line = 0; line < Math.min(dimension, 512); line += 64)
    prefetch.push(0x20, 0x0a, 0x2c, 0x00, ...leb128(line), 0x1a); // drop(load8_s(ahead + line))
  // Parameters 0 addresses, 1 count, 2 query, 3 dimension, 4 out; locals 5 i, 6 address, 7 j,
  // 8 sum, 9 codes, 10 ahead.
  // biome-ignore format: one instruction per line, as the comment beside it reads.
  return [
  0x03, 0x03, 0x7f, 0x02, 0x7b, 0x01, 0x7f, // locals: 3 × i32, 2 × v128, 1 × i32
  0x02, 0x40, // block
  0x20, 0x01, 0x45, 0x0d, 0x00, // if count == 0: leave
  0x03, 0x40, // loop over candidates
  0x20, 0x00, // &addresses[min(i + AHEAD, count - 1)]:
  0x20, 0x05, 0x41, AHEAD, 0x6a, 0x20, 0x01, 0x41, 0x01, 0x6b, // i + AHEAD, count - 1
  0x20, 0x05, 0x41, AHEAD, 0x6a, 0x20, 0x01, 0x49, 0x1b, // select on i + AHEAD < count
  0x41, 0x02, 0x74, 0x6a, 0x28, 0x02, 0x00, 0x21, 0x0a, // ahead = addresses[that]
  ...prefetch,
  0x20, 0x00, 0x20, 0x05, 0x41, 0x02, 0x74, 0x6a, 0x28, 0x02, 0x00, 0x21, 0x06, // address = addresses[i]
  0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x21, 0x08, // sum = 0
  0x41, 0x00, 0x21, 0x07, // j = 0
  0x03, 0x40, // loop over components, 16 at a time
  0x20, 0x06, 0x20, 0x07, 0x6a, 0xfd, 0x00, 0x00, 0x00, 0x21, 0x09, // codes = v128.load(address + j)
  0x20, 0x08, // sum
  0x20, 0x09, 0xfd, 0x87, 0x01, // i16x8.extend_low_i8x16_s(codes)
  0x20, 0x02, 0x20, 0x07, 0x41, 0x01, 0x74, 0x6a, 0xfd, 0x00, 0x00, 0x00, // v128.load(query + 2j)
  0xfd, 0xba, 0x01, 0xfd, 0xae, 0x01, // i32x4.dot_i16x8_s, i32x4.add
  0x20, 0x09, 0xfd, 0x88, 0x01, // i16x8.extend_high_i8x16_s(codes)
  0x20, 0x02, 0x20, 0x07, 0x41, 0x01, 0x74, 0x6a, 0xfd, 0x00, 0x00, 0x10, // v128.load(query + 2j + 16)
  0xfd, 0xba, 0x01, 0xfd, 0xae, 0x01, // i32x4.dot_i16x8_s, i32x4.add
  0x21, 0x08, // sum =
  0x20, 0x07, 0x41, 0x10, 0x6a, 0x22, 0x07, 0x20, 0x03, 0x49, 0x0d, 0x00, // j += 16; again while j < dimension
  0x0b, // end of the components
  0x20, 0x04, 0x20, 0x05, 0x41, 0x02, 0x74, 0x6a, // &out[i]
  0x20, 0x08, 0xfd, 0x1b, 0x00, 0x20, 0x08, 0xfd, 0x1b, 0x01, 0x6a, // sum's lanes 0 + 1
  0x20, 0x08, 0xfd, 0x1b, 0x02, 0x6a, 0x20, 0x08, 0xfd, 0x1b, 0x03, 0x6a, // + 2 + 3
  0x36, 0x02, 0x00, // out[i] = that
  0x20, 0x05, 0x41, 0x01, 0x6a, 0x22, 0x05, 0x20, 0x01, 0x49, 0x0d, 0x00, // i += 1; again while i < count
  0x0b, // end of the candidates
  0x0b, // end of the block
  0x0b, // end of the function
  ];
}

/** How many candidates ahead the kernel prefetches. */
const AHEAD = 8;

/** The module's bytes: KERNEL with the code section (one body) appended. */
function moduleBytes(dimension: number): Uint8Array {
  const code = body(dimension);
  const section = [0x01, ...leb128(code.length), ...code];
  const sized = [...leb128(section.length), ...section];
  const bytes = new Uint8Array(KERNEL.length - 1 + sized.length);
  bytes.set(KERNEL.subarray(0, KERNEL.length - 1));
  bytes.set(sized, KERNEL.length - 1);
  return bytes;
}

/** `value` as unsigned LEB128. */
function leb128(value: number): number[] {
  const bytes: number[] = [];
  let rest = value;
  do {
    const low = rest & 0x7f;
    rest >>>= 7;
    bytes.push(rest === 0 ? low : low | 0x80);
  } while (rest !== 0);
  return bytes;
}

/** 64 KiB, WebAssembly's page. */
const WASM_PAGE = 65_536;
/** Candidates per call (the scratch arrays' length). */
export const DOT_CHUNK = 4_096;

type DotsFunction = (
  addresses: number,
  count: number,
  query: number,
  dimension: number,
  out: number,
) => void;

/** The WebAssembly API this file uses (the project's TypeScript libs declare none). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (
    module: object,
    imports: Record<string, Record<string, unknown>>,
  ) => { exports: Record<string, unknown> };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Scratch space of one dimension in the memory: the query, addresses and results. */
interface Scratch {
  query: number;
  addresses: number;
  out: number;
}

/**
 * The thread's WebAssembly memory of int8 codes: blocks for arenas, and `dots` over them. Views
 * into it (`buffer`) are replaced whenever it grows: hold none across an `allocate`.
 */
export class CodeMemory {
  private readonly memory: WasmMemory;
  /** The kernel by dimension (each prefetches that many bytes of a vector). */
  private readonly kernels = new Map<number, DotsFunction>();
  /** Blocks given back, by byte length. */
  private readonly free = new Map<number, number[]>();
  private readonly scratches = new Map<number, Scratch>();
  private top = 0;

  /** `maximumPages` of 64 KiB: 4 GiB, WebAssembly's most (10M codes of 384 dimensions fit). */
  constructor(private readonly maximumPages = 65_536) {
    this.memory = new wasmApi.Memory({ initial: 1, maximum: maximumPages });
    // Throws where WebAssembly SIMD is not supported.
    this.kernel(16);
  }

  private kernel(dimension: number): DotsFunction {
    let kernel = this.kernels.get(dimension);
    if (kernel === undefined) {
      const instance = new wasmApi.Instance(new wasmApi.Module(moduleBytes(dimension)), {
        env: { memory: this.memory },
      });
      kernel = instance.exports.dots as DotsFunction;
      this.kernels.set(dimension, kernel);
    }
    return kernel;
  }

  /** The memory's bytes; a new buffer after every growth. */
  get buffer(): ArrayBuffer {
    return this.memory.buffer;
  }

  /**
   * The offset of a zeroed block of `bytes` (a multiple of 16), reusing a freed one. Throws a
   * RangeError when the memory cannot grow (past its maximum, or out of memory).
   */
  allocate(bytes: number): number {
    const reused = this.free.get(bytes)?.pop();
    if (reused !== undefined) {
      new Uint8Array(this.memory.buffer, reused, bytes).fill(0);
      return reused;
    }
    const offset = this.top;
    const end = offset + bytes;
    const have = this.memory.buffer.byteLength;
    if (end > have) this.grow(Math.ceil((end - have) / WASM_PAGE), have / WASM_PAGE);
    this.top = end;
    return offset;
  }

  /**
   * Grows the memory in place (V8 reserves the whole 4 GiB up front: nothing stored is copied) by
   * at least half of what it has. Each growth gives the memory a new buffer, which V8 counts as
   * that much new external memory and answers with a full GC: grown by one page of codes at a
   * time (4,096 slots), a bulk load ran a full GC every second — at 8.8M memories 75 % of an
   * open's time, 1–2 s each. By halves, ~25 growths take it to 4 GiB. The pages grown into take
   * no RAM before a code is written to them.
   */
  private grow(needed: number, have: number): void {
    const ahead = Math.min(Math.max(needed, Math.ceil(have / 2)), this.maximumPages - have);
    if (ahead > needed)
      try {
        this.memory.grow(ahead);
        return;
      } catch {
        // Not that much to be had: only what is needed.
      }
    this.memory.grow(needed);
  }

  /** Gives a block back for a later `allocate` of the same size. */
  release(offset: number, bytes: number): void {
    const list = this.free.get(bytes) ?? [];
    list.push(offset);
    this.free.set(bytes, list);
  }

  /**
   * Views of the scratch space for `dimension` (a multiple of 16): the int16 query, DOT_CHUNK
   * addresses of code vectors, and their sums. Valid until the memory grows (`allocate`).
   */
  views(dimension: number): { query: Int16Array; addresses: Int32Array; sums: Int32Array } {
    const scratch = this.scratch(dimension);
    const buffer = this.memory.buffer;
    return {
      query: new Int16Array(buffer, scratch.query, dimension),
      addresses: new Int32Array(buffer, scratch.addresses, DOT_CHUNK),
      sums: new Int32Array(buffer, scratch.out, DOT_CHUNK),
    };
  }

  /**
   * `sums[i] = Σ_j codes[addresses[i] + j] · query[j]` for the first `count` (≤ DOT_CHUNK)
   * scratch addresses, over `dimension` components: exact integers.
   */
  dots(dimension: number, count: number): void {
    const scratch = this.scratch(dimension);
    this.kernel(dimension)(scratch.addresses, count, scratch.query, dimension, scratch.out);
  }

  private scratch(dimension: number): Scratch {
    let scratch = this.scratches.get(dimension);
    if (scratch === undefined) {
      const query = this.allocate(dimension * 2);
      const addresses = this.allocate(DOT_CHUNK * 4);
      scratch = { query, addresses, out: this.allocate(DOT_CHUNK * 4) };
      this.scratches.set(dimension, scratch);
    }
    return scratch;
  }
}

let shared: CodeMemory | null | undefined;

/** The thread's code memory, or undefined where WebAssembly SIMD cannot run (JavaScript scans). */
export function codeMemory(): CodeMemory | undefined {
  if (shared === undefined) {
    try {
      shared = new CodeMemory();
    } catch {
      shared = null;
    }
  }
  return shared ?? undefined;
}

/** The largest absolute value among the first `length` components of `vector` (the codes' scale). */
export function largestMagnitude(vector: Float32Array, length: number): number {
  let largest = 0;
  for (let index = 0; index < length; index++) {
    const magnitude = Math.abs(vector[index]!);
    if (magnitude > largest) largest = magnitude;
  }
  return largest;
}

/**
 * The int16 codes of `query` into `into` and their scale (query ≈ codes × scale): the largest
 * component maps to the largest code whose sums with int8 codes stay below 2³¹.
 */
export function int16Query(query: Float32Array, into: Int16Array): number {
  const dimension = into.length;
  const largest = largestMagnitude(query, dimension);
  const top = Math.min(32_767, Math.floor((2 ** 31 - 1) / (dimension * 127)));
  if (largest === 0 || top < 1) {
    into.fill(0);
    return 0;
  }
  const scale = largest / top;
  const inverse = top / largest;
  for (let index = 0; index < dimension; index++) into[index] = Math.round(query[index]! * inverse);
  return scale;
}
