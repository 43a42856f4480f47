import {
  type DeleteReply,
  type DeleteRequest,
  defaultTier,
  type EmbeddedMemory,
  type ExpireReply,
  type GetReply,
  type HistoryReply,
  inferScope,
  Limits,
  type ListReply,
  type ListRequest,
  MembusError,
  type MemoryEvent,
  type MemoryFilter,
  type MemoryRecord,
  type MergeReply,
  type MergeRequest,
  type QueryHit,
  type QueryReply,
  type QueryRequest,
  type StatsReply,
  type UpdateRequest,
  unpackVector,
} from '@membus/contracts';
import type { IndexedMemory, ScrollCursor, SearchHit, VectorIndex } from '@membus/vector-index';
import type { DocumentStore, StoredHistoryEntry } from '../ports/document-store.ts';
import { AccessTracker } from './access-tracker.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { dedupKey } from './dedup-key.ts';
import { candidateCount, combineScore, DEFAULT_WEIGHTS, recencyScore } from './ranking.ts';
import { countThatFits, largestCounts } from './reply-budget.ts';

/** A text as it will be stored: redacted, hashed and embedded. */
export interface EmbeddedDocument {
  /** The text with its secrets masked. */
  text: string;
  /** sha256 of the normalised redacted text. */
  contentHash: string;
  vector: Float32Array;
  /** Model id that produced the vector. */
  model: string;
}

/** What an update changes, before redaction. */
export interface ChangeInput {
  /** New text: redacted, hashed and embedded. */
  text?: string;
  /** New metadata: redacted. */
  metadata?: Record<string, unknown>;
}

/** An update's text and metadata as they will be stored. */
export interface PreparedChange {
  /** Present exactly when the change had a text. */
  document?: EmbeddedDocument;
  /** Present exactly when the change had metadata, its secrets masked. */
  metadata?: Record<string, unknown>;
}

/**
 * Vectors for queries and changed texts, from the embedder. Redaction lives in the embedder
 * alone (one policy, one configuration), so anything this service writes that did not come
 * through the store path goes through the embedder first.
 */
export interface EmbedPort {
  query(text: string): Promise<Float32Array>;
  /** Redacts, hashes and embeds texts as they will be stored. */
  documents(texts: readonly string[]): Promise<EmbeddedDocument[]>;
  /**
   * Redacts an update's text and metadata with the store path's policy (and embeds the text),
   * in one round trip. Optional only so ports that never see user metadata (benchmarks,
   * evaluation) need not implement it: without it an update that sets metadata is refused,
   * never stored unredacted.
   */
  prepareChange?(change: ChangeInput): Promise<PreparedChange>;
}

/** Where memory events go once a change is durable; `dedupId` makes a re-publish a no-op. */
export interface EventPort {
  publish(
    tenant: string,
    events: readonly { event: MemoryEvent; dedupId: string }[],
  ): Promise<void>;
}

export interface MemoryServiceOptions {
  index: VectorIndex;
  documents: DocumentStore;
  embed: EmbedPort;
  events: EventPort;
  clock?: () => number;
  accessFlushMs?: number;
  onBackgroundError?: (error: unknown) => void;
  /**
   * Near-duplicate merging at write: a new memory whose cosine similarity to an existing one
   * of the same scope, owners, namespace and kind is at least the threshold is merged into it.
   * `default` applies where `byNamespace` has no entry; 0 (or > 1) turns merging off.
   */
  nearDuplicates?: { default: number; byNamespace?: Readonly<Record<string, number>> };
}

export interface IngestItem {
  tenant: string;
  embedded: EmbeddedMemory;
}

export type IngestResult =
  | { ok: true; status: 'stored' | 'duplicate' | 'merged'; memoryId: string; replayed: boolean }
  | { ok: false; error: MembusError };

const iso = (ms: number) => new Date(ms).toISOString();
const MERGEABLE_KINDS: ReadonlySet<string> = new Set(['fact', 'preference', 'episode']);
const ms = (timestamp: string) => Date.parse(timestamp);

/**
 * The vector-store's domain: idempotent ingest with exact-duplicate merging, history,
 * events, and every read. Plain class: index, documents, embedder and events are ports.
 */
export class MemoryService {
  readonly #index: VectorIndex;
  readonly #documents: DocumentStore;
  readonly #embed: EmbedPort;
  readonly #events: EventPort;
  readonly #clock: () => number;
  readonly #access: AccessTracker;
  readonly #nearDuplicates: { default: number; byNamespace?: Readonly<Record<string, number>> };

