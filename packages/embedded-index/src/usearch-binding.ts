import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { largestMagnitude } from './int8-dot.ts';

/**
 * usearch's native index, without its JavaScript wrapper: the wrapper turns every Int8Array it is
 * given into a Float32Array, which the native side then quantises itself (x · 127 / |x|,
 * truncated: a 384-d unit vector's components of ~0.05 become codes of ~6). Given Int8Array
 * codes, the native index stores and compares them as they are, so the graph holds the arena's
 * codes (largest component → ±127) and its queries are quantised the same way.
 */
export interface NativeUsearchIndex extends UsearchIndexBase {
  add(keys: BigUint64Array, vectors: Int8Array | Float32Array, threads: number): void;
  /** [keys, distances, counts] for `queries` (one query: counts[0] results). */
  search(
    queries: Int8Array | Float32Array,
    k: number,
    threads: number,
  ): [BigUint64Array, Float32Array, BigUint64Array];
}

/** What usearch's binding and the arena graph addon both answer. */
interface UsearchIndexBase {
  remove(keys: BigUint64Array): number[];
  contains(keys: BigUint64Array): boolean[];
  dimensions(): number;
  connectivity(): number;
  size(): number;
  capacity(): number;
  /** usearch's file (the arena graph writes the codes from the pages). */
  save(path: string): void;
  /** Reads a saved graph (the arena graph: setPages first, the pages holding every key's codes). */
  load(path: string): void;
}

interface NativeBinding {
  CompiledIndex: new (
    dimensions: number,
    metric: string,
    quantization: string,
    connectivity: number,
    expansionAdd: number,
    expansionSearch: number,
    multi: boolean,
  ) => NativeUsearchIndex;
}

let binding: NativeBinding | undefined;

function load(): NativeBinding {
  if (binding !== undefined) return binding;
  const require = createRequire(import.meta.url);
  // usearch's entry is <root>/javascript/dist/cjs/usearch.js; its prebuilt binaries are under <root>.
  const entry = require.resolve('usearch');
  const root = join(dirname(entry), '..', '..', '..');
  const build = createRequire(entry)('node-gyp-build') as (directory: string) => NativeBinding;
  binding = build(root);
  return binding;
}

export interface UsearchParameters {
  dimension: number;
  connectivity: number;
  expansionAdd: number;
  expansionSearch: number;
}

/** An empty cosine index over int8 codes, one vector per key. */
export function createUsearchIndex(parameters: UsearchParameters): NativeUsearchIndex {
  const { CompiledIndex } = load();
  return new CompiledIndex(
    parameters.dimension,
    'cos',
    'i8',
    parameters.connectivity,
    parameters.expansionAdd,
    parameters.expansionSearch,
    false,
  );
}

/** How `addSlotsAsync` runs. */
export interface AddOptions {
  /** The fallback's slice of the event loop, ms. */
  sliceMs: number;
  /** The addon's threads in the idle scheduling class instead of at nice 10 (Linux). */
  idlePriority?: boolean;
}

/**
 * The HNSW graph over the arena's int8 codes, keyed by slot: each node's vector is the arena's
 * page bytes for its key, not a copy (native/arena-graph.cpp), where that addon was compiled at
 * install; elsewhere usearch's own binding with a copy of each added point's codes.
 */
export interface ArenaGraph extends UsearchIndexBase {
  /**
   * The arena's code pages, page i holding slots [i · pageSlots, (i + 1) · pageSlots). Call it
   * before any other method whenever the pages changed; nodes of a page that moved are pointed
   * at its new place.
   */
  setPages(pages: readonly Int8Array[], pageSlots: number): void;
  /** Adds each key's codes as they are in the pages now, with `threads` usearch threads. */
  addSlots(keys: BigUint64Array, threads: number): void;
  /**
   * The same off the event loop (the addon: a libuv thread running `threads` usearch threads;
   * the fallback: a few points per turn of the loop, `sliceMs` at a time). The addon's threads
   * run at low priority (nice 10, `MEMBUS_GRAPH_NICE`), or with `idlePriority` in Linux's idle
   * scheduling class: only on cores nothing else wants. Until it settles the keys' codes must
   * stay put and only `search` may be called: remove, save, load and setPages throw meanwhile.
   */
  addSlotsAsync(keys: BigUint64Array, threads: number, options: AddOptions): Promise<void>;
  /**
   * `save` off the event loop (the addon; the fallback writes inline). Until it settles only
   * `search` may be called, and the pages must keep their codes.
   */
  saveAsync(path: string): Promise<void>;
  /** [keys, distances, counts] for one query's int8 codes (counts[0] results). */
  search(
    query: Int8Array,
    k: number,
    threads: number,
  ): [BigUint64Array, Float32Array, BigUint64Array];
  /** 'arena': nodes point into the pages; 'copy': usearch holds a copy of each point's codes. */
  readonly kind: 'arena' | 'copy';
  /**
   * Whether an add may run several usearch threads: the addon built on usearch's headers with
   * the fix for concurrent adds (native/usearch-patch.mjs, unum-cloud/USearch#735). usearch's
   * own binding strands nodes with more than one, so `threads` is then always taken as 1.
   */
  readonly concurrentAdds: boolean;
}

