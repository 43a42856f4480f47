// Import: exported lines written exactly (ids, times, occurrences, tier kept), idempotent by id.
import { createHash } from 'node:crypto';
import {
  CALLER_MODEL,
  defaultTier,
  type ExportedMemory,
  type ImportReply,
  type ImportRequest,
  type ImportResult,
  inferScope,
  Limits,
  MembusError,
  type MemoryEvent,
  type MemoryRecord,
  unpackVector,
} from '@membus/contracts';
import type { IndexedMemory } from '@membus/vector-index';
import type { StoredHistoryEntry } from '../../ports/document-store.ts';
import { dedupKey } from '../dedup-key.ts';
import { iso, type MemoryContext, ms, ownerIdsOf } from './context.ts';

/** Metadata of this many JSON bytes at most goes to the embedder's redaction in one request. */
const REDACTION_BATCH_BYTES = Limits.metadataBytes - 1_024;
/** Redaction requests in flight at once per import request. */
const REDACTION_CONCURRENCY = 4;

/** A line to write: its record (before redaction and embedding) and how its vector is had. */
interface Pending {
  position: number;
  line: ExportedMemory;
  previous: MemoryRecord | undefined;
  record: MemoryRecord;
  vector: Float32Array | undefined;
  /** The vector is the line's own (not embedded here). */
  kept: boolean;
}

/**
 * Writes exported lines exactly. A line whose id is there with the same text is `present`
 * (nothing changes: importing a line twice is one memory); with another text it is a CONFLICT,
 * unless `onConflict: overwrite`. Every text is redacted and embedded by the embedder, as a
 * store's; a line's own vector is kept when its model is the one the index holds (or a
 * caller's), the line names its content hash and redaction left the text as it was. Metadata
 * always goes through the embedder's redaction. History is written before the index, every entry under a store id of its own, so
 * an import cut short between the two and repeated writes no entry twice.
 */
