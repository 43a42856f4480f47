import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { largestMagnitude } from './int8-dot.ts';

/**
 * usearch's native index, without its JavaScript wrapper: the wrapper turns every Int8Array it is
 * given into a Float32Array, which the native side then quantises itself (x · 127 / |x|,
 * truncated: a 384-d unit vector's components of ~0.05 become codes of ~6). Given Int8Array
 * codes, the native index stores and compares them as they are, so the graph holds the arena's
 * codes (largest component → ±127) and its queries are quantised the same way.
 */
export interface NativeUsearchIndex {
  add(keys: BigUint64Array, vectors: Int8Array | Float32Array, threads: number): void;
  /** [keys, distances, counts] for `queries` (one query: counts[0] results). */
  search(
    queries: Int8Array | Float32Array,
    k: number,
    threads: number,
  ): [BigUint64Array, Float32Array, BigUint64Array];
  remove(keys: BigUint64Array): number[];
  contains(keys: BigUint64Array): boolean[];
  dimensions(): number;
  connectivity(): number;
  size(): number;
  capacity(): number;
  save(path: string): void;
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
