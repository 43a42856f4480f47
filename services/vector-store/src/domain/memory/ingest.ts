// Ingest: idempotent by store id, exact duplicates and near duplicates merged at write.
// Just over 400 lines on purpose: the write turn, its per-tenant batch and the merge decisions
// share one batch state; the merges themselves are in record-merge.ts.
import {
  defaultTier,
  type EmbeddedMemory,
  inferScope,
  MembusError,
  type MemoryRecord,
  unpackVector,
} from '@membus/contracts';
import type { IndexedMemory } from '@membus/vector-index';
import type { StoredHistoryEntry } from '../../ports/document-store.ts';
import type { OutgoingEvent } from '../../ports/memory-ports.ts';
import { dedupKey } from '../dedup-key.ts';
import { isLive, iso, type MemoryContext } from './context.ts';
import { mergeDuplicate, mergeSimilar } from './record-merge.ts';

export interface IngestItem {
  tenant: string;
  embedded: EmbeddedMemory;
}

export type IngestResult =
  | { ok: true; status: 'stored' | 'duplicate' | 'merged'; memoryId: string; replayed: boolean }
  | { ok: false; error: MembusError };

const MERGEABLE_KINDS: ReadonlySet<string> = new Set(['fact', 'preference', 'episode']);

/**
 * Writes a batch of embedded memories. Idempotent by store id: a redelivered store changes
 * nothing. Exact duplicates (same scope, owners, namespace and content) bump `occurrences`
 * of the memory that has them instead of adding a second one. `onWritten` hears the results
 * once the batch is written (its memories queryable), before its events are acked; the
 * returned promise waits for those acks too.
 */
export async function ingest(
  context: MemoryContext,
  items: readonly IngestItem[],
  onWritten?: (results: readonly IngestResult[]) => void,
): Promise<IngestResult[]> {
  const results: IngestResult[] = new Array(items.length);
  const byTenant = new Map<string, number[]>();
  items.forEach((item, index) => {
    byTenant.set(item.tenant, [...(byTenant.get(item.tenant) ?? []), index]);
  });
  // The writes take turns; the events are published (in the order written) as a turn ends and
  // waited for after it, so the next batch writes while these events' acks travel.
  const publishing: Promise<void>[] = [];
  let failure: { error: unknown } | undefined;
  try {
    await inWriteTurn(context, async () => {
      for (const [tenant, indexes] of byTenant) {
        const events = await ingestTenant(
          context,
          tenant,
          indexes.map((index) => items[index] as IngestItem),
          indexes,
          results,
        );
        if (events.length > 0) publishing.push(context.events.publish(tenant, events));
      }
    });
  } catch (error) {
    failure = { error };
  }
  // Queryable now: a waiting client need not wait for the events' acks (the stream message is
  // acked only after them, so a failed publish is still redelivered and answered as a replay).
  if (failure === undefined) onWritten?.(results);
  const published = await Promise.allSettled(publishing);
  if (failure !== undefined) throw failure.error;
  for (const outcome of published) if (outcome.status === 'rejected') throw outcome.reason;
  return results;
}

/** Per context, the end of the last write turn handed out. */
const writeTurns = new WeakMap<MemoryContext, Promise<void>>();

/**
 * Runs `work` after every write turn handed out before it (one at a time, in call order): two
 * batches in flight never interleave their reads and writes, as when they ran one by one.
 */
async function inWriteTurn(context: MemoryContext, work: () => Promise<void>): Promise<void> {
  const previous = writeTurns.get(context);
  let release = () => {};
  const turn = new Promise<void>((resolve) => {
    release = resolve;
  });
  writeTurns.set(context, turn);
  try {
    await previous;
    await work();
  } finally {
    release();
    if (writeTurns.get(context) === turn) writeTurns.delete(context);
  }
}