export async function importMemories(
  context: MemoryContext,
  tenant: string,
  request: ImportRequest,
): Promise<ImportReply> {
  const now = context.clock();
  const lines = request.memories;
  const results: ImportResult[] = new Array(lines.length);
  const existing = new Map(
    (
      await context.index.get(
        tenant,
        lines.map((line) => line.memory.id),
      )
    ).map((record) => [record.id, record]),
  );
  // Ids absent here that were here once (deleted, expired, merged away): one history read.
  const gone =
    request.onConflict === 'overwrite'
      ? new Map<string, GoneReason>()
      : await goneReasons(
          context,
          tenant,
          lines.map((line) => line.memory.id).filter((id) => !existing.has(id)),
        );
  const currentModel = await context.index.newestEmbeddingModel?.();
  const pending: Pending[] = [];
  const seen = new Map<string, string>();
  for (const [position, line] of lines.entries()) {
    const { memory } = line;
    const earlier = seen.get(memory.id);
    if (earlier !== undefined) {
      results[position] =
        earlier === memory.text
          ? { id: memory.id, status: 'present' }
          : conflict(memory.id, 'the same id appears twice in one import with different texts');
      continue;
    }
    seen.set(memory.id, memory.text);
    if (memory.expiresAt !== undefined && ms(memory.expiresAt) <= now) {
      results[position] = failed(
        memory.id,
        new MembusError('INVALID_MESSAGE', `memory ${memory.id} expired at ${memory.expiresAt}`, {
          details: { id: memory.id, field: 'expiresAt' },
        }),
      );
      continue;
    }
    const previous = existing.get(memory.id);
    const record = recordOf(tenant, line, now, previous);
    if (previous !== undefined) {
      const sameText = await holdsText(context, tenant, previous, memory.text);
      if (request.onConflict !== 'overwrite') {
        results[position] = sameText
          ? { id: memory.id, status: 'present' }
          : conflict(
              memory.id,
              `memory ${memory.id} already holds another text; the stored one is kept (import with onConflict "overwrite" to replace it)`,
            );
        continue;
      }
      if (sameText && sameRecord(previous, record)) {
        results[position] = { id: memory.id, status: 'present' };
        continue;
      }
      // A line without its own times overwrites now.
      if (memory.updatedAt === undefined) record.updatedAt = iso(now);
    } else if (request.onConflict !== 'overwrite') {
      // A memory this stack deleted, expired or merged away is not brought back by importing
      // its old line again (a re-sync on a timer would resurrect every deletion).
      const reason = gone.get(memory.id);
      if (reason !== undefined) {
        results[position] = conflict(
          memory.id,
          `memory ${memory.id} was ${reason} here; an import does not bring it back (import with onConflict "overwrite" to restore it)`,
        );
        continue;
      }
    }
    const vector = keptVector(context, line, currentModel);
    pending.push({ position, line, previous, record, vector, kept: vector !== undefined });
  }
  if (pending.length === 0) return { v: 1, results };

  await Promise.all([embedTexts(context, pending), redactMetadata(context, pending)]);

  const history: StoredHistoryEntry[] = [];
  const writes: IndexedMemory[] = [];
  const events: { event: MemoryEvent; dedupId: string }[] = [];
  for (const item of pending) {
    const { record, previous, line } = item;
    writes.push({ record, dedupKey: dedupKey(record), vector: item.vector as Float32Array });
    if (previous === undefined) {
      history.push(...importHistory(record, line, now));
      events.push({
        event: { v: 1, change: 'created', id: record.id, memory: record, at: iso(now) },
        dedupId: `import:${record.id}`,
      });
      results[item.position] = {
        id: record.id,
        status: 'imported',
        ...(line.vector !== undefined ? { vectorKept: item.kept } : {}),
      };
    } else {
      history.push({
        memoryId: record.id,
        event: 'UPDATE',
        at: iso(now),
        ...(previous.text !== record.text
          ? { previousText: previous.text, text: record.text }
          : {}),
        details: { reason: 'import with onConflict "overwrite"', fields: ['*'] },
      });
      events.push({
        event: { v: 1, change: 'updated', id: record.id, memory: record, at: iso(now) },
        dedupId: `import:${record.id}:${now}`,
      });
      results[item.position] = { id: record.id, status: 'overwritten' };
    }
  }
  // History first: its entries are idempotent by store id, so an import cut short here and
  // repeated writes each once; the index write makes the memory visible.
  await context.documents.appendHistory(tenant, history);
  await context.index.upsert(writes);
  await context.events.publish(tenant, events);
  return { v: 1, results };
}

/**
 * The record a line describes, for this tenant (text and metadata before redaction). Times the
 * line leaves out are the memory's own when it is there already (an overwrite), else now.
 */
function recordOf(
  tenant: string,
  line: ExportedMemory,
  now: number,
  previous: MemoryRecord | undefined,
): MemoryRecord {
  const { memory } = line;
  const createdAt = memory.createdAt ?? previous?.createdAt ?? iso(now);
  return {
    id: memory.id,
    tenant,
    scope: memory.scope ?? inferScope(memory),
    ...ownerIdsOf(memory),
    kind: memory.kind,
    text: memory.text,
    metadata: memory.metadata,
    categories: memory.categories,
    tags: memory.tags,
    importance: memory.importance,
    tier: memory.tier ?? defaultTier(memory.kind),
    createdAt,
    updatedAt: memory.updatedAt ?? previous?.updatedAt ?? createdAt,
    ...(memory.expiresAt !== undefined ? { expiresAt: memory.expiresAt } : {}),
    accessCount: memory.accessCount,
    ...(memory.lastAccessedAt !== undefined ? { lastAccessedAt: memory.lastAccessedAt } : {}),
    contentHash: memory.contentHash ?? '',
    embeddingModel: line.vector?.model ?? memory.embeddingModel ?? '',
    occurrences: memory.occurrences,
  };
}

/**
 * The line's own vector, when it can be kept: the model the index holds now (or a caller's own
 * vector), the index's dimension, a content hash named. Otherwise undefined: embed the text.
 */