interface ArenaGraphBinding {
  ArenaGraph: {
    new (
      dimensions: number,
      connectivity: number,
      expansionAdd: number,
      expansionSearch: number,
    ): Omit<ArenaGraph, 'kind' | 'concurrentAdds'>;
    /** Built with the fix for concurrent adds (the addon takes `threads` as 1 otherwise). */
    readonly concurrentAdds?: boolean;
  };
}

/** The compiled addon (build/Release/arena_graph.node beside src/ and dist/), if any. */
const ADDON = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'build',
  'Release',
  'arena_graph.node',
);
let arenaBinding: ArenaGraphBinding | null | undefined;

function loadArenaBinding(): ArenaGraphBinding | undefined {
  if (arenaBinding === undefined) {
    arenaBinding = null;
    if (existsSync(ADDON))
      try {
        arenaBinding = createRequire(import.meta.url)(ADDON) as ArenaGraphBinding;
      } catch {
        // A build for another node or platform: usearch's binding below.
      }
  }
  return arenaBinding ?? undefined;
}

/** Whether graphs point into the arena (the addon loaded and MEMBUS_GRAPH_COPIES is not 1). */
export function arenaGraphAvailable(): boolean {
  return process.env.MEMBUS_GRAPH_COPIES !== '1' && loadArenaBinding() !== undefined;
}

/**
 * An empty graph: the addon's, or (no addon, or MEMBUS_GRAPH_COPIES=1) usearch's binding
 * given a copy of each point's codes.
 */
export function createArenaGraph(parameters: UsearchParameters): ArenaGraph {
  const binding = arenaGraphAvailable() ? loadArenaBinding() : undefined;
  if (binding === undefined) return new CopyingGraph(createUsearchIndex(parameters));
  const native = new binding.ArenaGraph(
    parameters.dimension,
    parameters.connectivity,
    parameters.expansionAdd,
    parameters.expansionSearch,
  );
  return Object.assign(native, {
    kind: 'arena' as const,
    concurrentAdds: binding.ArenaGraph.concurrentAdds === true,
  });
}

/** ArenaGraph over usearch's binding: each added point's codes are copied into usearch. */
class CopyingGraph implements ArenaGraph {
  readonly kind = 'copy';
  readonly concurrentAdds = false;
  private pages: readonly Int8Array[] = [];
  private pageSlots = 1;

  constructor(private readonly index: NativeUsearchIndex) {}

  setPages(pages: readonly Int8Array[], pageSlots: number): void {
    this.pages = pages;
    this.pageSlots = pageSlots;
  }

  async addSlotsAsync(keys: BigUint64Array, threads: number, options: AddOptions): Promise<void> {
    if (this.adding) throw new Error('addSlotsAsync while points are being added');
    this.adding = true;
    try {
      // Points per call sized from the last calls' cost, so that one call fits a slice; each
      // call in a turn of its own, the first too (as the addon's add, it never runs inline).
      let perCall = 1;
      for (let at = 0; at < keys.length; ) {
        await new Promise((resolve) => setImmediate(resolve));
        const started = performance.now();
        const end = Math.min(keys.length, at + perCall);
        this.addSlots(keys.subarray(at, end), threads);
        const perPoint = (performance.now() - started) / (end - at);
        at = end;
        perCall = Math.max(1, Math.floor(options.sliceMs / Math.max(perPoint, 1e-3)));
      }
    } finally {
      this.adding = false;
    }
  }

  private adding = false;

  async saveAsync(path: string): Promise<void> {
    this.index.save(path);
  }

  /** `threads` is taken as 1: usearch's concurrent adds strand nodes (unum-cloud/USearch#735). */
  addSlots(keys: BigUint64Array, _threads: number): void {
    const dimension = this.index.dimensions();
    const codes = new Int8Array(keys.length * dimension);
    for (let at = 0; at < keys.length; at++) {
      const slot = Number(keys[at]);
      const page = this.pages[Math.floor(slot / this.pageSlots)];
      if (page === undefined) throw new RangeError("a key lies past the arena's pages");
      const start = (slot % this.pageSlots) * dimension;
      codes.set(page.subarray(start, start + dimension), at * dimension);
    }
    this.index.add(keys, codes, 1);
  }

  search(
    query: Int8Array,
    k: number,
    threads: number,
  ): [BigUint64Array, Float32Array, BigUint64Array] {
    return this.index.search(query, k, threads);
  }
  remove(keys: BigUint64Array): number[] {
    return this.index.remove(keys);
  }
  contains(keys: BigUint64Array): boolean[] {
    return this.index.contains(keys);
  }
  dimensions(): number {
    return this.index.dimensions();
  }
  connectivity(): number {
    return this.index.connectivity();
  }
  size(): number {
    return this.index.size();
  }
  capacity(): number {
    return this.index.capacity();
  }
  save(path: string): void {
    this.index.save(path);
  }
  load(path: string): void {
    this.index.load(path);
  }
}

/** The int8 codes of `vector` into `into`: the largest component maps to ±127 (as the arena's). */
export function int8Codes(vector: Float32Array, into: Int8Array): Int8Array {
  const dimension = into.length;
  // As VectorArena.set computes them, so the codes are the same bit for bit.
  const scale = largestMagnitude(vector, dimension) / 127;
  const inverse = scale === 0 ? 0 : 1 / scale;
  for (let index = 0; index < dimension; index++)
    into[index] = Math.round(vector[index]! * inverse);
  return into;
}