  constructor(options: MemoryServiceOptions) {
    this.#index = options.index;
    this.#documents = options.documents;
    this.#embed = options.embed;
    this.#events = options.events;
    this.#clock = options.clock ?? Date.now;
    this.#nearDuplicates = options.nearDuplicates ?? { default: 0 };
    const onError = options.onBackgroundError ?? (() => {});
    this.#access = new AccessTracker(
      (tenant, accesses) => this.#index.recordAccess(tenant, accesses),
      options.accessFlushMs ?? 1_000,
      onError,
    );
  }

  get dimension(): number {
    return this.#index.dimension;
  }

  /**
   * Writes a batch of embedded memories. Idempotent by store id: a redelivered store changes
   * nothing. Exact duplicates (same scope, owners, namespace and content) bump `occurrences`
   * of the memory that has them instead of adding a second one.
   */
  async ingest(items: readonly IngestItem[]): Promise<IngestResult[]> {
    const results: IngestResult[] = new Array(items.length);
    const byTenant = new Map<string, number[]>();
    items.forEach((item, index) => {
      byTenant.set(item.tenant, [...(byTenant.get(item.tenant) ?? []), index]);
    });
    for (const [tenant, indexes] of byTenant) {
      await this.#ingestTenant(
        tenant,
        indexes.map((index) => items[index] as IngestItem),
        indexes,
        results,
      );
    }
    return results;
  }

  async #ingestTenant(
    tenant: string,
    items: readonly IngestItem[],
    positions: readonly number[],
    results: IngestResult[],
  ): Promise<void> {
    const now = this.#clock();
    const storeIds = items.map((item) => item.embedded.memory.id);
    const [receipts, existing] = await Promise.all([
      this.#documents.storeReceipts(tenant, storeIds),
      this.#index.get(tenant, storeIds),
    ]);
    const existingById = new Map(existing.map((record) => [record.id, record]));
    // The memories earlier stores of these ids went into (duplicates and merges: another id).
    const holderIds = [...new Set(receipts.values())].filter((id) => !existingById.has(id));
    if (holderIds.length > 0)
      for (const record of await this.#index.get(tenant, holderIds))
        existingById.set(record.id, record);
    const writes = new Map<string, IndexedMemory>();
    const history: StoredHistoryEntry[] = [];
    const events: { event: MemoryEvent; dedupId: string }[] = [];
    const byKey = new Map<string, MemoryRecord>();

    // A client's retry of one store id can land in the same batch as the original.
    const inBatch = new Map<string, { result: IngestResult; contentHash: string }>();
    for (const [offset, item] of items.entries()) {
      const position = positions[offset] as number;
      const { embedded } = item;
      const store = embedded.memory;
      const earlier = inBatch.get(store.id);
      if (earlier?.result.ok) {
        results[position] =
          earlier.contentHash === embedded.contentHash
            ? { ...earlier.result, replayed: true }
            : { ok: false, error: conflictingContent(store.id, earlier.result.memoryId) };
        continue;
      }
      const receipt = receipts.get(store.id);
      const indexed = existingById.get(store.id);
      if (receipt !== undefined) {
        results[position] = await this.#replay(tenant, embedded, receipt, existingById, now);
        continue;
      }
      if (indexed !== undefined) {
        const memoryId = store.id;
        // In the index but without its receipt: the history write (or the process) failed
        // after the index write. Write the receipt and the event now, both idempotent.
        history.push({
          memoryId: indexed.id,
          event: 'ADD',
          at: indexed.updatedAt,
          text: indexed.text,
          storeId: store.id,
          details: { contentHash: indexed.contentHash },
        });
        events.push({
          event: {
            v: 1,
            change: 'created',
            id: indexed.id,
            memory: indexed,
            at: indexed.updatedAt,
          },
          dedupId: store.id,
        });
        results[position] =
          indexed.contentHash === embedded.contentHash
            ? { ok: true, status: 'stored', memoryId, replayed: true }
            : { ok: false, error: conflictingContent(store.id, memoryId) };
        continue;
      }
      const vector = unpackVector(embedded.vector);
      if (!vector || vector.length !== embedded.dimension) {
        results[position] = {
          ok: false,
          error: new MembusError('INVALID_MESSAGE', 'vector does not decode to its dimension'),
        };
        continue;
      }
      if (vector.length !== this.#index.dimension) {
        results[position] = {
          ok: false,
          error: new MembusError(
            'DIMENSION_MISMATCH',
            `vector has ${vector.length} dimensions; this index holds ${this.#index.dimension}`,
            { details: { expected: this.#index.dimension, actual: vector.length } },
          ),
        };
        continue;
      }
      const scope = store.scope ?? inferScope(store);
      const createdAt = store.createdAt ?? iso(embedded.acceptedAt);
      const expiresAt =
        store.expiresAt ?? (store.ttlSeconds ? iso(now + store.ttlSeconds * 1000) : undefined);
      const fresh: MemoryRecord = {
        id: store.id,
        tenant,
        scope,
        ...(store.userId !== undefined ? { userId: store.userId } : {}),
        ...(store.agentId !== undefined ? { agentId: store.agentId } : {}),
        ...(store.sessionId !== undefined ? { sessionId: store.sessionId } : {}),
        ...(store.namespace !== undefined ? { namespace: store.namespace } : {}),
        kind: store.kind,
        text: store.text,
        metadata: store.metadata,
        categories: store.categories,
        tags: store.tags,
        importance: store.importance,
        tier: store.tier ?? defaultTier(store.kind),
        createdAt,
        updatedAt: iso(now),
        ...(expiresAt !== undefined ? { expiresAt } : {}),
        accessCount: 0,
        contentHash: embedded.contentHash,
        embeddingModel: embedded.model,
        occurrences: 1,
      };
      const key = dedupKey(fresh);
      // Outcomes are data points: two identical executions are two outcomes, never merged; and
      // `mergeSimilar: false` asks for a memory of its own.
      const duplicateOf =
        fresh.kind === 'outcome' || store.mergeSimilar === false
          ? undefined
          : (byKey.get(key) ??
            (await this.#index.scroll({ tenant, filter: { dedupKey: key }, limit: 1, now }))
              .records[0]);
      const similar = duplicateOf
        ? undefined
        : await this.#nearDuplicate(tenant, fresh, vector, store.mergeSimilar, now);
      if (similar) {
        const merged = mergeSimilar(similar.record, fresh, now);
        const mergedKey = dedupKey(merged);
        byKey.set(mergedKey, merged);
        writes.set(merged.id, { record: merged, vector, dedupKey: mergedKey });
        history.push({
          memoryId: merged.id,
          event: 'MERGE',
          at: iso(now),
          storeId: store.id,
          previousText: similar.record.text,
          text: merged.text,
          details: {
            storeId: store.id,
            contentHash: fresh.contentHash,
            similarity: similar.score,
            occurrences: merged.occurrences,
            ...metadataNotKept(fresh.metadata, merged.metadata),
          },
        });
        events.push({
          event: { v: 1, change: 'merged', id: merged.id, memory: merged, at: iso(now) },
          dedupId: store.id,
        });
        results[position] = { ok: true, status: 'merged', memoryId: merged.id, replayed: false };
        inBatch.set(store.id, { result: results[position], contentHash: fresh.contentHash });
      } else if (duplicateOf) {
        const merged = mergeDuplicate(duplicateOf, fresh, now);
        byKey.set(key, merged);
        writes.set(merged.id, { record: merged, vector, dedupKey: key });
        history.push({
          memoryId: merged.id,
          event: 'DUPLICATE',
          at: iso(now),
          storeId: store.id,
          details: {
            storeId: store.id,
            contentHash: fresh.contentHash,
            occurrences: merged.occurrences,
            ...metadataNotKept(fresh.metadata, merged.metadata),
          },
        });
        events.push({
          event: { v: 1, change: 'duplicate', id: merged.id, memory: merged, at: iso(now) },
          dedupId: store.id,
        });
        results[position] = { ok: true, status: 'duplicate', memoryId: merged.id, replayed: false };
        inBatch.set(store.id, { result: results[position], contentHash: fresh.contentHash });
      } else {
        byKey.set(key, fresh);
        writes.set(fresh.id, { record: fresh, vector, dedupKey: key });
        history.push({
          memoryId: fresh.id,
          event: 'ADD',
          at: iso(now),
          text: fresh.text,
          storeId: store.id,
          details: { contentHash: fresh.contentHash },
        });
        events.push({
          event: { v: 1, change: 'created', id: fresh.id, memory: fresh, at: iso(now) },
          dedupId: store.id,
        });
        results[position] = { ok: true, status: 'stored', memoryId: fresh.id, replayed: false };
        inBatch.set(store.id, { result: results[position], contentHash: fresh.contentHash });
      }
    }
    if (writes.size === 0 && history.length === 0) return;
    // Index first, then history: a crash in between is redelivered and found in the index.
    if (writes.size > 0) await this.#index.upsert([...writes.values()]);
    await this.#documents.appendHistory(tenant, history);
    await this.#events.publish(tenant, events);
  }

  /**
   * A store whose id already took effect (a redelivery or a client's retry): answered as the
   * first time while the memory that holds it is there and the content is the same. Otherwise
   * a typed failure, never `stored` for a memory that is not there: CONFLICT when the id holds
   * a different text (the first is kept) or its memory was deleted or expired (a deleted
   * memory is not brought back by a late retry); `merged` when it was merged into another.
   */
  async #replay(
    tenant: string,
    embedded: EmbeddedMemory,
    memoryId: string,
    records: ReadonlyMap<string, MemoryRecord>,
    now: number,
  ): Promise<IngestResult> {
    const storeId = embedded.memory.id;
    const holder = records.get(memoryId);
    const status = memoryId === storeId ? 'stored' : 'duplicate';
    // The common case needs no history: the holder is there with the content stored.
    if (holder && isLive(holder, now) && holder.contentHash === embedded.contentHash)
      return { ok: true, status, memoryId, replayed: true };
    const entries = await this.#documents.history(tenant, memoryId);
    const own = entries.find((entry) => entry.storeId === storeId);
    const storedHash = own?.details?.contentHash;
    const sameContent =
      typeof storedHash === 'string'
        ? storedHash === embedded.contentHash
        : own?.text === undefined || own.text === embedded.memory.text;
    if (!sameContent) return { ok: false, error: conflictingContent(storeId, memoryId) };
    if (holder && isLive(holder, now)) return { ok: true, status, memoryId, replayed: true };
    const last = entries.at(-1);
    const mergedInto = last?.event === 'MERGE' ? last.details?.mergedInto : undefined;
    if (typeof mergedInto === 'string') {
      const [into] = await this.#index.get(tenant, [mergedInto]);
      if (into && isLive(into, now))
        return { ok: true, status: 'merged', memoryId: mergedInto, replayed: true };
    }
    const reason = holder ? 'expired' : last?.event === 'EXPIRE' ? 'expired' : 'deleted';
    return {
      ok: false,
      error: new MembusError(
        'CONFLICT',
        `memory ${memoryId} of store ${storeId} was ${reason}; a ${reason} memory is not stored again under its id: store it with a new id`,
        { details: { id: storeId, memoryId, reason } },
      ),
    };
  }

  /** The most similar live memory of the same scope, owners, namespace and kind above the threshold. */
  async #nearDuplicate(
    tenant: string,
    fresh: MemoryRecord,
    vector: Float32Array,
    requested: boolean | undefined,
    now: number,
  ): Promise<{ record: MemoryRecord; score: number } | undefined> {
    // Outcomes are data points (each execution counts); summaries and patterns are kept by the
    // services that write them. Facts, preferences and episodes merge.
    if (requested === false || !MERGEABLE_KINDS.has(fresh.kind)) return undefined;
    const threshold =
      (fresh.namespace !== undefined
        ? this.#nearDuplicates.byNamespace?.[fresh.namespace]
        : undefined) ?? this.#nearDuplicates.default;
    if (!(threshold > 0 && threshold <= 1)) return undefined;
    const { hits } = await this.#index.search({
      tenant,
      vector,
      limit: 1,
      now,
      filter: {
        scopes: [fresh.scope],
        kinds: [fresh.kind],
        ...(fresh.userId !== undefined ? { userId: fresh.userId } : {}),
        ...(fresh.agentId !== undefined ? { agentId: fresh.agentId } : {}),
        ...(fresh.sessionId !== undefined ? { sessionId: fresh.sessionId } : {}),
        ...(fresh.namespace !== undefined ? { namespace: fresh.namespace } : {}),
      },
    });
    const [best] = hits;
    if (!best || best.score < threshold) return undefined;
    // The filter cannot say "no userId": keep owners exactly equal.
    const same = (key: 'userId' | 'agentId' | 'sessionId' | 'namespace') =>
      best.record[key] === fresh[key];
    return same('userId') && same('agentId') && same('sessionId') && same('namespace')
      ? { record: best.record, score: best.score }
      : undefined;
  }

  async query(tenant: string, request: QueryRequest): Promise<QueryReply> {
    const started = performance.now();
    // Not awaited here: the index may do what needs no vector while the embedder answers.
    const vector = request.vector
      ? this.#checkedVector(normaliseVector(request.vector))
      : this.#embed.query(request.text as string).then((embedded) => this.#checkedVector(embedded));
    // The index awaits it; marked handled so that nothing thrown before then leaves it orphaned.
    if (vector instanceof Promise) vector.catch(() => undefined);
    const weights = { ...DEFAULT_WEIGHTS, ...request.weights };
    const now = this.#clock();
    const mode = request.mode ?? (request.text !== undefined ? 'hybrid' : 'dense');
    const result = await this.#index.search({
      tenant,
      vector,
      ...(request.filter ? { filter: request.filter } : {}),
      limit: candidateCount(request.topK, weights),
      now,
      mode,
      ...(request.text !== undefined ? { text: request.text } : {}),
    });
    // Ranked on `ranking` where the index gives it, so only the kept hits' records are read.
    const ranked: { hit: SearchHit; score: number; scores: QueryHit['scores'] }[] = [];
    for (const hit of result.hits) {
      if (request.minScore !== undefined && hit.score < request.minScore) continue;
      const ranking = hit.ranking ?? {
        updatedAt: ms(hit.record.updatedAt),
        importance: hit.record.importance,
      };
      const scores = {
        relevance: hit.score,
        recency: recencyScore(ranking.updatedAt, now, request.recencyHalfLifeHours),
        importance: ranking.importance,
        ...(hit.dense !== undefined ? { dense: hit.dense } : {}),
        ...(hit.keyword !== undefined ? { keyword: hit.keyword } : {}),
      };
      const score = combineScore(scores, weights);
      // A score that is not a number would be `null` on the wire: say which memory, not a
      // schema failure in the caller's SDK.
      if (!Number.isFinite(score))
        throw new MembusError('INTERNAL', `the index scored memory ${hit.record.id} ${score}`, {
          details: { id: hit.record.id, index: this.#index.capabilities.name },
        });
      ranked.push({ hit, score, scores });
    }
    ranked.sort((a, b) => b.score - a.score);
    const best: QueryHit[] = ranked
      .slice(0, request.topK)
      .map(({ hit, score, scores }) => ({ memory: hit.record, score, scores }));
    // The best hits that fit one reply; the rest are counted, never an oversize reply.
    const top = best.slice(0, countThatFits(best));
    const omitted = best.length - top.length;
    this.#access.track(
      tenant,
      top.map((hit) => hit.memory.id),
      now,
    );
    return {
      v: 1,
      hits: top,
      ...(omitted > 0 ? { truncated: true, omitted } : {}),
      mode,
      plan: result.plan,
      tookMs: performance.now() - started,
    };
  }

  /**
   * The live memories of `ids`, in the order asked, as many as fit one reply
   * (`Limits.replyBytes`); the live ones left out are `pending`.
   */
  async get(tenant: string, ids: readonly string[]): Promise<GetReply> {
    const now = this.#clock();
    const asked = [...new Set(ids)];
    const byId = new Map(
      (await this.#index.get(tenant, asked))
        .filter((record) => isLive(record, now))
        .map((record) => [record.id, record]),
    );
    const live = asked.flatMap((id) => {
      const record = byId.get(id);
      return record ? [record] : [];
    });
    const memories = live.slice(0, countThatFits(live));
    const pending = live.slice(memories.length).map((record) => record.id);
    this.#access.track(
      tenant,
      memories.map((record) => record.id),
      now,
    );
    return {
      v: 1,
      memories,
      missing: asked.filter((id) => !byId.has(id)),
      ...(pending.length > 0 ? { pending } : {}),
    };
  }

  /**
   * One page, newest first: `limit` memories or as many as fit one reply (`Limits.replyBytes`),
   * with a cursor to the rest.
   */
  async list(tenant: string, request: ListRequest): Promise<ListReply> {
    const page = await this.#index.scroll({
      tenant,
      ...(request.filter ? { filter: request.filter } : {}),
      limit: request.limit,
      ...(request.cursor ? { after: decodeCursor(request.cursor) } : {}),
      now: this.#clock(),
    });
    const fits = countThatFits(page.records);
    if (fits < page.records.length) {
      const last = page.records[fits - 1] as MemoryRecord;
      return {
        v: 1,
        memories: page.records.slice(0, fits),
        nextCursor: encodeCursor({ createdAt: ms(last.createdAt), id: last.id }),
      };
    }
    return {
      v: 1,
      memories: page.records,
      ...(page.next ? { nextCursor: encodeCursor(page.next) } : {}),
    };
  }

  /** An update's text and metadata as the embedder redacted them (see EmbedPort.prepareChange). */
  async #prepareChange(change: ChangeInput): Promise<PreparedChange> {
    if (this.#embed.prepareChange) {
      const prepared = await this.#embed.prepareChange(change);
      if (change.text !== undefined && !prepared.document)
        throw new MembusError('EMBEDDING_FAILED', 'embedder returned no vector');
      if (change.metadata !== undefined && !prepared.metadata)
        throw new MembusError('EMBEDDING_FAILED', 'embedder returned no redacted metadata');
      return prepared;
    }
    if (change.metadata !== undefined)
      throw new MembusError('INTERNAL', 'this embed port cannot redact metadata', {
        details: { reason: 'EmbedPort.prepareChange missing' },
      });
    if (change.text === undefined) return {};
    const [document] = await this.#embed.documents([change.text]);
    if (!document) throw new MembusError('EMBEDDING_FAILED', 'embedder returned no vector');
    return { document };
  }

  async update(tenant: string, request: UpdateRequest): Promise<MemoryRecord> {
    const now = this.#clock();
    const [current] = (await this.#index.get(tenant, [request.id])).filter((record) =>
      isLive(record, now),
    );
    if (!current)
      throw new MembusError('NOT_FOUND', `no memory ${request.id}`, {
        details: { id: request.id },
      });
    const textChanged = request.text !== undefined && request.text !== current.text;
    // Text and metadata are stored only as the embedder redacted them: an update must not be
    // a way around the masking a store applies.
    const prepared: PreparedChange =
      textChanged || request.metadata !== undefined
        ? await this.#prepareChange({
            ...(textChanged ? { text: request.text } : {}),
            ...(request.metadata !== undefined ? { metadata: request.metadata } : {}),
          })
        : {};
    let next: MemoryRecord = {
      ...current,
      ...(prepared.metadata !== undefined ? { metadata: prepared.metadata } : {}),
      ...(request.categories !== undefined ? { categories: request.categories } : {}),
      ...(request.tags !== undefined ? { tags: request.tags } : {}),
      ...(request.importance !== undefined ? { importance: request.importance } : {}),
      ...(request.tier !== undefined ? { tier: request.tier } : {}),
      updatedAt: iso(now),
    };
    if (request.expiresAt === null) delete next.expiresAt;
    else if (request.expiresAt !== undefined) next.expiresAt = request.expiresAt;
    let vector: Float32Array | undefined;
    const document = prepared.document;
    if (document) {
      this.#checkDimension(document.vector.length);
      vector = document.vector;
      next = {
        ...next,
        text: document.text,
        contentHash: document.contentHash,
        embeddingModel: document.model,
      };
    }
    await this.#index.upsert([
      { record: next, dedupKey: dedupKey(next), ...(vector ? { vector } : {}) },
    ]);
    await this.#documents.appendHistory(tenant, [
      {
        memoryId: next.id,
        event: 'UPDATE',
        at: next.updatedAt,
        ...(vector ? { previousText: current.text, text: next.text } : {}),
        details: {
          fields: Object.keys(request).filter(
            (key) => key !== 'v' && key !== 'id' && key !== 'reason',
          ),
          ...(request.reason !== undefined ? { reason: request.reason } : {}),
        },
      },
    ]);
    await this.#events.publish(tenant, [
      {
        event: { v: 1, change: 'updated', id: next.id, memory: next, at: next.updatedAt },
        dedupId: `update:${next.id}:${now}`,
      },
    ]);
    return next;
  }

  /**
   * Deletes by ids (the reply lists those that existed) or by filter, page by page, so neither
   * memory nor the reply grows with the tenant: `deleted` counts them all, `ids` lists the first
   * `Limits.replyIds`.
   */
  async delete(tenant: string, request: DeleteRequest): Promise<DeleteReply> {
    const now = this.#clock();
    if (request.ids) {
      const ids = await this.#remove(
        tenant,
        await this.#index.get(tenant, request.ids),
        'DELETE',
        now,
        request.reason,
      );
      return { v: 1, deleted: ids.length, ids };
    }
    const filter = request.filter as MemoryFilter;
    let deleted = 0;
    const ids: string[] = [];
    let after: ScrollCursor | undefined;
    for (;;) {
      const page = await this.#index.scroll({
        tenant,
        filter,
        limit: Limits.pageSize,
        now,
        ...(after ? { after } : {}),
      });
      const removed = await this.#remove(tenant, page.records, 'DELETE', now, request.reason);
      deleted += removed.length;
      ids.push(...removed.slice(0, Limits.replyIds - ids.length));
      if (!page.next) break;
      after = page.next;
    }
    return { v: 1, deleted, ids, ...(deleted > ids.length ? { truncated: true } : {}) };
  }

  /**
   * Deletes every expired memory of the tenant, recording EXPIRE, page by page. Scans the tenant
   * with the clock at 0 (nothing counts as expired then), so it needs no expiry support in the
   * index port. `expired` counts them all; `ids` lists the first `Limits.replyIds`.
   */
  async expire(tenant: string, options: { dryRun?: boolean } = {}): Promise<ExpireReply> {
    const now = this.#clock();
    let expired = 0;
    const ids: string[] = [];
    let after: ScrollCursor | undefined;
    for (;;) {
      const page = await this.#index.scroll({
        tenant,
        limit: Limits.pageSize,
        now: 0,
        ...(after ? { after } : {}),
      });
      const due = page.records.filter((record) => !isLive(record, now));
      const removed = options.dryRun
        ? due.map((record) => record.id)
        : await this.#remove(tenant, due, 'EXPIRE', now);
      expired += removed.length;
      ids.push(...removed.slice(0, Limits.replyIds - ids.length));
      if (!page.next) break;
      after = page.next;
    }
    return { v: 1, expired, ids };
  }

  /** Deletes `records` from the index with their history entries and events; the ids deleted. */
  async #remove(
    tenant: string,
    records: readonly MemoryRecord[],
    event: 'DELETE' | 'EXPIRE',
    now: number,
    /** Why (a DELETE's `details.reason`): the caller's reason, e.g. a tier overflow policy. */
    reason?: string,
  ): Promise<string[]> {
    const deletedIds = new Set<string>();
    for (let start = 0; start < records.length; start += Limits.ids) {
      const chunk = records.slice(start, start + Limits.ids).map((record) => record.id);
      for (const id of await this.#index.delete(tenant, chunk)) deletedIds.add(id);
    }
    const deleted = records.filter((record) => deletedIds.has(record.id));
    if (deleted.length === 0) return [];
    await this.#documents.appendHistory(
      tenant,
      deleted.map((record) => ({
        memoryId: record.id,
        event,
        at: iso(now),
        previousText: record.text,
        ...(event === 'EXPIRE'
          ? { details: { expiresAt: record.expiresAt ?? null } }
          : reason !== undefined
            ? { details: { reason } }
            : {}),
      })),
    );
    const change = event === 'EXPIRE' ? 'expired' : 'deleted';
    await this.#events.publish(
      tenant,
      deleted.map((record) => ({
        event: { v: 1, change, id: record.id, at: iso(now) },
        dedupId: `${event === 'EXPIRE' ? 'expire' : 'delete'}:${record.id}`,
      })),
    );
    return deleted.map((record) => record.id);
  }

  /**
   * Folds sources into the target: occurrences and access counts summed, labels united,
   * importance the highest, metadata merged (the target's values win). MERGE in the history
   * of the target and of each source; sources deleted. Sources already gone are skipped, so a
   * rerun after a crash completes the merge without counting anything twice.
   */
  async merge(tenant: string, request: MergeRequest): Promise<MergeReply> {
    const now = this.#clock();
    const records = (
      await this.#index.get(tenant, [request.targetId, ...request.sourceIds])
    ).filter((record) => isLive(record, now));
    const target = records.find((record) => record.id === request.targetId);
    if (!target)
      throw new MembusError('NOT_FOUND', `no memory ${request.targetId}`, {
        details: { id: request.targetId },
      });
    const sources = records.filter((record) => record.id !== request.targetId);
    if (sources.length === 0 && request.text === undefined)
      return { v: 1, memory: target, merged: [] };
    const union = (lists: string[][]) => [...new Set(lists.flat())].slice(0, Limits.labelCount);
    const all = [target, ...sources];
    const lastAccess = all
      .map((record) => record.lastAccessedAt)
      .filter((value): value is string => value !== undefined)
      .sort()
      .at(-1);
    let next: MemoryRecord = {
      ...target,
      metadata: Object.assign({}, ...sources.map((record) => record.metadata), target.metadata),
      categories: union(all.map((record) => record.categories)),
      tags: union(all.map((record) => record.tags)),
      importance: Math.max(...all.map((record) => record.importance)),
      occurrences: all.reduce((sum, record) => sum + record.occurrences, 0),
      accessCount: all.reduce((sum, record) => sum + record.accessCount, 0),
      ...(lastAccess !== undefined ? { lastAccessedAt: lastAccess } : {}),
      updatedAt: iso(now),
    };
    let vector: Float32Array | undefined;
    if (request.text !== undefined && request.text !== target.text) {
      const [document] = await this.#embed.documents([request.text]);
      if (!document) throw new MembusError('EMBEDDING_FAILED', 'embedder returned no vector');
      this.#checkDimension(document.vector.length);
      vector = document.vector;
      next = {
        ...next,
        text: document.text,
        contentHash: document.contentHash,
        embeddingModel: document.model,
      };
    }
    // Target first, then sources: a crash in between leaves the sources in place for a rerun
    // to fold in (their occurrences may then count twice), but no memory is ever lost.
    await this.#index.upsert([
      { record: next, dedupKey: dedupKey(next), ...(vector ? { vector } : {}) },
    ]);
    const deletedIds = new Set(
      await this.#index.delete(
        tenant,
        sources.map((record) => record.id),
      ),
    );
    const merged = sources.filter((record) => deletedIds.has(record.id));
    await this.#documents.appendHistory(tenant, [
      {
        memoryId: next.id,
        event: 'MERGE',
        at: iso(now),
        ...(vector ? { previousText: target.text, text: next.text } : {}),
        details: { sourceIds: merged.map((record) => record.id), occurrences: next.occurrences },
      },
      ...merged.map((record) => ({
        memoryId: record.id,
        event: 'MERGE' as const,
        at: iso(now),
        previousText: record.text,
        details: { mergedInto: next.id },
      })),
    ]);
    await this.#events.publish(tenant, [
      {
        event: { v: 1, change: 'merged', id: next.id, memory: next, at: iso(now) },
        dedupId: `merge:${next.id}:${now}`,
      },
      ...merged.map((record) => ({
        event: { v: 1 as const, change: 'deleted' as const, id: record.id, at: iso(now) },
        dedupId: `delete:${record.id}`,
      })),
    ]);
    return { v: 1, memory: next, merged: merged.map((record) => record.id) };
  }

  /**
   * A memory's history, oldest first, in pages of at most `Limits.pageSize` entries and
   * `Limits.replyBytes`; the cursor is the number of entries already returned (history is
   * append-only, so it stays valid).
   */
  async history(tenant: string, id: string, cursor?: string): Promise<HistoryReply> {
    const entries = await this.#documents.history(tenant, id);
    if (entries.length === 0)
      throw new MembusError('NOT_FOUND', `no history for ${id}`, { details: { id } });
    const start = cursor === undefined ? 0 : decodeHistoryCursor(cursor, entries.length);
    const window = entries
      .slice(start, start + Limits.pageSize)
      .map(({ storeId: _storeId, ...entry }: StoredHistoryEntry) => entry);
    const page = window.slice(0, countThatFits(window));
    const next = start + page.length;
    return {
      v: 1,
      entries: page,
      ...(next < entries.length ? { nextCursor: encodeHistoryCursor(next) } : {}),
    };
  }

  async stats(tenant: string, filter: MemoryFilter | undefined): Promise<StatsReply> {
    const stats = await this.#index.stats(tenant, filter, this.#clock());
    // Namespaces and categories are open-ended: the largest counts, and how many were left out.
    const byNamespace = largestCounts(stats.byNamespace);
    const byCategory = largestCounts(stats.byCategory);
    return {
      v: 1,
      total: stats.total,
      byScope: stats.byScope as Record<string, number>,
      byKind: stats.byKind,
      byTier: stats.byTier,
      byNamespace: byNamespace.counts,
      byCategory: byCategory.counts,
      ...(byNamespace.omitted > 0 || byCategory.omitted > 0
        ? {
            omittedKeys: {
              ...(byNamespace.omitted > 0 ? { byNamespace: byNamespace.omitted } : {}),
              ...(byCategory.omitted > 0 ? { byCategory: byCategory.omitted } : {}),
            },
          }
        : {}),
      ...(stats.oldest !== undefined ? { oldest: iso(stats.oldest) } : {}),
      ...(stats.newest !== undefined ? { newest: iso(stats.newest) } : {}),
    };
  }

  async close(): Promise<void> {
    await this.#access.close();
  }

  #checkedVector(vector: Float32Array): Float32Array {
    this.#checkDimension(vector.length);
    return vector;
  }

  #checkDimension(length: number): void {
    if (length !== this.#index.dimension) {
      throw new MembusError(
        'DIMENSION_MISMATCH',
        `vector has ${length} dimensions; this index holds ${this.#index.dimension}`,
        {
          details: { expected: this.#index.dimension, actual: length },
        },
      );
    }
  }
}