function keptVector(
  context: MemoryContext,
  line: ExportedMemory,
  currentModel: string | undefined,
): Float32Array | undefined {
  const { vector, memory } = line;
  if (vector === undefined || memory.contentHash === undefined) return undefined;
  if (vector.model !== CALLER_MODEL && vector.model !== currentModel) return undefined;
  if (vector.dimension !== context.index.dimension) return undefined;
  const values = unpackVector(vector.data);
  return values !== undefined && values.length === vector.dimension ? values : undefined;
}

/**
 * Redacts and embeds every line's text, as a store would. A line's own vector is kept only when
 * redaction left its text as it was (an export of this system); a text that held a secret is
 * stored redacted, with the vector of what is stored.
 */
async function embedTexts(context: MemoryContext, pending: Pending[]): Promise<void> {
  for (const chunk of embedChunks(pending, context.index.dimension)) {
    const documents = await context.embed.documents(chunk.map((item) => item.record.text));
    for (const [offset, item] of chunk.entries()) {
      const document = documents[offset];
      if (!document) throw new MembusError('EMBEDDING_FAILED', 'embedder returned no vector');
      if (document.vector.length !== context.index.dimension)
        throw new MembusError(
          'DIMENSION_MISMATCH',
          `the embedder's vectors have ${document.vector.length} dimensions; this index holds ${context.index.dimension}`,
          { details: { expected: context.index.dimension, actual: document.vector.length } },
        );
      if (!item.kept || document.text !== item.record.text) {
        item.vector = document.vector;
        item.kept = false;
      }
      item.record.text = document.text;
      item.record.contentHash = document.contentHash;
      if (!item.kept) item.record.embeddingModel = document.model;
    }
  }
}

/**
 * The lines to embed in requests whose replies stay within `Limits.replyBytes`: each text comes
 * back with its vector (base64, 4 bytes a dimension), its stored form and its hash.
 */
