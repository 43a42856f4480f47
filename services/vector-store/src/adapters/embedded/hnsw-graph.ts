import { existsSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import hnswlib from 'hnswlib-node';

/** HNSW build parameters. */
export interface HnswOptions {
  /** Links per node (hnswlib `M`). */
  m: number;
  /** Candidate list size while inserting. */
  efConstruction: number;
  /** Candidate list size while searching (at least the requested `limit`). */
  efSearch: number;
  /** Seed for level assignment, so builds are reproducible. */
  randomSeed: number;
}

/** What is written beside a graph file; the graph is used only if all of it matches. */
interface GraphManifest {
  version: 1;
  file: string;
  dimension: number;
  m: number;
  efConstruction: number;
  /** Every live row with `seq <= watermark` whose slot is not in `tail` was in the graph. */
  watermark: number;
  /** Slots that were not (or not with their current vector) in the graph at save time. */
  tail: number[];
}

const MANIFEST = 'graph.json';

/** The loaded graph plus what the manifest says about it. */
export interface LoadedGraph {
  index: hnswlib.HierarchicalNSW;
  watermark: number;
  tail: ReadonlySet<number>;
  labels: number[];
}

export function createGraph(
  dimension: number,
  capacity: number,
  options: HnswOptions,
): hnswlib.HierarchicalNSW {
  const index = new hnswlib.HierarchicalNSW('ip', dimension);
  index.initIndex({
    maxElements: Math.max(1, capacity),
    m: options.m,
    efConstruction: options.efConstruction,
    randomSeed: options.randomSeed,
  });
  index.setEf(options.efSearch);
  return index;
}

/** Loads the saved graph if its manifest matches; `undefined` means rebuild. */
export async function loadGraph(
  directory: string,
  dimension: number,
  options: HnswOptions,
): Promise<LoadedGraph | undefined> {
  let manifest: GraphManifest;
  try {
    // Our own file; every field is checked below before it is trusted.
    manifest = JSON.parse(await readFile(join(directory, MANIFEST), 'utf8')) as GraphManifest;
  } catch {
    return undefined;
  }
  if (
    manifest.version !== 1 ||
    manifest.dimension !== dimension ||
    manifest.m !== options.m ||
    manifest.efConstruction !== options.efConstruction ||
    typeof manifest.watermark !== 'number' ||
    !Array.isArray(manifest.tail) ||
    typeof manifest.file !== 'string' ||
    manifest.file.includes('/')
  )
    return undefined;
  const file = join(directory, manifest.file);
  if (!existsSync(file)) return undefined;
  const index = new hnswlib.HierarchicalNSW('ip', dimension);
  try {
    await index.readIndex(file);
  } catch {
    return undefined;
  }
  if (index.getNumDimensions() !== dimension) return undefined;
  index.setEf(options.efSearch);
  return {
    index,
    watermark: manifest.watermark,
    tail: new Set(manifest.tail),
    labels: index.getIdsList(),
  };
}

/**
 * Writes the graph (in hnswlib's worker thread) to a new generation file, then the manifest
 * that names it, then removes older generations: a crash leaves either the old or the new pair.
 * The graph must not be mutated until the returned promise settles.
 */
export async function saveGraph(
  directory: string,
  index: hnswlib.HierarchicalNSW,
  manifest: Omit<GraphManifest, 'version' | 'file'>,
  generation: number,
): Promise<void> {
  const name = `graph-${generation}.hnsw`;
  await index.writeIndex(join(directory, name));
  const full: GraphManifest = { version: 1, file: name, ...manifest };
  const temporary = join(directory, `${MANIFEST}.tmp`);
  await writeFile(temporary, JSON.stringify(full));
  await rename(temporary, join(directory, MANIFEST));
  if (generation > 0) await rm(join(directory, `graph-${generation - 1}.hnsw`), { force: true });
}

/** The generation number of the current graph file, so the next save does not overwrite it. */
export async function currentGeneration(directory: string): Promise<number> {
  try {
    const manifest = JSON.parse(await readFile(join(directory, MANIFEST), 'utf8')) as {
      file?: unknown;
    };
    const match =
      typeof manifest.file === 'string' ? /^graph-(\d+)\.hnsw$/.exec(manifest.file) : null;
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}