function isLive(record: MemoryRecord, now: number): boolean {
  return record.expiresAt === undefined || ms(record.expiresAt) > now;
}

/**
 * Exact duplicate: one more occurrence. Importance is the higher, labels the union (bounded),
 * expiry the later (none beats any). Metadata: the existing memory's keys keep their values,
 * keys only the newer store has are added (unless that would pass `Limits.metadataBytes`);
 * what was not kept goes into the history entry (see `metadataNotKept`), never lost silently.
 */
export function mergeDuplicate(
  existing: MemoryRecord,
  incoming: MemoryRecord,
  now: number,
): MemoryRecord {
  const union = (a: string[], b: string[]) =>
    [...new Set([...a, ...b])].slice(0, Limits.labelCount);
  const expiresAt =
    existing.expiresAt === undefined || incoming.expiresAt === undefined
      ? undefined
      : ms(existing.expiresAt) >= ms(incoming.expiresAt)
        ? existing.expiresAt
        : incoming.expiresAt;
  const { expiresAt: _previous, ...rest } = existing;
  return {
    ...rest,
    metadata: mergedMetadata(existing.metadata, incoming.metadata),
    categories: union(existing.categories, incoming.categories),
    tags: union(existing.tags, incoming.tags),
    importance: Math.max(existing.importance, incoming.importance),
    updatedAt: iso(now),
    ...(expiresAt !== undefined ? { expiresAt } : {}),
    occurrences: existing.occurrences + 1,
  };
}

