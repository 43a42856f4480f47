import { MembusError, type ReembedStatus } from '@membus/contracts';
import type { VectorIndex } from '@membus/vector-index';
import { dedupKey } from '../dedup-key.ts';
import type { ModelEmbedPort, ModelRouter } from './model-router.ts';
import {
  isDefault,
  keyName,
  type ModelIndexKey,
  type ReembedRun,
  type ReembedStateStore,
  type TenantModels,
} from './state.ts';

/** Vectors of a named model, and the name of the store path's. */
export interface ReembedEmbedPort extends ModelEmbedPort {
  /** The store path's model and dimension, as the embedder names them. */
  primary(): Promise<ModelIndexKey>;
}

export interface ReembedHooks {
  /** Memories written into a target index by a run. */
  onEmbedded?(count: number): void;
  /** A tenant's run started, switched, was cancelled, or an index finished dropping it. */
  onChange?(tenant: string, change: 'started' | 'switched' | 'cancelled' | 'dropped'): void;
  /** A page failed (the run retries it after a backoff). */
  onError?(tenant: string, error: unknown): void;
}

export interface ReembedderOptions {
  router: ModelRouter;
  store: ReembedStateStore;
  embed: ReembedEmbedPort;
  /** Memories per page of a run: read, embedded and written holding the tenant's lock. */
  batchSize: number;
  clock?: () => number;
  /** The longest backoff between failed pages. */
  maxBackoffMs?: number;
  /**
   * How many other vector-store replicas are alive. A run is refused while any is: the tenant's
   * routing (which index answers, dual writes) and its lock live in the process that runs it.
   */
  peers?: () => Promise<number>;
  hooks?: ReembedHooks;
}

/** The token estimate of importers' dry runs: characters / 4, rounded up. */
export const estimateTokens = (text: string) => Math.ceil(text.length / 4);

interface Worker {
  controller: AbortController;
  done: Promise<void>;
}

/**
 * Re-embeds a tenant's memories with another model without downtime (decision 011): `start`
 * records a run and has the router write the tenant's changes to both indexes; a worker pages
 * through the tenant's memories (newest first, `batchSize` at a time, one page in flight) and
 * writes each into the target index with the target model's vectors, saving its cursor after
 * each page; at the end the tenant switches, under its lock, and its memories are deleted from
 * the old index once the reads still on it are done. `cancel` keeps the old index and drops
 * the new one. A restart resumes from the saved cursor (writes are upserts by id: a page done
 * twice is the same page).
 */
export class Reembedder {
  readonly #router: ModelRouter;
  readonly #store: ReembedStateStore;
  readonly #embed: ReembedEmbedPort;
  readonly #batchSize: number;
  readonly #clock: () => number;
  readonly #maxBackoffMs: number;
  readonly #hooks: ReembedHooks;
  readonly #peers: (() => Promise<number>) | undefined;
  readonly #workers = new Map<string, Worker>();
  /** The last finished run of each tenant (shown by status until the next run). */
  readonly #finished = new Map<string, ReembedRun>();
  #primary: ModelIndexKey | undefined;

  constructor(options: ReembedderOptions) {
    this.#router = options.router;
    this.#store = options.store;
    this.#embed = options.embed;
    this.#batchSize = options.batchSize;
    this.#clock = options.clock ?? Date.now;
    this.#maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.#hooks = options.hooks ?? {};
    this.#peers = options.peers;
  }

  /** Loads every tenant's state into the router and resumes their runs and drops. */
  async resume(): Promise<void> {
    for (const [tenant, state] of await this.#store.load()) {
      await this.#router.setState(tenant, state);
      this.#work(tenant);
    }
  }

  /** Where the tenant's re-embedding is. */
  async status(tenant: string): Promise<ReembedStatus> {
    // The store path's model, once (the embedder names it; a status without it still answers).
    this.#primary ??= await this.#embed.primary().catch(() => undefined);
    return this.#statusNow(tenant);
  }

