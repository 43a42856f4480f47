/**
 * Batches access counts (accessCount, lastAccessedAt) so queries don't write: flushed on a
 * timer and on close. Losing a second of counts on a crash is acceptable; slowing queries isn't.
 * A flush writes in chunks and yields to the event loop between them: a synchronous store
 * (SQLite) writing a second's worth of accesses at once stalls every query waiting behind it.
 */
const CHUNK = 32;

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
        let chunk = new Map<string, { count: number; at: number }>();
        for (const [id, access] of accesses) {
          chunk.set(id, access);
          if (chunk.size < CHUNK) continue;
          await this.#writeChunk(tenant, chunk);
          chunk = new Map();
        }
        if (chunk.size > 0) await this.#writeChunk(tenant, chunk);
      }
    });
    return this.#flushing;
  }

  async #writeChunk(
    tenant: string,
    chunk: Map<string, { count: number; at: number }>,
  ): Promise<void> {
    try {
      await this.write(tenant, chunk);
    } catch (error) {
      this.onError(error);
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  async close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }
}