/**
 * Near duplicate (similar, not identical): one more occurrence of the existing memory, which
 * takes the newer wording (text, content hash, model, vector) — the latest report of a
 * recurring thing is the most current — with metadata merged newer-wins, labels united,
 * importance the higher and expiry the later.
 */
export function mergeSimilar(
  existing: MemoryRecord,
  incoming: MemoryRecord,
  now: number,
): MemoryRecord {
  return {
    ...mergeDuplicate(existing, incoming, now),
    text: incoming.text,
    contentHash: incoming.contentHash,
    embeddingModel: incoming.embeddingModel,
  };
}

function normaliseVector(values: readonly number[]): Float32Array {
  const vector = Float32Array.from(values);
  let sum = 0;
  for (const value of vector) sum += value * value;
  const norm = Math.sqrt(sum);
  if (norm === 0) throw new MembusError('INVALID_MESSAGE', 'query vector is all zeros');
  for (let index = 0; index < vector.length; index++)
    vector[index] = (vector[index] as number) / norm;
  return vector;
}

/** A history cursor: how many entries were returned before. */
function encodeHistoryCursor(offset: number): string {
  return Buffer.from(JSON.stringify(['history', offset])).toString('base64url');
}

function decodeHistoryCursor(value: string, length: number): number {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
    if (
      Array.isArray(parsed) &&
      parsed[0] === 'history' &&
      Number.isInteger(parsed[1]) &&
      (parsed[1] as number) >= 0 &&
      (parsed[1] as number) <= length
    )
      return parsed[1] as number;
  } catch {
    // fall through
  }
  throw new MembusError('INVALID_MESSAGE', 'cursor is not one this service issued', {
    details: { field: 'cursor' },
  });
}

