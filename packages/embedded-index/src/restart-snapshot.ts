import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { KeywordIndex, KeywordState } from './keyword-index.ts';
import {
  type PageDestination,
  readSnapshotFile,
  type SnapshotArray,
  writeSnapshotFile,
} from './snapshot-file.ts';
import type { SqliteStore } from './sqlite-store.ts';

/**
 * What a clean close leaves so that the next open need not rebuild everything from the rows.
 *
 * An open builds the in-memory structures from every SQLite row: at 10M memories that took ~16
 * minutes on this kind of host, most of it per row (JSON and texts read out of the record,
 * every text stemmed again, every vector quantised and written again to vectors.f32). After a
 * clean close the next open reads only the payload columns; the keyword index and the int8
 * codes with their scales come back from this snapshot (the codes read straight into the
 * arena's pages: 3.8 GB at 10M, where quantising them again from the 15 GB of vectors.f32 was
 * ~60 s of a 274 s open), and vectors.f32, which the close vouched for (synced), serves the
 * exact scores as before.
 *
 * Trust comes from a settings row, not from the file alone: the close writes the snapshot file
 * (synced, renamed into place), then the row naming it; every open deletes the row before
 * anything else can write. So a snapshot is used only by the first open after the clean close
 * that wrote it, and only with the database it was written beside: a crash, a kill, or a close
 * that could not write it, leaves no row, and the open rebuilds from the rows as before. The
 * row count and the highest sequence number are checked against the rows as well.
 */

/** The settings key naming the snapshot the last clean close wrote. */
const SETTING = 'restart_snapshot';
const FILE = 'restart.snapshot';
/** 2: the int8 codes and scales are in the snapshot (1 quantised them from vectors.f32). */
const FORMAT = 2;

export interface RestartHeader {
  format: number;
  /** Names this snapshot in the settings row. */
  id: string;
  /** The database it was written beside (its `store_id` setting). */
  storeId: string;
  dimension: number;
  /** Live memories and the highest row sequence when it was written. */
  count: number;
  maxSeq: number;
}

/** The vector arena's pages of int8 codes and their per-vector scales, page for page. */
export interface CodePages {
  codes: readonly Int8Array[];
  scales: readonly Float32Array[];
}

export interface RestartSnapshot {
  header: RestartHeader;
  keywords: KeywordState;
}

/** What an open found: the snapshot to restore from, or why there was none to use. */
export type RestartLookup =
  | { snapshot: RestartSnapshot; reason?: undefined }
  | { snapshot?: undefined; reason: string };

/**
 * Takes the snapshot the last clean close left, if any: the settings row is deleted whatever is
 * found (a later crash must not leave it naming a file that no longer matches the rows). Code and
 * scale pages are read into the arrays `pages` gives (the arena's): when no snapshot is
 * returned, some may hold what was read before the damage was found, and the caller sets every
 * live slot again.
 */
export function takeRestartSnapshot(
  directory: string,
  store: SqliteStore,
  expected: { storeId: string; dimension: number },
  pages: (kind: 'codes' | 'scales', index: number) => SnapshotArray,
): RestartLookup {
  const named = store.getSetting(SETTING);
  if (named === undefined) return { reason: 'no clean close recorded' };
  store.deleteSetting(SETTING);
  const path = join(directory, FILE);
  try {
    const destination: PageDestination = (name, index) =>
      name === 'codes' || name === 'scales' ? pages(name, index) : undefined;
    const contents = readSnapshotFile<RestartHeader>(path, destination);
    const { header } = contents;
    if (header.format !== FORMAT) return { reason: `format ${header.format}, not ${FORMAT}` };
    if (header.id !== named)
      return { reason: 'the snapshot file is not the one the close recorded' };
    if (header.storeId !== expected.storeId) return { reason: 'written beside another database' };
    if (header.dimension !== expected.dimension)
      return { reason: `dimension ${header.dimension}, not ${expected.dimension}` };
    const keywords = contents.strings.terms;
    if (keywords === undefined) return { reason: 'no keyword terms in the snapshot' };
    if ((contents.pages?.scales?.length ?? 0) !== (contents.pages?.codes?.length ?? 0))
      return { reason: 'the snapshot has not a scale page for each page of codes' };
    return {
      snapshot: {
        header,
        keywords: { terms: keywords, arrays: contents.arrays as KeywordState['arrays'] },
      },
    };
  } catch (error) {
    return { reason: error instanceof Error ? error.message : String(error) };
  } finally {
    // Used once: the next close writes a new one.
    rmSync(path, { force: true });
  }
}

/**
 * Writes the snapshot, then the settings row that vouches for it. Call at a clean close, after
 * the last write to the rows and after the vector file was synced.
 */
export function writeRestartSnapshot(
  directory: string,
  store: SqliteStore,
  header: Omit<RestartHeader, 'format' | 'id'>,
  keywords: KeywordIndex,
  codes: CodePages,
): void {
  const id = randomUUID();
  const state = keywords.exportState();
  writeSnapshotFile<RestartHeader>(join(directory, FILE), {
    header: { format: FORMAT, id, ...header },
    arrays: state.arrays as unknown as Record<string, SnapshotArray>,
    pages: { codes: codes.codes, scales: codes.scales },
    strings: { terms: state.terms },
  });
  store.putSetting(SETTING, id);
}