  #statusNow(tenant: string): ReembedStatus {
    const state = this.#router.state(tenant) ?? {};
    const run = state.run ?? this.#finished.get(tenant);
    const activeModel = state.active?.model ?? this.#primary?.model;
    return {
      v: 1,
      state: state.run ? 'running' : (state.drop?.length ?? 0) > 0 ? 'cleaning' : 'idle',
      ...(activeModel !== undefined ? { activeModel } : {}),
      ...(run !== undefined ? { targetModel: run.model, startedAt: run.startedAt } : {}),
      done: run?.done ?? 0,
      total: run?.total ?? 0,
      tokens: run?.tokens ?? 0,
    };
  }

  /**
   * Starts embedding the tenant's memories with `model` (a dry run counts them and their tokens
   * and writes nothing). NOT_FOUND when the embedder does not serve the model; CONFLICT when the
   * tenant is on it already or another run is in progress; the same run again is its status.
   */
  async start(tenant: string, model: string, dryRun = false): Promise<ReembedStatus> {
    const state = this.#router.state(tenant) ?? {};
    if (state.run) {
      if (state.run.model === model && !dryRun) return this.status(tenant);
      throw new MembusError(
        'CONFLICT',
        `a re-embedding to ${state.run.model} is in progress: wait for it, or cancel it first`,
        { details: { running: state.run.model, requested: model } },
      );
    }
    const peers = dryRun || !this.#peers ? 0 : await this.#peers();
    if (peers > 0)
      throw new MembusError(
        'CONFLICT',
        `re-embedding needs a single vector-store replica, and ${peers} other ${peers === 1 ? 'replica is' : 'replicas are'} serving: scale the vector-store to one replica for the run`,
        { details: { otherReplicas: peers } },
      );
    // The target model's dimension, and a typed error for a model the embedder does not serve.
    const [probe] = await this.#embed.documents(['membus re-embedding check'], model);
    if (probe === undefined) throw new MembusError('EMBEDDING_FAILED', 'no probe vector');
    this.#primary ??= await this.#embed.primary();
    const current = state.active?.model ?? this.#primary.model;
    if (current === model)
      throw new MembusError('CONFLICT', `the memories are embedded with ${model} already`, {
        details: { model },
      });
    const source = await this.#router.index(state.active);
    const total = (await source.stats(tenant, undefined, 0)).total;
    const key = { model, dimension: probe.length };
    if (dryRun) {
      let tokens = 0;
      for await (const records of pages(source, tenant, this.#batchSize * 8))
        for (const record of records) tokens += estimateTokens(record.text);
      return {
        v: 1,
        state: 'idle',
        activeModel: current,
        targetModel: model,
        done: 0,
        total,
        tokens,
        dryRun: true,
      };
    }
    if ((state.drop?.length ?? 0) > 0)
      throw new MembusError(
        'UNAVAILABLE',
        'the memories of the previous re-embedding are still being deleted: retry in a moment',
        { details: { dropping: (state.drop ?? []).map(keyName) } },
      );
    await this.#router.index(key);
    const run: ReembedRun = {
      ...key,
      done: 0,
      total,
      tokens: 0,
      startedAt: new Date(this.#clock()).toISOString(),
    };
    const next: TenantModels = { ...state, run };
    await this.#store.save(tenant, next);
    await this.#router.locked(tenant, () => this.#router.setState(tenant, next));
    // Writes that started before the state was set went to the old index alone: the first page
    // is read only once they are done (the router counts them).
    await this.#router.writesDone(tenant);
    this.#finished.delete(tenant);
    this.#hooks.onChange?.(tenant, 'started');
    this.#work(tenant);
    return this.status(tenant);
  }

  /** Stops the tenant's run: queries stay on the old index, the new one drops the tenant. */
  async cancel(tenant: string): Promise<ReembedStatus> {
    const worker = this.#workers.get(tenant);
    worker?.controller.abort();
    await worker?.done;
    await this.#router.locked(tenant, async () => {
      const state = this.#router.state(tenant);
      if (!state?.run) return;
      const { model, dimension } = state.run;
      const next: TenantModels = { ...state, drop: [...(state.drop ?? []), { model, dimension }] };
      delete next.run;
      await this.#store.save(tenant, next);
      await this.#router.setState(tenant, next);
      this.#hooks.onChange?.(tenant, 'cancelled');
    });
    this.#work(tenant);
    return this.status(tenant);
  }

  /** Stops every worker (their state is saved after each page: a restart resumes them). */
  async close(): Promise<void> {
    for (const worker of this.#workers.values()) worker.controller.abort();
    await Promise.all([...this.#workers.values()].map((worker) => worker.done));
  }

  /** The tenant's run, then its drops, in the background (one worker per tenant). */
  #work(tenant: string): void {
    if (this.#workers.has(tenant)) return;
    const controller = new AbortController();
    const done = (async () => {
      let backoff = 100;
      while (!controller.signal.aborted) {
        try {
          const more = await this.#step(tenant, controller.signal);
          backoff = 100;
          if (!more) break;
        } catch (error) {
          if (controller.signal.aborted) break;
          this.#hooks.onError?.(tenant, error);
          await delay(backoff, controller.signal);
          backoff = Math.min(backoff * 2, this.#maxBackoffMs);
        }
        // Queries and stores of every tenant go between two pages.
        await new Promise((resolve) => setImmediate(resolve));
      }
    })().finally(() => {
      if (this.#workers.get(tenant)?.controller === controller) this.#workers.delete(tenant);
    });
    this.#workers.set(tenant, { controller, done });
  }

  /** One page of the run, or one drop; false when nothing is left to do. */
  async #step(tenant: string, signal: AbortSignal): Promise<boolean> {
    const state = this.#router.state(tenant);
    if (state === undefined) return false;
    if (state.run) return this.#page(tenant, signal);
    const [drop, ...rest] = state.drop ?? [];
    if (drop === undefined) return false;
    const index = await this.#router.index(drop);
    await this.#router.readsDone(tenant, index);
    for await (const records of pages(index, tenant, Math.max(this.#batchSize, 500), signal))
      await index.delete(
        tenant,
        records.map((record) => record.id),
      );
    if (signal.aborted) return false;
    await this.#router.locked(tenant, async () => {
      const current = this.#router.state(tenant) ?? {};
      const next: TenantModels = {
        ...current,
        drop: (current.drop ?? []).filter((key) => keyName(key) !== keyName(drop)),
      };
      if ((next.drop?.length ?? 0) === 0) delete next.drop;
      const saved = isDefault(next) ? undefined : next;
      await this.#store.save(tenant, saved);
      await this.#router.setState(tenant, saved);
    });
    this.#hooks.onChange?.(tenant, 'dropped');
    return rest.length > 0 || (this.#router.state(tenant)?.drop?.length ?? 0) > 0;
  }

  /** Reads, embeds and writes one page holding the tenant's lock; switches after the last. */
  async #page(tenant: string, signal: AbortSignal): Promise<boolean> {
    return this.#router.locked(tenant, async () => {
      const state = this.#router.state(tenant);
      const run = state?.run;
      if (!state || !run || signal.aborted) return false;
      const source = await this.#router.index(state.active);
      const target = await this.#router.index(run);
      const page = await source.scroll({
        tenant,
        limit: this.#batchSize,
        now: 0,
        ...(run.cursor ? { after: run.cursor } : {}),
      });
      const { records } = page;
      if (records.length > 0)
        await this.#router.writeInto(
          target,
          run,
          tenant,
          records.map((record) => ({ record, dedupKey: dedupKey(record) })),
          { reembedAll: true },
        );
      const last = records.at(-1);
      const next: ReembedRun = {
        ...run,
        done: run.done + records.length,
        tokens: run.tokens + records.reduce((sum, record) => sum + estimateTokens(record.text), 0),
        ...(page.next
          ? { cursor: page.next }
          : last
            ? { cursor: { createdAt: Date.parse(last.createdAt), id: last.id } }
            : {}),
      };
      this.#hooks.onEmbedded?.(records.length);
      if (page.next) {
        const saved = { ...state, run: next };
        await this.#store.save(tenant, saved);
        await this.#router.setState(tenant, saved);
        return true;
      }
      // Complete: the tenant's queries switch to the new index with this state; the old one
      // is dropped once the reads still on it are done.
      const switched: TenantModels = {
        active: { model: run.model, dimension: run.dimension },
        drop: [...(state.drop ?? []), state.active ?? { primary: true }],
      };
      await this.#store.save(tenant, switched);
      await this.#router.setState(tenant, switched);
      this.#finished.set(tenant, next);
      this.#hooks.onChange?.(tenant, 'switched');
      return true;
    });
  }
}

/** The tenant's memories in `index`, expired ones included, `size` at a time. */
async function* pages(
  index: VectorIndex,
  tenant: string,
  size: number,
  signal?: AbortSignal,
): AsyncGenerator<Awaited<ReturnType<VectorIndex['scroll']>>['records']> {
  let after: Awaited<ReturnType<VectorIndex['scroll']>>['next'];
  do {
    if (signal?.aborted) return;
    const page = await index.scroll({ tenant, limit: size, now: 0, ...(after ? { after } : {}) });
    if (page.records.length > 0) yield page.records;
    after = page.next;
  } while (after);
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
