import { readFile, rename, writeFile } from 'node:fs/promises';
import { MembusError } from '@membus/contracts';
import type { ImportProgress } from './export-import.ts';

/** Where an import records how far it got, so that a crashed import resumes there. */
export interface ImportCheckpoint {
  /** The state saved last, if any. */
  read(): Promise<ImportCheckpointState | undefined>;
  /** Saves the state (called as lines complete, in order). */
  write(state: ImportCheckpointState): Promise<void>;
}

export interface ImportCheckpointState {
  /** Every line up to and including this (1-based) line number is done. */
  linesDone: number;
  /** The counts when it was saved. */
  progress: ImportProgress;
}

/**
 * A checkpoint in a JSON file, written atomically (a temporary file renamed over it), so a crash
 * while saving leaves the previous state.
 */
export function fileCheckpoint(path: string): ImportCheckpoint {
  return {
    async read() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
      const state = JSON.parse(text) as ImportCheckpointState;
      if (!Number.isInteger(state?.linesDone) || typeof state.progress !== 'object')
        throw new MembusError('INVALID_MESSAGE', `${path} is not an import checkpoint`);
      return state;
    },
    async write(state) {
      const temporary = `${path}.${process.pid}.tmp`;
      await writeFile(temporary, `${JSON.stringify(state)}\n`);
      await rename(temporary, path);
    },
  };
}
