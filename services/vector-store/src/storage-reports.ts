import { type GraphEvent, StorageHealth } from '@membus/embedded-index';
import type { Logger } from '@membus/telemetry';

/**
 * Storage write failures (a full disk above all): one log line when they start, one a minute
 * while they last (with how many there were), one when writes succeed again; counted in
 * `membus_storage_errors_total{reason}` and `membus_storage_disk_full`.
 */
export function loggedStorageHealth(directory: string, log: Logger): StorageHealth {
  return new StorageHealth({
    directory,
    onFailure: ({ reason, operation, cause, failures, first, action }) =>
      log.error(
        first
          ? `storage ${reason.replace('_', ' ')}: ${operation} failed (${cause}); ${action}`
          : `storage ${reason.replace('_', ' ')}: still failing, ${failures} failed operations since the last report (${cause}); ${action}`,
        { reason, operation, failures },
      ),
    onRecovered: ({ reason, failures, seconds }) =>
      log.info(`storage writable again after ${failures} failed operations (${reason})`, {
        reason,
        failures,
        seconds,
      }),
  });
}

/** The graph rebuilt from SQLite at start: what was found, then how long the rebuild took. */
export function graphEventLogger(log: Logger): (event: GraphEvent) => void {
  return (event) => {
    if (event.type === 'rebuild-started')
      log.warn(
        `rebuilding the HNSW graph from SQLite (${event.memories} memories; searches scan exactly meanwhile): ${event.problem}`,
        { reason: event.reason, memories: event.memories },
      );
    else
      log.warn(
        `the HNSW graph was rebuilt from SQLite in ${event.seconds.toFixed(1)} s (${event.memories} memories): ${event.problem}`,
        { reason: event.reason, memories: event.memories, seconds: event.seconds },
      );
  };
}

/** A storage failure of a write batch is reported (it is retried from JetStream either way). */
export function withStorageHealth<A extends unknown[], R>(
  health: StorageHealth,
  handler: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      const result = await handler(...args);
      health.succeeded();
      return result;
    } catch (error) {
      health.failed(error, 'writing stored memories');
      throw error;
    }
  };
}