/** Writes one tenant's part of a batch; returns the events to publish for it. */
async function ingestTenant(
  context: MemoryContext,
  tenant: string,
  items: readonly IngestItem[],
  positions: readonly number[],
  results: IngestResult[],
): Promise<OutgoingEvent[]> {
  const now = context.clock();
  const storeIds = items.map((item) => item.embedded.memory.id);
  const [receipts, existing] = await Promise.all([
    context.documents.storeReceipts(tenant, storeIds),
    context.index.get(tenant, storeIds),
  ]);
  const existingById = new Map(existing.map((record) => [record.id, record]));
  // The memories earlier stores of these ids went into (duplicates and merges: another id).
  const holderIds = [...new Set(receipts.values())].filter((id) => !existingById.has(id));
  if (holderIds.length > 0)
    for (const record of await context.index.get(tenant, holderIds))
      existingById.set(record.id, record);
  // The batch's exact-duplicate checks in one call where the index offers it (a remote one).
  const duplicateKeys = items.flatMap(({ embedded }) => {
    const store = embedded.memory;
    if (receipts.has(store.id) || existingById.has(store.id)) return [];
    if (store.kind === 'outcome' || store.mergeSimilar === false) return [];
    const scope = store.scope ?? inferScope(store);
    return [dedupKey({ scope, ...ownerFields(store), contentHash: embedded.contentHash })];
  });
  const stored =
    duplicateKeys.length > 0
      ? await context.index.newestByDedupKey?.(tenant, duplicateKeys, now)
      : undefined;
  const writes = new Map<string, IndexedMemory>();
  const history: StoredHistoryEntry[] = [];
  const events: OutgoingEvent[] = [];
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
      results[position] = await replay(context, tenant, embedded, receipt, existingById, now);
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
    if (vector.length !== context.index.dimension) {
      results[position] = {
        ok: false,
        error: new MembusError(
          'DIMENSION_MISMATCH',
          `vector has ${vector.length} dimensions; this index holds ${context.index.dimension}`,
          { details: { expected: context.index.dimension, actual: vector.length } },
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
      ...ownerFields(store),
      kind: store.kind,
      text: store.text,
      ...(store.context !== undefined ? { context: store.context } : {}),
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
          (stored !== undefined
            ? stored.get(key)
            : (await context.index.scroll({ tenant, filter: { dedupKey: key }, limit: 1, now }))
                .records[0]));
    const similar = duplicateOf
      ? undefined
      : await nearDuplicate(context, tenant, fresh, vector, store.mergeSimilar, now);
    // Every store lands one way: in the batch's writes, history, events and results.
    const land = (
      record: MemoryRecord,
      recordKey: string,
      status: 'stored' | 'merged' | 'duplicate',
      entry: Omit<StoredHistoryEntry, 'memoryId' | 'at' | 'storeId'>,
    ): void => {
      byKey.set(recordKey, record);
      writes.set(record.id, { record, vector, dedupKey: recordKey });
      history.push({ memoryId: record.id, at: iso(now), storeId: store.id, ...entry });
      const change = status === 'stored' ? 'created' : status;
      events.push({
        event: { v: 1, change, id: record.id, memory: record, at: iso(now) },
        dedupId: store.id,
      });
      results[position] = { ok: true, status, memoryId: record.id, replayed: false };
      inBatch.set(store.id, { result: results[position], contentHash: fresh.contentHash });
    };
    if (similar) {
      const merged = mergeSimilar(similar.record, fresh, now);
      land(merged, dedupKey(merged), 'merged', {
        event: 'MERGE',
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
    } else if (duplicateOf) {
      const merged = mergeDuplicate(duplicateOf, fresh, now);
      land(merged, key, 'duplicate', {
        event: 'DUPLICATE',
        details: {
          storeId: store.id,
          contentHash: fresh.contentHash,
          occurrences: merged.occurrences,
          ...metadataNotKept(fresh.metadata, merged.metadata),
        },
      });
    } else {
      land(fresh, key, 'stored', {
        event: 'ADD',
        text: fresh.text,
        details: { contentHash: fresh.contentHash },
      });
    }
  }
  if (writes.size === 0 && history.length === 0) return [];
  // Index first, then history: a crash in between is redelivered and found in the index.
  if (writes.size > 0) await context.index.upsert([...writes.values()]);
  await context.documents.appendHistory(tenant, history);
  return events;
}

/**
 * A store whose id already took effect (a redelivery or a client's retry): answered as the
 * first time while the memory that holds it is there and the content is the same. Otherwise
 * a typed failure, never `stored` for a memory that is not there: CONFLICT when the id holds
 * a different text (the first is kept) or its memory was deleted or expired (a deleted
 * memory is not brought back by a late retry); `merged` when it was merged into another.
 */
async function replay(
  context: MemoryContext,
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
  const entries = await context.documents.history(tenant, memoryId);
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
    const [into] = await context.index.get(tenant, [mergedInto]);
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
async function nearDuplicate(
  context: MemoryContext,
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
      ? context.nearDuplicates.byNamespace?.[fresh.namespace]
      : undefined) ?? context.nearDuplicates.default;
  if (!(threshold > 0 && threshold <= 1)) return undefined;
  const { hits } = await context.index.search({
    tenant,
    vector,
    limit: 1,
    now,
    filter: {
      scopes: [fresh.scope],
      kinds: [fresh.kind],
      ...ownerFields(fresh),
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

type OwnerFields = Pick<MemoryRecord, 'userId' | 'agentId' | 'sessionId' | 'namespace'>;

/** The owners and namespace a memory names (the unset ones left out, not `undefined`). */
function ownerFields(source: OwnerFields): OwnerFields {
  const { userId, agentId, sessionId, namespace } = source;
  return {
    ...(userId !== undefined ? { userId } : {}),
    ...(agentId !== undefined ? { agentId } : {}),
    ...(sessionId !== undefined ? { sessionId } : {}),
    ...(namespace !== undefined ? { namespace } : {}),
  };
}