/** A store id that already holds a different text: refused, the first text is kept. */
function conflictingContent(storeId: string, memoryId: string): MembusError {
  return new MembusError(
    'CONFLICT',
    `store id ${storeId} already holds a different text (memory ${memoryId}); the first text is kept: store the new one with a new id`,
    { details: { id: storeId, memoryId, reason: 'different content' } },
  );
}

/** The incoming metadata a merge did not keep (for the history entry), if any. */
function metadataNotKept(
  incoming: Record<string, unknown>,
  kept: Record<string, unknown>,
): { metadata?: Record<string, unknown> } {
  const lost = Object.entries(incoming).filter(
    ([key, value]) =>
      !Object.hasOwn(kept, key) || JSON.stringify(kept[key]) !== JSON.stringify(value),
  );
  return lost.length > 0 ? { metadata: Object.fromEntries(lost) } : {};
}

/** `existing` plus the keys only `incoming` has, within `Limits.metadataBytes`. */
export function mergedMetadata(
  existing: Record<string, unknown>,
  incoming: Record<string, unknown>,
): Record<string, unknown> {
  const added = Object.entries(incoming).filter(([key]) => !Object.hasOwn(existing, key));
  if (added.length === 0) return existing;
  const merged = { ...existing, ...Object.fromEntries(added) };
  return Buffer.byteLength(JSON.stringify(merged)) <= Limits.metadataBytes ? merged : existing;
}
