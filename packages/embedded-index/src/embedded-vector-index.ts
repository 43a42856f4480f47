/**
 * The embedded VectorIndex: memories in SQLite (the source of truth, sqlite-store.ts), their
 * vectors in an in-memory arena (vector-arena.ts), an HNSW graph kept up in the background
 * (graph-maintainer.ts), a payload index for candidate sets (payload-index.ts), a BM25 keyword
 * index (keyword-index.ts), and a planner choosing an exact scan or the graph per search
 * (planner.ts, exact-scan.ts). This file opens them — from every row, or after a clean close
 * from its snapshot (restart-snapshot.ts) — and answers the port's operations. Near 500 lines on
 * purpose: one method per port operation, each a few lines of delegation, and the open.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { MemoryRecord } from '@membus/contracts';
import { kindValues, MembusError, tierValues } from '@membus/contracts';
import {
  assertRecordTimestamps,
  DEFAULT_HYBRID_ALPHA,
  type IndexedMemory,
  type IndexFilter,
  type ScrollRequest,
  type ScrollResult,
  type SearchRequest,
  type SearchResult,
  type StatsResult,
  type VectorIndexCapabilities,
} from '@membus/vector-index';
import { ExactScanner } from './exact-scan.ts';
import { GraphMaintainer } from './graph-maintainer.ts';
import { type HnswOptions, hasGraphFiles } from './hnsw-graph.ts';
import { KeywordIndex } from './keyword-index.ts';
import { countStats, scrollPage } from './listing.ts';
import { payloadFromRecord, payloadFromRow, rowFromRecord } from './memory-rows.ts';
import type {
  EmbeddedIndexStatus,
  EmbeddedVectorIndex,
  EmbeddedVectorIndexOptions,
  MemoryCount,
} from './options.ts';
import { PayloadIndex, type SlotPayload } from './payload-index.ts';
import { DensePlanner } from './planner.ts';
import {
  type RestartSnapshot,
  takeRestartSnapshot,
  writeRestartSnapshot,
} from './restart-snapshot.ts';
import { Searcher } from './search.ts';
import { SlotTable } from './slot-table.ts';
import { type DerivedRow, type RowToWrite, SqliteStore, type StoredRow } from './sqlite-store.ts';
import { storeOpenError } from './storage-failures.ts';
import { VectorArena } from './vector-arena.ts';
import { openVectorFile } from './vector-file.ts';
import { normalized } from './vector-pages.ts';

/** Opens (or creates) an embedded index under `options.directory`. */
export async function openEmbeddedVectorIndex(
  options: EmbeddedVectorIndexOptions,
): Promise<EmbeddedVectorIndex> {
  if (!Number.isInteger(options.dimension) || options.dimension < 1)
    throw new MembusError('INVALID_MESSAGE', `dimension must be a positive integer`);
  for (const [name, value] of Object.entries(options.hnsw ?? {}))
    if (value !== undefined && !(Number.isInteger(value) && value >= 1))
      throw new MembusError(
        'INVALID_MESSAGE',
        `hnsw.${name} must be a whole number of at least 1, not ${value}`,
      );
  await mkdir(options.directory, { recursive: true });
  const file = join(options.directory, DATABASE);
  // SQLite would create an empty database here and the graph's memories would be forgotten:
  // a silent empty start. The operator decides.
  if (!existsSync(file) && hasGraphFiles(options.directory))
    throw new MembusError(
      'INTERNAL',
      `the data directory ${options.directory} holds a graph (graph.json, graph-*.hnsw) but no memories database (${DATABASE}): restore ${file} from a backup, or remove the graph files to start with an empty store`,
      { details: { file, problem: 'memories database missing' } },
    );
  let index: EmbeddedIndex;
  try {
    index = new EmbeddedIndex(options);
  } catch (error) {
    throw storeOpenError(file, options.directory, error);
  }
  try {
    await index.load();
  } catch (error) {
    await index.close({ persistGraph: false }).catch(() => undefined);
    throw storeOpenError(file, options.directory, error);
  }
  return index;
}

