import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh directory under the system temporary directory, removed with everything in it. */
export interface TemporaryDirectory extends AsyncDisposable {
  readonly path: string;
  remove(): Promise<void>;
}

export async function temporaryDirectory(prefix: string): Promise<TemporaryDirectory> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  const remove = (): Promise<void> => rm(path, { recursive: true, force: true });
  return { path, remove, [Symbol.asyncDispose]: remove };
}

/** An adapter over stored data that a conformance fixture closes and opens again. */
export interface Closable {
  close(): Promise<void>;
}

export interface Reopenable<T> {
  /** The adapter as first opened. */
  opened: T;
  /** Closes the open adapter and opens the same data again. */
  reopen: () => Promise<T>;
  /** Tears down whichever adapter is open: `beforeClose`, close, `afterClose`. */
  dispose: () => Promise<void>;
}

/**
 * The reopen/dispose half of a conformance fixture: `open` is called now and on each reopen;
 * the cleanup removes the data (a collection dropped through the open adapter, or a directory
 * or database removed after it is closed).
 */
export async function reopenable<T extends Closable>(
  open: () => T | Promise<T>,
  cleanup: {
    beforeClose?: (adapter: T) => Promise<void>;
    afterClose?: () => Promise<void>;
  } = {},
): Promise<Reopenable<T>> {
  let current = await open();
  return {
    opened: current,
    reopen: async () => {
      await current.close();
      current = await open();
      return current;
    },
    dispose: async () => {
      await cleanup.beforeClose?.(current);
      await current.close();
      await cleanup.afterClose?.();
    },
  };
}

/** `reopenable` over the file `name` in a fresh temporary directory, which dispose removes. */
export async function reopenableFile<T extends Closable>(
  name: string,
  open: (path: string) => T | Promise<T>,
): Promise<Reopenable<T>> {
  const directory = await temporaryDirectory(`membus-${name}-`);
  const path = join(directory.path, name);
  return reopenable(() => open(path), { afterClose: directory.remove });
}
