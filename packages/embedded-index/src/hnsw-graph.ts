import { existsSync, readdirSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileChecksum, type GraphInspection, inspectGraphFile } from './graph-file.ts';
import { type ArenaGraph, createArenaGraph } from './usearch-binding.ts';

/** HNSW build parameters (usearch's names: connectivity, expansion_add, expansion_search). */
export interface HnswOptions {
  /** Links per node above level 0, twice as many at level 0 (usearch `connectivity`). */
  m: number;
  /** Candidate list size while inserting. */
  efConstruction: number;
  /** Candidate list size while searching (at least the number of results asked). */
  efSearch: number;
}

/** The graph: a usearch index of the arena's int8 codes, keyed by slot, cosine. */
export type Graph = ArenaGraph;

/**
 * What is written beside a graph file; the graph is used only if all of it matches. Version 1
 * named an hnswlib graph (`graph-N.hnsw`, until 2026-12-06); version 2 a usearch one.
 */
interface GraphManifest {
  version: 2;
  file: string;
  dimension: number;
  m: number;
  efConstruction: number;
  /** Every live row with `seq <= watermark` whose slot is not in `tail` was in the graph. */
  watermark: number;
  /**
   * Slots that were not (or not with their current vector) in the graph at save time, as runs of
   * consecutive slots: `[first, last, first, last, …]`. Written since 2026-12-07; before, the
   * slots one by one in `tail` (still read) — at 10M, with most memories not yet in the graph,
   * ~70 MB of JSON built on the event loop at every save.
   */
  tailRuns?: number[];
  tail?: number[];
  /** `algorithm:hex` of the graph file (absent in manifests written before it was kept). */
  checksum?: string;
  /** The SQLite store the graph was built from (its `store_id` setting). */
  storeId?: string;
}

const MANIFEST = 'graph.json';
const GRAPH_FILE = /^graph-(\d+)\.usearch$/;
/** hnswlib's graph files (until 2026-12-06): rebuilt as usearch graphs, removed at the next save. */
const OLD_GRAPH_FILE = /^graph-(\d+)\.hnsw$/;

/** The loaded graph plus what the manifest says about it. */
export interface LoadedGraph {
  index: Graph;
  watermark: number;
  tail: ReadonlySet<number>;
  labels: number[];
}

/** Why a graph is built from SQLite instead of loaded. */
export type RebuildReason = 'missing' | 'damaged' | 'mismatch' | 'parameters';
export const rebuildReasons: readonly RebuildReason[] = [
  'missing',
  'damaged',
  'mismatch',
  'parameters',
];

export type GraphLoad =
  | { loaded: LoadedGraph }
  | {
      loaded?: undefined;
      /** Undefined: no graph was ever saved here (a new store, or none saved before a crash). */
      reason?: RebuildReason;
      /** What was found, for the log. */
      problem?: string;
    };

/** True when the directory holds a graph manifest or graph file. */
export function hasGraphFiles(directory: string): boolean {
  if (existsSync(join(directory, MANIFEST))) return true;
  try {
    return readdirSync(directory).some(
      (name) => GRAPH_FILE.test(name) || OLD_GRAPH_FILE.test(name),
    );
  } catch {
    return false;
  }
}

/** An empty graph (usearch grows it as points are added); setPages before using it. */
export function createGraph(dimension: number, options: HnswOptions): Graph {
  return createArenaGraph({
    dimension,
    connectivity: options.m,
    expansionAdd: options.efConstruction,
    expansionSearch: options.efSearch,
  });
}

/** What `loadGraph` needs to know about the SQLite rows to check the graph against them. */
export interface GraphCheck {
  /** The store's `store_id`. */
  storeId: string;
  /** Labels above this are garbage (see GraphExpectations.labelLimit). */
  labelLimit: number;
  /** The int8 codes (the arena's) of a live slot with its `seq`, or undefined for a free slot. */
  row(slot: number): { seq: number; codes: Int8Array } | undefined;
  /** The arena's code pages, made to reach `slot` (the largest label), for Graph.setPages. */
  pages(slot: number): { pages: readonly Int8Array[]; pageSlots: number };
}