const DATABASE = 'memories.sqlite';
/** The float32 vectors by slot, a copy of SQLite's written at every open (vector-arena.ts). */
const VECTORS = 'vectors.f32';

const defaultHnsw: HnswOptions = {
  // usearch over int8 codes on the bench corpus at 1M (decision 002): connectivity 16 with
  // expansion_add 64 stops at recall@10 0.95 (strict) / 0.96 (within 1e-3 of the 10th distance)
  // whatever the search expansion; 32 and 128 reach 0.982 / 0.993 at expansion_search 64.
  m: 32,
  efConstruction: 128,
  efSearch: 64,
};

class EmbeddedIndex implements EmbeddedVectorIndex {
  readonly capabilities: VectorIndexCapabilities = {
    name: 'embedded',
    persistent: true,
    keyword: true,
  };
  readonly dimension: number;

  private readonly directory: string;
  private readonly hnsw: HnswOptions;
  private readonly store: SqliteStore;
  private readonly arena: VectorArena;
  private readonly slots = new SlotTable();
  private readonly payloadIndex = new PayloadIndex();
  private readonly keywords = new KeywordIndex();
  private readonly graph: GraphMaintainer;
  private readonly searcher: Searcher;
  private nextSeq = 1;
  private storeId: string | undefined;
  /** How the last open built the in-memory structures (status()). */
  private opened: EmbeddedIndexStatus['opened'] = { from: 'rows', ms: 0 };
  private liveCount = 0;
  private closed = false;

  constructor(options: EmbeddedVectorIndexOptions) {
    this.directory = options.directory;
    this.dimension = options.dimension;
    this.hnsw = { ...defaultHnsw, ...options.hnsw };
    // The arena keeps int8 codes; exact scores read the float32 vectors from a file it writes
    // again at every open, or from SQLite if that file fails.
    this.arena = new VectorArena(
      options.dimension,
      (slot) => this.store.vectorOf(slot),
      () => openVectorFile(join(options.directory, VECTORS), options.dimension),
    );
    this.graph = new GraphMaintainer(
      {
        directory: options.directory,
        dimension: options.dimension,
        hnsw: this.hnsw,
        indexSliceMs: options.indexSliceMs ?? 1,
        idleIndexSliceMs: options.idleIndexSliceMs ?? 4,
        idleAfterMs: options.idleAfterMs ?? 1_000,
        saveEveryChanges: options.saveEveryChanges ?? 20_000,
        saveQuietMs: options.saveQuietMs ?? 1_000,
        onGraphEvent: options.onGraphEvent,
      },
      this.arena,
      {
        liveCount: () => this.liveCount,
        watermark: () => this.nextSeq - 1,
        seqOf: (slot) => this.slots.seqOf(slot),
        ensureSlot: (slot) => this.ensureSlotCapacity(slot),
      },
    );
    const planner = new DensePlanner(
      {
        exactScanThreshold: options.exactScanThreshold ?? 2_000,
        annCostRatio: options.annCostRatio ?? 2_000,
      },
      this.arena,
      this.slots,
      this.graph,
      new ExactScanner(this.arena, this.slots),
    );
    this.store = new SqliteStore(join(options.directory, DATABASE), {
      checkpointIntervalMs: options.checkpointIntervalMs ?? 1_000,
      mmapBytes: options.mmapBytes ?? 0,
    });
    this.searcher = new Searcher(
      {
        arena: this.arena,
        slots: this.slots,
        payloadIndex: this.payloadIndex,
        keywords: this.keywords,
        planner,
        store: this.store,
        hybridAlpha: options.hybridAlpha ?? DEFAULT_HYBRID_ALPHA,
      },
      {
        assertOpen: () => this.assertOpen(),
        assertDimension: (vector, operation) => this.assertDimension(vector, operation),
        liveCount: () => this.liveCount,
      },
    );
  }

