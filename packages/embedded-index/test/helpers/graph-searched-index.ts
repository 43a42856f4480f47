import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IndexedMemory } from '@membus/vector-index';
import { afterEach, beforeEach } from 'vitest';
import {
  type EmbeddedVectorIndex,
  type EmbeddedVectorIndexOptions,
  type GraphEvent,
  openEmbeddedVectorIndex,
} from '../../src/index.ts';

/**
 * An index whose every search goes through the graph (and its tail), never a full exact scan, so
 * a damaged or stale graph cannot hide behind one; its graph events go to `events`.
 */
export function openGraphSearchedIndex(
  options: Pick<EmbeddedVectorIndexOptions, 'directory' | 'dimension'> &
    Partial<EmbeddedVectorIndexOptions>,
  events: GraphEvent[],
): Promise<EmbeddedVectorIndex> {
  return openEmbeddedVectorIndex({
    exactScanThreshold: 0,
    annCostRatio: 0,
    onGraphEvent: (event) => events.push(event),
    ...options,
  });
}

/** Each test's store of graph-searched indexes: see {@link graphSearchedStores}. */
export interface GraphSearchedStores {
  /** The test's store directory. */
  readonly directory: string;
  /** The graph events of the indexes opened in it, in order (until `forgetEvents`). */
  readonly events: readonly GraphEvent[];
  forgetEvents(): void;
  /** Opens a graph-searched index on the directory (closed after the test, if still open). */
  open(options?: Partial<EmbeddedVectorIndexOptions>): Promise<EmbeddedVectorIndex>;
  /** Opens one, upserts `items` and waits until its graph holds them all; leaves it open. */
  filled(items: IndexedMemory[]): Promise<EmbeddedVectorIndex>;
}

/**
 * For the calling file's tests: a store directory made before each test (under `prefix`) and
 * removed after it, the graph-searched indexes opened on it closed after it (without saving their
 * graphs), and their graph events.
 */
export function graphSearchedStores(prefix: string, dimension: number): GraphSearchedStores {
  let directory: string | undefined;
  const events: GraphEvent[] = [];
  const opened: EmbeddedVectorIndex[] = [];
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), prefix));
    events.length = 0;
  });
  afterEach(async () => {
    for (const index of opened.splice(0)) await index.close({ persistGraph: false });
    if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  });
  const stores: GraphSearchedStores = {
    get directory() {
      if (directory === undefined) throw new Error('graphSearchedStores: read inside a test');
      return directory;
    },
    events,
    forgetEvents: () => {
      events.length = 0;
    },
    async open(options = {}) {
      const index = await openGraphSearchedIndex(
        { directory: stores.directory, dimension, ...options },
        events,
      );
      opened.push(index);
      return index;
    },
    async filled(items) {
      const index = await stores.open();
      await index.upsert(items);
      await index.whenIndexed();
      return index;
    },
  };
  return stores;
}
