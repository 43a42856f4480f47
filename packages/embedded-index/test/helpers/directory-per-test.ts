import { type TemporaryDirectory, temporaryDirectory } from '@membus/bus/testing';
import { afterEach, beforeEach } from 'vitest';

/** The path of the directory the running test was given. */
export interface DirectoryPerTest {
  readonly path: string;
}

/**
 * A fresh temporary directory for each test of the suite that calls it: after each test, `close`
 * closes what the test opened there, then the directory is removed with everything in it.
 */
export function directoryPerTest(prefix: string, close: () => Promise<void>): DirectoryPerTest {
  let directory: TemporaryDirectory | undefined;
  beforeEach(async () => {
    directory = await temporaryDirectory(prefix);
  });
  afterEach(async () => {
    try {
      await close();
    } finally {
      await directory?.remove();
      directory = undefined;
    }
  });
  return {
    get path(): string {
      if (directory === undefined) throw new Error('directoryPerTest: no test is running');
      return directory.path;
    },
  };
}