  /** Loads rows into memory, then the saved graph (or schedules a rebuild), then catches up. */
  async load(): Promise<void> {
    const storedDimension = this.store.getSetting('dimension');
    if (storedDimension !== undefined && Number(storedDimension) !== this.dimension)
      throw new MembusError(
        'DIMENSION_MISMATCH',
        `the store under ${this.directory} holds vectors of dimension ${storedDimension}, not ${this.dimension}`,
        { details: { expected: Number(storedDimension), actual: this.dimension } },
      );
    if (storedDimension === undefined) this.store.putSetting('dimension', String(this.dimension));
    // Names this database in the graph manifest: a graph saved beside another database (one
    // restored from a backup, or replaced) is not loaded.
    let storeId = this.store.getSetting('store_id');
    if (storeId === undefined) {
      storeId = randomUUID();
      this.store.putSetting('store_id', storeId);
    }

    this.storeId = storeId;
    const started = performance.now();
    const lookup = takeRestartSnapshot(
      this.directory,
      this.store,
      { storeId, dimension: this.dimension },
      (kind, index) => this.arena.restorePage(kind, index),
    );
    const { snapshot } = lookup;
    const slots = this.slots;
    let maxSeq = 0;
    const rows = snapshot === undefined ? this.store.loadAll() : this.store.loadPayloads();
    for (const row of rows) {
      const payload = payloadFromRow(row);
      this.ensureSlotCapacity(row.slot);
      slots.set(row.slot, payload);
      this.payloadIndex.add(row.slot, payload);
      if (snapshot === undefined) this.setDerived(row as StoredRow);
      this.liveCount++;
      if (row.seq > maxSeq) maxSeq = row.seq;
      if (row.slot >= slots.nextSlot) slots.nextSlot = row.slot + 1;
    }
    let reason = lookup.reason;
    if (snapshot !== undefined) {
      reason = this.restore(snapshot, maxSeq);
      if (reason !== undefined) for (const row of this.store.loadDerived()) this.setDerived(row);
    }
    this.opened = {
      from: reason === undefined ? 'snapshot' : 'rows',
      ...(reason === undefined ? {} : { reason }),
      ms: performance.now() - started,
    };
    for (let slot = 0; slot < slots.nextSlot; slot++)
      if (!slots.isLive(slot)) slots.freeSlots.push(slot);
    slots.freeSlots.reverse();
    this.nextSeq = maxSeq + 1;

    const watermark = await this.graph.load(storeId, slots.nextSlot);
    // Sequence numbers above the watermark may be in the graph's past even if SQLite no longer
    // holds them (the newest rows deleted): never reuse one for a new vector.
    if (watermark !== undefined) this.nextSeq = Math.max(this.nextSeq, watermark + 1);
    this.graph.schedule();
  }

  /** A row's vector into the arena and its texts into the keyword index. */
  private setDerived(row: DerivedRow): void {
    if (row.vector.byteLength !== this.dimension * 4)
      throw new MembusError(
        'INTERNAL',
        `the memory in slot ${row.slot} in ${this.directory} has a vector of ${row.vector.byteLength} bytes, not ${this.dimension * 4}`,
      );
    this.arena.setBytes(row.slot, row.vector);
    this.keywords.set(row.slot, keywordText(row.text, row.context ?? undefined));
  }

