import { MembusError, type MemoryRecord } from '@membus/contracts';
import type {
  IndexedMemory,
  ScrollRequest,
  SearchRequest,
  SearchResult,
  VectorIndex,
} from '@membus/vector-index';
import type { ModelIndexKey, TenantModels } from './state.ts';

/** Vectors of a named model, from the embedder (re-embedding, decision 011). */
export interface ModelEmbedPort {
  /** Document vectors of `texts` with `model`; NOT_FOUND when the embedder does not serve it. */
  documents(texts: readonly string[], model: string): Promise<Float32Array[]>;
  /** The query vector of `text` with `model`. */
  query(text: string, model: string): Promise<Float32Array>;
}

/** Calls in flight by key; `idle(key)` resolves once none is. */
class InFlight {
  readonly #counts = new Map<string, number>();
  readonly #waiters = new Map<string, (() => void)[]>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
    try {
      return await work();
    } finally {
      const left = (this.#counts.get(key) ?? 1) - 1;
      if (left > 0) this.#counts.set(key, left);
      else {
        this.#counts.delete(key);
        for (const wake of this.#waiters.get(key) ?? []) wake();
        this.#waiters.delete(key);
      }
    }
  }

  idle(key: string): Promise<void> {
    if (!this.#counts.has(key)) return Promise.resolve();
    return new Promise((resolve) => {
      this.#waiters.set(key, [...(this.#waiters.get(key) ?? []), resolve]);
    });
  }
}

/** Opens (or creates) the index of one model: a directory or a Qdrant collection of its own. */
export type OpenModelIndex = (key: ModelIndexKey) => Promise<VectorIndex>;

/**
 * The one `VectorIndex` the memory service sees, routing each tenant to the index of its model
 * (decision 011). Above it everything speaks the store path's model: ingested, updated and
 * imported vectors, and query vectors, are that model's. Below it each index holds one model:
 *
 * - reads go to the tenant's active index; a search there whose index is another model's is
 *   given the query text embedded with that model;
 * - writes go to the active index and, while a run writes a target model, to the target too
 *   (dual write); a vector of another model than the index's is replaced by the record's text
 *   embedded with the index's model;
 * - a tenant's writes and the run's pages take the tenant's lock in turn, so a page read before
 *   a change is never written after it.
 *
 * Tenants without a state (all of them until one re-embeds) go straight to the primary index.
 */
export class ModelRouter implements VectorIndex {
  readonly #primary: VectorIndex;
  readonly #embed: ModelEmbedPort;
  readonly #open: OpenModelIndex;
  readonly #indexes = new Map<string, VectorIndex>();
  readonly #states = new Map<string, TenantModels>();
  readonly #locks = new Map<string, Promise<void>>();
  /** Reads of a tenant in flight on each index (a drop waits for them). */
  readonly #reading = new InFlight();
  /** Writes in flight of tenants without a state (a run starts once they are done). */
  readonly #writing = new InFlight();

  constructor(options: { primary: VectorIndex; embed: ModelEmbedPort; open: OpenModelIndex }) {
    this.#primary = options.primary;
    this.#embed = options.embed;
    this.#open = options.open;
  }

  get capabilities() {
    return this.#primary.capabilities;
  }

  /** The store path's dimension: every vector given to this index is of that model. */
  get dimension(): number {
    return this.#primary.dimension;
  }

  get primary(): VectorIndex {
    return this.#primary;
  }

  /** The tenant's state (a copy); undefined when it has none. */
  state(tenant: string): TenantModels | undefined {
    const state = this.#states.get(tenant);
    return state === undefined ? undefined : structuredClone(state);
  }

  /** Every tenant with a state. */
  tenants(): string[] {
    return [...this.#states.keys()];
  }

  /** Sets the tenant's state (opening the indexes it names first): atomic for its next call. */
  async setState(tenant: string, state: TenantModels | undefined): Promise<void> {
    if (state !== undefined) {
      for (const key of [state.active, state.run]) if (key) await this.index(key);
    }
    if (state === undefined) this.#states.delete(tenant);
    else this.#states.set(tenant, structuredClone(state));
  }

  /** The index of `key` (the primary for none), opened once. */
  async index(key: ModelIndexKey | { primary: true } | undefined): Promise<VectorIndex> {
    if (key === undefined || 'primary' in key) return this.#primary;
    const name = indexName(key);
    let index = this.#indexes.get(name);
    if (!index) {
      index = await this.#open(key);
      if (index.dimension !== key.dimension)
        throw new MembusError(
          'DIMENSION_MISMATCH',
          `the index of model ${key.model} holds ${index.dimension} dimensions, not ${key.dimension}`,
          { details: { model: key.model, expected: key.dimension, actual: index.dimension } },
        );
      this.#indexes.set(name, index);
    }
    return index;
  }

  /** Runs `work` holding the tenant's lock (writes and a run's pages, one at a time). */
  async locked<T>(tenant: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(tenant) ?? Promise.resolve();
    let release = () => {};
    const current = new Promise<void>((resolve) => {
      release = resolve;
    });
    const chained = previous.then(() => current);
    this.#locks.set(tenant, chained);
    await previous;
    try {
      return await work();
    } finally {
      release();
      if (this.#locks.get(tenant) === chained) this.#locks.delete(tenant);
    }
  }

  /** Resolves once no read of the tenant runs on `index` (before its memories leave it). */
  readsDone(tenant: string, index: VectorIndex): Promise<void> {
    return this.#reading.idle(`${tenant}\u0000${this.#indexKeyOf(index)}`);
  }

  /** Resolves once the writes of the tenant that began without its state are done. */
  writesDone(tenant: string): Promise<void> {
    return this.#writing.idle(tenant);
  }

  /**
   * Writes `items` (one tenant's) into `index` of model `key`: vectors of another model are
   * replaced by the record's text embedded with `key`'s; a change without a vector is applied
   * only to the memories `index` holds (a run copies the others when it reaches them).
   */
  async writeInto(
    index: VectorIndex,
    key: ModelIndexKey,
    tenant: string,
    items: readonly IndexedMemory[],
    /** `reembedAll`: every record is embedded from its text (a run's page carries no vectors). */
    options: { reembedAll?: boolean } = {},
  ): Promise<void> {
    const own = (item: IndexedMemory) =>
      item.vector !== undefined && item.record.embeddingModel === key.model;
    const toEmbed = items.filter(
      (item) => options.reembedAll === true || (item.vector !== undefined && !own(item)),
    );
    const vectorless = options.reembedAll ? [] : items.filter((item) => item.vector === undefined);
    const present =
      vectorless.length > 0
        ? new Set(
            (
              await index.get(
                tenant,
                vectorless.map((item) => item.record.id),
              )
            ).map((record) => record.id),
          )
        : new Set<string>();
    const vectors =
      toEmbed.length > 0
        ? await this.#embed.documents(
            toEmbed.map((item) => item.record.text),
            key.model,
          )
        : [];
    const embedded = new Map(toEmbed.map((item, position) => [item, vectors[position]]));
    const writes: IndexedMemory[] = [];
    for (const item of items) {
      if (item.vector === undefined && options.reembedAll !== true) {
        if (present.has(item.record.id)) writes.push(item);
        continue;
      }
      const vector = own(item) && options.reembedAll !== true ? item.vector : embedded.get(item);
      if (vector === undefined) throw new MembusError('EMBEDDING_FAILED', 'a vector is missing');
      writes.push({
        ...item,
        record: { ...item.record, embeddingModel: key.model },
        vector,
      });
    }
    if (writes.length > 0) await index.upsert(writes);
  }

  // ------------------------------------------------------------------ VectorIndex

  async upsert(items: readonly IndexedMemory[]): Promise<void> {
    const byTenant = new Map<string, IndexedMemory[]>();
    for (const item of items) {
      const list = byTenant.get(item.record.tenant);
      if (list) list.push(item);
      else byTenant.set(item.record.tenant, [item]);
    }
    // Tenants on the primary index alone: one write, as without re-embedding.
    const plain = [...byTenant].filter(([tenant]) => !this.#states.has(tenant));
    if (plain.length > 0) {
      const write = this.#primary.upsert(plain.flatMap(([, list]) => list));
      // Counted per tenant, so a run that starts meanwhile waits for this write.
      await Promise.all(plain.map(([tenant]) => this.#writing.run(tenant, () => write)));
    }
    for (const [tenant, list] of byTenant) {
      if (!this.#states.has(tenant)) continue;
      await this.locked(tenant, async () => {
        const state = this.#states.get(tenant);
        if (state?.active)
          await this.writeInto(this.#opened(state.active), state.active, tenant, list);
        else await this.#primary.upsert(list);
        if (state?.run) await this.writeInto(this.#opened(state.run), state.run, tenant, list);
      });
    }
  }

  get(tenant: string, ids: readonly string[]): Promise<MemoryRecord[]> {
    return this.#read(tenant, (index) => index.get(tenant, ids));
  }

  vectors(tenant: string, ids: readonly string[]): Promise<Map<string, Float32Array>> {
    return this.#read(tenant, async (index) => {
      // An export with vectors writes the store path's model's; another model's are left out.
      if (index !== this.#primary) return new Map();
      return (await index.vectors?.(tenant, ids)) ?? new Map();
    });
  }

  async delete(tenant: string, ids: readonly string[]): Promise<string[]> {
    if (!this.#states.has(tenant))
      return this.#writing.run(tenant, () => this.#primary.delete(tenant, ids));
    return this.locked(tenant, async () => {
      const state = this.#states.get(tenant);
      const deleted = await this.#opened(state?.active).delete(tenant, ids);
      if (state?.run) await this.#opened(state.run).delete(tenant, ids);
      return deleted;
    });
  }

  newestByDedupKey(
    tenant: string,
    keys: readonly string[],
    now: number,
  ): Promise<Map<string, MemoryRecord>> {
    return this.#read(tenant, async (index) => {
      if (index.newestByDedupKey) return index.newestByDedupKey(tenant, keys, now);
      const found = new Map<string, MemoryRecord>();
      for (const key of keys) {
        const [record] = (await index.scroll({ tenant, filter: { dedupKey: key }, limit: 1, now }))
          .records;
        if (record) found.set(key, record);
      }
      return found;
    });
  }

  search(request: SearchRequest): Promise<SearchResult> {
    const active = this.#states.get(request.tenant)?.active;
    if (active === undefined) return this.#read(request.tenant, (index) => index.search(request));
    return this.#read(request.tenant, async (index) => {
      if (request.vector === undefined) return index.search(request);
      // The vector given is the store path's model's: the query text is embedded with this
      // tenant's model instead. Without a text (a caller's vector, a near-duplicate check) there
      // is nothing to compare with this index's vectors.
      if (request.text === undefined) return { hits: [], plan: 'model-mismatch' };
      const vector = this.#embed.query(request.text, active.model);
      vector.catch(() => undefined);
      return index.search({ ...request, vector });
    });
  }

  scroll(request: ScrollRequest) {
    return this.#read(request.tenant, (index) => index.scroll(request));
  }

  stats(tenant: string, filter: Parameters<VectorIndex['stats']>[1], now: number) {
    return this.#read(tenant, (index) => index.stats(tenant, filter, now));
  }

  async recordAccess(
    tenant: string,
    accesses: ReadonlyMap<string, { count: number; at: number }>,
  ): Promise<void> {
    const state = this.#states.get(tenant);
    await this.#opened(state?.active).recordAccess(tenant, accesses);
    if (state?.run) await this.#opened(state.run).recordAccess(tenant, accesses);
  }

  newestEmbeddingModel(): Promise<string | undefined> {
    return this.#primary.newestEmbeddingModel?.() ?? Promise.resolve(undefined);
  }

  async close(): Promise<void> {
    for (const index of this.#indexes.values()) await index.close();
    this.#indexes.clear();
    await this.#primary.close();
  }

  async #read<T>(tenant: string, read: (index: VectorIndex) => Promise<T>): Promise<T> {
    const state = this.#states.get(tenant);
    if (state === undefined) return read(this.#primary);
    // Counted in the same tick the state is read: a switch cannot slip in between.
    const index = this.#opened(state.active);
    return this.#reading.run(`${tenant}\u0000${this.#indexKeyOf(index)}`, () => read(index));
  }

  /** An index `setState` opened (every one a state names is). */
  #opened(key: ModelIndexKey | undefined): VectorIndex {
    if (key === undefined) return this.#primary;
    const index = this.#indexes.get(indexName(key));
    if (!index) throw new MembusError('INTERNAL', `the index of model ${key.model} is not open`);
    return index;
  }

  #indexKeyOf(index: VectorIndex): string {
    if (index === this.#primary) return '';
    for (const [name, opened] of this.#indexes) if (opened === index) return name;
    return '?';
  }
}

/** A model index's name: its model and dimension (a directory, a Qdrant collection). */
export function indexName(key: ModelIndexKey): string {
  return `${key.model}_${key.dimension}`;
}
