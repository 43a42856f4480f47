/**
 * Storage failures by kind, for one log line and a metric instead of silence: SQLite's and the
 * file system's error codes, read through `cause` chains (a MembusError wraps the driver's error).
 */
import { MembusError } from '@membus/contracts';

/** Why a storage operation failed. */
export type StorageFailureReason = 'disk_full' | 'corrupt' | 'io' | 'busy' | 'read_only' | 'other';
export const storageFailureReasons: readonly StorageFailureReason[] = [
  'disk_full',
  'corrupt',
  'io',
  'busy',
  'read_only',
  'other',
];

/** The first SQLite (`SQLITE_*`) or system (`E*`) error code along the cause chain. */
export function storageErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^(SQLITE_|E[A-Z]+$)/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The kind of storage failure, or undefined when the error is not the storage's. */
export function classifyStorageError(error: unknown): StorageFailureReason | undefined {
  const code = storageErrorCode(error);
  if (code === undefined) return undefined;
  // SQLite reports a write that hit ENOSPC as SQLITE_FULL (also its own max_page_count).
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') return 'disk_full';
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') return 'corrupt';
  if (code.startsWith('SQLITE_IOERR') || code === 'EIO') return 'io';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'busy';
  if (code.startsWith('SQLITE_READONLY') || code === 'EROFS' || code === 'EACCES')
    return 'read_only';
  return 'other';
}

/** The message of the innermost error that carries the storage code (the driver's own words). */
export function storageErrorMessage(error: unknown): string {
  let current: unknown = error;
  let message = error instanceof Error ? error.message : String(error);
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^(SQLITE_|E[A-Z]+$)/.test(code))
      return `${code}: ${current.message}`;
    message = current.message;
    current = (current as { cause?: unknown }).cause;
  }
  return message;
}

export interface StorageHealthOptions {
  /** Where the store's files live (named in the log line). */
  directory: string;
  /** A failed write: called for the first of an episode, then at most once per interval. */
  onFailure(report: StorageFailureReport): void;
  /** The first successful write after failures. */
  onRecovered(report: { reason: StorageFailureReason; failures: number; seconds: number }): void;
  /** Shortest time between two failure reports of one reason, ms. Default 60,000. */
  reportIntervalMs?: number;
  now?: () => number;
}

export interface StorageFailureReport {
  reason: StorageFailureReason;
  operation: string;
  /** `SQLITE_FULL: database or disk is full` and the like. */
  cause: string;
  /** Failures of this reason since the last report (this one included). */
  failures: number;
  /** True for the first report of an episode. */
  first: boolean;
  /** What an operator should do. */
  action: string;
}

const actions: Readonly<Record<StorageFailureReason, string>> = {
  disk_full:
    'the disk is full: writes wait in JetStream and are retried; free space (or grow the volume) under',
  corrupt: 'the database is damaged: stop the service and restore it from a backup; files under',
  io: 'the disk reports I/O errors: check the device holding',
  busy: 'another process holds the database lock: writes are retried; check what else opens',
  read_only: 'the files are read-only: writes are retried; check the permissions of',
  other: 'writes are retried; check the files under',
};

/**
 * Counts storage failures and says so without flooding the log: a write that fails with a full
 * disk is retried for every message JetStream redelivers (hundreds a second), so only the first
 * failure of an episode and then one line per `reportIntervalMs` are reported, each with the
 * number of failures it stands for; the first success after failures ends the episode. The
 * interval holds across episodes of the same reason: a disk that is nearly full lets small
 * writes through between failures, and each of those would otherwise start a new line.
 */
export class StorageHealth {
  private readonly reportIntervalMs: number;
  private readonly now: () => number;
  private readonly counts = new Map<StorageFailureReason, number>();
  private readonly lastReport = new Map<StorageFailureReason, number>();
  private episode:
    | {
        reason: StorageFailureReason;
        since: number;
        failures: number;
        unreported: number;
      }
    | undefined;

  constructor(private readonly options: StorageHealthOptions) {
    this.reportIntervalMs = options.reportIntervalMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Failures so far by reason (for a counter). */
  failures(): ReadonlyMap<StorageFailureReason, number> {
    return this.counts;
  }

  /** True from a disk-full failure until the next successful write. */
  get diskFull(): boolean {
    return this.episode?.reason === 'disk_full';
  }

  /** Records a failed storage operation; returns its reason (undefined: not a storage error). */
  failed(error: unknown, operation: string): StorageFailureReason | undefined {
    const reason = classifyStorageError(error);
    if (reason === undefined) return undefined;
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
    const now = this.now();
    let episode = this.episode;
    const first = episode === undefined || episode.reason !== reason;
    if (episode === undefined || first) {
      episode = { reason, since: now, failures: 0, unreported: 0 };
      this.episode = episode;
    }
    episode.failures++;
    episode.unreported++;
    if (now - (this.lastReport.get(reason) ?? -Infinity) >= this.reportIntervalMs) {
      this.options.onFailure({
        reason,
        operation,
        cause: storageErrorMessage(error),
        failures: episode.unreported,
        first,
        action: `${actions[reason]} ${this.options.directory}`,
      });
      this.lastReport.set(reason, now);
      episode.unreported = 0;
    }
    return reason;
  }

  /** Records a successful write: ends a failure episode. */
  succeeded(): void {
    const episode = this.episode;
    if (episode === undefined) return;
    this.episode = undefined;
    this.options.onRecovered({
      reason: episode.reason,
      failures: episode.failures,
      seconds: (this.now() - episode.since) / 1000,
    });
  }
}

/**
 * An open that failed on the database file, as one sentence naming the file and what to do;
 * other errors (e.g. a dimension mismatch) unchanged.
 */
export function storeOpenError(file: string, directory: string, error: unknown): unknown {
  const reason = classifyStorageError(error);
  if (reason === undefined) return error;
  const cause = storageErrorMessage(error);
  const details = { file, reason };
  if (reason === 'corrupt')
    return new MembusError(
      'INTERNAL',
      `the memories database ${file} is damaged (${cause}): restore it from a backup; to start with an empty store instead, move the directory ${directory} aside`,
      { details, cause: error },
    );
  return new MembusError(
    'INTERNAL',
    `cannot open the memories database ${file} (${cause})${reason === 'disk_full' ? ': the disk is full, free space and restart' : ''}`,
    { details, cause: error },
  );
}