  /**
   * The keyword index and the int8 codes from the last clean close's snapshot (the payloads are
   * loaded): undefined when restored, else why not (the caller builds them from the rows).
   */
  private restore(snapshot: RestartSnapshot, maxSeq: number): string | undefined {
    const { header } = snapshot;
    if (header.count !== this.liveCount || header.maxSeq !== maxSeq)
      return `the rows changed after the snapshot (${header.count} memories up to sequence ${header.maxSeq}, now ${this.liveCount} up to ${maxSeq})`;
    try {
      this.keywords.restoreState(snapshot.keywords);
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
    const end = this.slots.nextSlot;
    if (this.arena.capacity < end)
      return `the snapshot holds codes for ${this.arena.capacity} slots, not ${end}`;
    const file = openVectorFile(join(this.directory, VECTORS), this.dimension, true);
    if (file !== undefined && this.arena.adoptFile(file, end)) return undefined;
    file?.close();
    // The keyword index and codes are set again from the rows with the vectors (each `set`
    // replaces).
    return `${VECTORS} does not hold every vector`;
  }

  async upsert(items: readonly IndexedMemory[]): Promise<void> {
    this.assertOpen();
    for (const item of items) {
      const { record } = item;
      assertRecordTimestamps(record);
      if (item.vector !== undefined) this.assertDimension(item.vector, 'upsert');
      else if (this.payloadIndex.slotOf(item.record.tenant, item.record.id) === undefined)
        throw new MembusError(
          'NOT_FOUND',
          `upsert without a vector: memory ${item.record.id} does not exist`,
          { details: { id: item.record.id } },
        );
    }
    if (items.length === 0) return;
    // Last write wins for an id repeated within the batch.
    const latest = new Map<string, IndexedMemory>();
    for (const item of items) latest.set(`${item.record.tenant}\u0000${item.record.id}`, item);

    const allocated: number[] = [];
    const changes: {
      slot: number;
      payload: SlotPayload;
      vector: Float32Array | undefined;
      text: string;
    }[] = [];
    const rows: RowToWrite[] = [];
    let seq = this.nextSeq;
    for (const { record, vector, dedupKey } of latest.values()) {
      let slot = this.payloadIndex.slotOf(record.tenant, record.id);
      if (slot === undefined) {
        slot = this.slots.allocate();
        allocated.push(slot);
      }
      // `seq` versions the vector: a change that keeps the vector keeps the graph point current.
      const unit = vector === undefined ? undefined : normalized(vector);
      const rowSeq = unit === undefined ? this.slots.seq[slot]! : seq++;
      const payload = payloadFromRecord(record, dedupKey, rowSeq);
      changes.push({ slot, payload, vector: unit, text: keywordText(record.text, record.context) });
      rows.push(rowFromRecord(record, payload, slot, unit ?? this.arena.view(slot)));
    }
    try {
      this.store.writeRows(rows);
    } catch (error) {
      for (const slot of allocated.reverse()) this.slots.freeSlots.push(slot);
      throw new MembusError('BACKEND_FAILED', 'writing memories to SQLite failed', {
        cause: error,
      });
    }
    this.nextSeq = seq;
    for (const { slot, payload, vector, text } of changes) {
      this.ensureSlotCapacity(slot);
      this.keywords.set(slot, text);
      const previous = this.slots.payloadAt(slot);
      if (previous === undefined) this.liveCount++;
      else this.payloadIndex.remove(slot, previous);
      this.slots.set(slot, payload);
      this.payloadIndex.add(slot, payload);
      if (vector === undefined) continue;
      this.arena.set(slot, vector);
      this.graph.replace(slot);
    }
    this.graph.schedule();
  }

  async get(tenant: string, ids: readonly string[]): Promise<MemoryRecord[]> {
    this.assertOpen();
    const records: MemoryRecord[] = [];
    for (const id of new Set(ids)) {
      const record = this.store.getRecord(tenant, id);
      if (record !== undefined) records.push(record);
    }
    return records;
  }

  async vectors(tenant: string, ids: readonly string[]): Promise<Map<string, Float32Array>> {
    this.assertOpen();
    const vectors = new Map<string, Float32Array>();
    for (const id of new Set(ids)) {
      const slot = this.payloadIndex.slotOf(tenant, id);
      if (slot !== undefined) vectors.set(id, new Float32Array(this.arena.view(slot)));
    }
    return vectors;
  }

  async delete(tenant: string, ids: readonly string[]): Promise<string[]> {
    this.assertOpen();
    const deleted = this.store.deleteRows(tenant, ids);
    for (const slot of deleted.values()) {
      const payload = this.slots.payloadAt(slot);
      if (payload === undefined) continue;
      this.payloadIndex.remove(slot, payload);
      this.keywords.remove(slot);
      this.slots.set(slot, undefined);
      this.liveCount--;
      this.graph.remove(slot);
      this.slots.freeSlots.push(slot);
    }
    this.graph.resolveIndexedWaiters();
    return [...deleted.keys()];
  }

  async search(request: SearchRequest): Promise<SearchResult> {
    return this.searcher.search(request);
  }

  async scroll(request: ScrollRequest): Promise<ScrollResult> {
    this.assertOpen();
    return scrollPage(this.slots, this.payloadIndex, this.store, request);
  }

  async stats(tenant: string, filter: IndexFilter | undefined, now: number): Promise<StatsResult> {
    this.assertOpen();
    return countStats(this.slots, this.payloadIndex, { tenant, filter, now });
  }

  async recordAccess(
    tenant: string,
    accesses: ReadonlyMap<string, { count: number; at: number }>,
  ): Promise<void> {
    this.assertOpen();
    await this.store.recordAccess(tenant, accesses);
  }

  whenIndexed(): Promise<void> {
    return this.graph.whenIndexed();
  }

  async newestEmbeddingModel(): Promise<string | undefined> {
    this.assertOpen();
    return this.store.newestEmbeddingModel();
  }

  status(): EmbeddedIndexStatus {
    const tail = this.graph.tail.size;
    const lastError = this.graph.lastError;
    return {
      count: this.liveCount,
      indexed: this.liveCount - tail,
      tail,
      saving: this.graph.isSaving,
      ...(lastError === undefined ? {} : { lastError }),
      hnsw: { ...this.hnsw },
      graphRebuilds: { ...this.graph.rebuilds },
      opened: { ...this.opened },
    };
  }

  memoryCounts(): MemoryCount[] {
    return this.payloadIndex.countByTierAndKind(tierValues, kindValues);
  }

  saveGraph(): Promise<void> {
    return this.graph.save();
  }

  async close(options: { persistGraph?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const persist = options.persistGraph ?? true;
    try {
      await this.graph.close(persist);
      if (persist) this.writeSnapshot();
    } finally {
      this.arena.close();
      await this.store.close();
    }
  }

  // --- internals ---

  /**
   * At a clean close (no write can come after it): the snapshot the next open restores from,
   * when the vector file holds every vector. Best effort: without it the next open rebuilds
   * from the rows, as after a crash.
   */
  private writeSnapshot(): void {
    if (this.storeId === undefined || !this.arena.syncFile()) return;
    let maxSeq = 0;
    for (let slot = 0; slot < this.slots.nextSlot; slot++)
      if (this.slots.isLive(slot) && this.slots.seq[slot]! > maxSeq) maxSeq = this.slots.seq[slot]!;
    try {
      writeRestartSnapshot(
        this.directory,
        this.store,
        {
          storeId: this.storeId,
          dimension: this.dimension,
          count: this.liveCount,
          maxSeq,
        },
        this.keywords,
        this.arena.snapshotPages(),
      );
    } catch {
      // Not written (a full disk, say): the next open rebuilds from the rows.
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new MembusError('UNAVAILABLE', 'the embedded vector index is closed');
  }

  private assertDimension(vector: Float32Array, operation: string): void {
    if (vector.length !== this.dimension)
      throw new MembusError(
        'DIMENSION_MISMATCH',
        `${operation}: vector has dimension ${vector.length}, the index holds ${this.dimension}`,
        { details: { expected: this.dimension, actual: vector.length } },
      );
  }

  private ensureSlotCapacity(slot: number): void {
    this.arena.ensure(slot);
    this.slots.ensure(slot);
    this.graph.ensure(slot);
  }
}

/** What the keyword leg searches: the text and, apart by a line, its keyword-only context. */
function keywordText(text: string, context: string | undefined): string {
  return context === undefined || context === '' ? text : `${text}\n${context}`;
}
