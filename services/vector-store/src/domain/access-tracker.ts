/**
 * Batches access counts (accessCount, lastAccessedAt) so queries don't write: flushed on a
 * timer and on close. Losing a second of counts on a crash is acceptable; slowing queries isn't.
 * A flush hands each tenant's accesses to the index in one call: the index knows how to write
 * them without stalling queries (the embedded one orders them by slot so that they share pages,
 * and writes them in short transactions on its worker thread; Qdrant in request-sized batches).
 */

export class AccessTracker {
  #pending = new Map<string, Map<string, { count: number; at: number }>>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly write: (
      tenant: string,
      accesses: Map<string, { count: number; at: number }>,
    ) => Promise<void>,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  track(tenant: string, ids: readonly string[], at: number): void {
    if (ids.length === 0) return;
    let forTenant = this.#pending.get(tenant);
    if (!forTenant) {
      forTenant = new Map();
      this.#pending.set(tenant, forTenant);
    }
    for (const id of ids) {
      const entry = forTenant.get(id);
      if (entry) {
        entry.count += 1;
        entry.at = at;
      } else forTenant.set(id, { count: 1, at });
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.flush().catch(this.onError);
    }, this.intervalMs);
  }

  /** Writes what is pending (waits for a flush already running first). */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(async () => {
      const pending = this.#pending;
      this.#pending = new Map();
      for (const [tenant, accesses] of pending) {
        try {
          await this.write(tenant, accesses);
        } catch (error) {
          this.onError(error);
        }
      }
    });
    return this.#flushing;
  }

  async close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }
}