function* embedChunks(items: Pending[], dimension: number): Generator<Pending[]> {
  const perVector = Math.ceil((dimension * 4) / 3) * 4 + 160;
  let chunk: Pending[] = [];
  let bytes = 0;
  for (const item of items) {
    // The stored form may be longer than the text (masks): counted twice over.
    const size = perVector + 2 * Buffer.byteLength(item.record.text);
    if (
      chunk.length > 0 &&
      (chunk.length >= Limits.embedBatch || bytes + size > Limits.replyBytes)
    ) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(item);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}

/**
 * Masks secrets in the lines' metadata with the store path's policy (the embedder's redaction),
 * many lines a request: each line's metadata under a key of its own, within the metadata limit.
 */
async function redactMetadata(context: MemoryContext, pending: Pending[]): Promise<void> {
  const groups: Pending[][] = [];
  let group: Pending[] = [];
  let bytes = 2;
  for (const item of pending) {
    if (Object.keys(item.record.metadata).length === 0) continue;
    const size = Buffer.byteLength(JSON.stringify(item.record.metadata)) + 16;
    // Packing adds a level: metadata nested to the limit goes in a request of its own.
    if (depth(item.record.metadata) >= Limits.metadataDepth) {
      groups.push([item]);
      continue;
    }
    if (group.length > 0 && bytes + size > REDACTION_BATCH_BYTES) {
      groups.push(group);
      group = [];
      bytes = 2;
    }
    group.push(item);
    bytes += size;
  }
  if (group.length > 0) groups.push(group);
  if (groups.length === 0) return;
  const prepare = context.embed.prepareChange?.bind(context.embed);
  if (!prepare)
    throw new MembusError('INTERNAL', 'this embed port cannot redact metadata', {
      details: { reason: 'EmbedPort.prepareChange missing' },
    });
  let next = 0;
  const worker = async () => {
    while (next < groups.length) {
      const members = groups[next++] as Pending[];
      const packed =
        members.length === 1
          ? (members[0] as Pending).record.metadata
          : Object.fromEntries(members.map((item, index) => [`m${index}`, item.record.metadata]));
      const prepared = await prepare({ metadata: packed });
      const masked = prepared.metadata;
      if (masked === undefined)
        throw new MembusError('EMBEDDING_FAILED', 'embedder returned no redacted metadata');
      members.forEach((item, index) => {
        item.record.metadata =
          members.length === 1 ? masked : (masked[`m${index}`] as Record<string, unknown>);
      });
    }
  };
  await Promise.all(Array.from({ length: REDACTION_CONCURRENCY }, worker));
}

/**
 * Whether `record` holds `text`: the same text, or the text an earlier import of this id was
 * given before the embedder masked its secrets (kept as a hash in its receipt).
 */
async function holdsText(
  context: MemoryContext,
  tenant: string,
  record: MemoryRecord,
  text: string,
): Promise<boolean> {
  if (record.text === text) return true;
  const hash = textHash(text);
  const entries = await context.documents.history(tenant, record.id);
  return entries.some(
    (entry) => entry.storeId === record.id && entry.details?.importedTextHash === hash,
  );
}

/**
 * Two records of one id equal in every field a line describes (access statistics are not
 * content: reads move them).
 */
function sameRecord(a: MemoryRecord, b: MemoryRecord): boolean {
  const comparable = ({
    contentHash: _c,
    embeddingModel: _e,
    text: _t,
    accessCount: _a,
    lastAccessedAt: _l,
    ...rest
  }: MemoryRecord) => rest;
  return canonical(comparable(a)) === canonical(comparable(b));
}

/** JSON with object keys sorted, so that key order does not make two values differ. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(
          Object.entries(item as Record<string, unknown>).sort(([a], [b]) =>
            a < b ? -1 : a > b ? 1 : 0,
          ),
        )
      : item,
  );
}

/**
 * The history an imported memory starts with: the line's own entries (each under a store id
 * of its own, the first ADD under the memory id: the store path's receipt), or one ADD entry
 * marked `imported`. When redaction changed the text, the receipt keeps a hash of the text as
 * given, so the same line imported again is recognised.
 */
function importHistory(
  record: MemoryRecord,
  line: ExportedMemory,
  now: number,
): StoredHistoryEntry[] {
  const redacted = record.text !== line.memory.text;
  const receiptDetails = redacted ? { importedTextHash: textHash(line.memory.text) } : {};
  const entries: StoredHistoryEntry[] = (line.history ?? []).map((entry, index) => ({
    memoryId: record.id,
    ...entry,
    storeId: `import:${record.id}:${index}`,
  }));
  const receipt = entries.find((entry) => entry.event === 'ADD');
  if (receipt !== undefined) {
    receipt.storeId = record.id;
    if (redacted) receipt.details = { ...receipt.details, ...receiptDetails };
    return entries;
  }
  entries.push({
    memoryId: record.id,
    event: 'ADD',
    at: iso(now),
    text: record.text,
    storeId: record.id,
    details: { contentHash: record.contentHash, imported: true, ...receiptDetails },
  });
  return entries;
}

/** How deep a JSON value nests (a scalar 0, an object of scalars 1). */
function depth(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  let deepest = 0;
  for (const item of Object.values(value)) deepest = Math.max(deepest, depth(item));
  return 1 + deepest;
}

function textHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

type GoneReason = 'deleted' | 'expired' | 'merged';

/** Why each of these ids (absent from the index) is gone, where its history says it was here once. */
async function goneReasons(
  context: MemoryContext,
  tenant: string,
  ids: readonly string[],
): Promise<Map<string, GoneReason>> {
  const reasons = new Map<string, GoneReason>();
  if (ids.length === 0) return reasons;
  for (const [id, entries] of await context.documents.histories(tenant, ids)) {
    // History is written before the index: an ADD or UPDATE last is an import cut short, not a
    // memory that went away.
    const last = entries.at(-1)?.event;
    if (last === 'DELETE') reasons.set(id, 'deleted');
    else if (last === 'EXPIRE') reasons.set(id, 'expired');
    else if (last === 'MERGE') reasons.set(id, 'merged');
  }
  return reasons;
}

function conflict(id: string, message: string): ImportResult {
  return {
    id,
    status: 'conflict',
    error: new MembusError('CONFLICT', message, { details: { id } }).toJSON(),
  };
}

function failed(id: string, error: MembusError): ImportResult {
  return { id, status: 'failed', error: error.toJSON() };
}