/**
 * Loads the saved graph if its manifest matches the options and the file passes
 * `inspectGraphFile` (structure, checksum, codes equal to the arena's of SQLite's vectors);
 * otherwise says why the graph must be rebuilt.
 */
export async function loadGraph(
  directory: string,
  dimension: number,
  options: HnswOptions,
  check: GraphCheck,
): Promise<GraphLoad> {
  let manifest: GraphManifest;
  let text: string;
  try {
    text = await readFile(join(directory, MANIFEST), 'utf8');
  } catch {
    return hasGraphFiles(directory)
      ? { reason: 'damaged', problem: `graph files without their manifest ${MANIFEST}` }
      : {};
  }
  try {
    // Our own file; every field is checked below before it is trusted.
    manifest = JSON.parse(text) as GraphManifest;
  } catch {
    return { reason: 'damaged', problem: `${MANIFEST} is not JSON` };
  }
  if (
    typeof manifest === 'object' &&
    manifest !== null &&
    (manifest as { version?: unknown }).version === 1
  )
    return {
      reason: 'parameters',
      problem:
        'the graph was saved by hnswlib (membus before 2026-12-06); the graph is now usearch',
    };
  if (
    typeof manifest !== 'object' ||
    manifest === null ||
    manifest.version !== 2 ||
    !Number.isSafeInteger(manifest.watermark) ||
    manifest.watermark < 0 ||
    manifest.watermark > 2 ** 48 ||
    !validTail(manifest, check.labelLimit) ||
    typeof manifest.file !== 'string' ||
    !GRAPH_FILE.test(manifest.file) ||
    (manifest.checksum !== undefined && typeof manifest.checksum !== 'string')
  )
    return { reason: 'damaged', problem: `${MANIFEST} is not a graph manifest` };
  if (manifest.dimension !== dimension)
    return {
      reason: 'mismatch',
      problem: `the graph holds vectors of dimension ${manifest.dimension}, SQLite ${dimension}`,
    };
  if (manifest.m !== options.m || manifest.efConstruction !== options.efConstruction)
    return {
      reason: 'parameters',
      problem: `the graph was built with M ${manifest.m} and efConstruction ${manifest.efConstruction}, configured ${options.m} and ${options.efConstruction}`,
    };
  if (manifest.storeId !== undefined && manifest.storeId !== check.storeId)
    return {
      reason: 'mismatch',
      problem: `the graph was built from another memories database (store ${manifest.storeId}, this one is ${check.storeId})`,
    };
  const file = join(directory, manifest.file);
  if (!existsSync(file))
    return { reason: 'missing', problem: `${manifest.file}, named by ${MANIFEST}, is missing` };
  const tail = tailOf(manifest);
  let inspection: GraphInspection;
  try {
    inspection = await inspectGraphFile(file, {
      dimension,
      m: options.m,
      ...(manifest.checksum !== undefined ? { checksum: manifest.checksum } : {}),
      labelLimit: check.labelLimit,
      currentCodes: (label) => {
        const row = check.row(label);
        return row !== undefined && row.seq <= manifest.watermark && !tail.has(label)
          ? row.codes
          : undefined;
      },
    });
  } catch (error) {
    return {
      reason: 'damaged',
      problem: `${manifest.file} cannot be read: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  if (!inspection.ok)
    return { reason: inspection.reason, problem: `${manifest.file}: ${inspection.problem}` };
  const index = createGraph(dimension, options);
  try {
    let largest = 0;
    for (const label of inspection.labels) if (label > largest) largest = label;
    const { pages, pageSlots } = check.pages(largest);
    index.setPages(pages, pageSlots);
    // Synchronous: ~N × 0.5 KB read into memory (at 1M, see decision 002); the codes read
    // with the graph are then dropped for the arena's (the addon).
    index.load(file);
  } catch (error) {
    return {
      reason: 'damaged',
      problem: `usearch cannot read ${manifest.file}: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  if (index.dimensions() !== dimension || index.size() !== inspection.labels.length)
    return {
      reason: 'damaged',
      problem: `${manifest.file} loaded with dimension ${index.dimensions()} and ${index.size()} points, the file says ${dimension} and ${inspection.labels.length}`,
    };
  return {
    loaded: {
      index,
      watermark: manifest.watermark,
      tail,
      labels: inspection.labels,
    },
  };
}

/** Slots as runs of consecutive slots (`[first, last, …]`), in the order they come. */
export function slotRuns(slots: Iterable<number>): number[] {
  const runs: number[] = [];
  let first = -1;
  let last = -2;
  for (const slot of slots) {
    if (slot === last + 1) {
      last = slot;
      continue;
    }
    if (first >= 0) runs.push(first, last);
    first = slot;
    last = slot;
  }
  if (first >= 0) runs.push(first, last);
  return runs;
}

/**
 * Whether the manifest's tail is slots below `limit` (the labels' range) and, as runs, covers at
 * most `limit` slots in all: a damaged file cannot make the open loop for long.
 */
function validTail(manifest: GraphManifest, limit: number): boolean {
  const slot = (value: unknown): value is number =>
    Number.isInteger(value) && (value as number) >= 0 && (value as number) < limit;
  if (manifest.tailRuns === undefined)
    return Array.isArray(manifest.tail) && manifest.tail.every(slot);
  const runs: unknown = manifest.tailRuns;
  if (!Array.isArray(runs) || runs.length % 2 !== 0 || manifest.tail !== undefined) return false;
  let covered = 0;
  for (let at = 0; at < runs.length; at += 2) {
    const [first, last] = [runs[at], runs[at + 1]];
    if (!slot(first) || !slot(last) || first > last) return false;
    covered += last - first + 1;
    if (covered > limit) return false;
  }
  return true;
}

function tailOf(manifest: GraphManifest): Set<number> {
  if (manifest.tailRuns === undefined) return new Set(manifest.tail);
  const tail = new Set<number>();
  const runs = manifest.tailRuns;
  for (let at = 0; at < runs.length; at += 2)
    for (let slot = runs[at]!; slot <= runs[at + 1]!; slot++) tail.add(slot);
  return tail;
}

/**
 * Writes the graph to a new generation file, then the manifest that names it, then removes older
 * generations: a crash leaves either the old or the new pair. usearch writes off the event loop
 * (the addon; ~N × 0.5 KB); until the file is written only searches may use the graph. The
 * manifest's fields are taken when the write starts: what changes meanwhile gets a sequence
 * number above its watermark (or loses its row), so a start does not trust it in the file.
 */
export async function saveGraph(
  directory: string,
  index: Graph,
  manifest: Omit<GraphManifest, 'version' | 'file' | 'checksum'>,
  generation: number,
): Promise<void> {
  const name = `graph-${generation}.usearch`;
  await index.saveAsync(join(directory, name));
  // Read back from the file usearch wrote: what a later start will compare.
  const checksum = await fileChecksum(join(directory, name));
  const full: GraphManifest = { version: 2, file: name, ...manifest, checksum };
  const temporary = join(directory, `${MANIFEST}.tmp`);
  await writeFile(temporary, JSON.stringify(full));
  await rename(temporary, join(directory, MANIFEST));
  for (const old of readdirSync(directory))
    if (old !== name && (GRAPH_FILE.test(old) || OLD_GRAPH_FILE.test(old)))
      await rm(join(directory, old), { force: true });
}

/** The generation number of the current graph file, so the next save does not overwrite it. */
export async function currentGeneration(directory: string): Promise<number> {
  try {
    const manifest = JSON.parse(await readFile(join(directory, MANIFEST), 'utf8')) as {
      file?: unknown;
    };
    const match =
      typeof manifest.file === 'string'
        ? (GRAPH_FILE.exec(manifest.file) ?? OLD_GRAPH_FILE.exec(manifest.file))
        : null;
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}
