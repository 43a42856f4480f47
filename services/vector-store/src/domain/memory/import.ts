// Import: exported lines written exactly (ids, times, occurrences, tier kept), idempotent by id.
import { hash } from 'node:crypto';
import {
  CALLER_MODEL,
  defaultTier,
  type ExportedMemory,
  type ImportReply,
  type ImportRequest,
  type ImportResult,
  inferScope,
  MembusError,
  type MemoryRecord,
  unpackVector,
} from '@membus/contracts';
import type { IndexedMemory } from '@membus/vector-index';
import type { StoredHistoryEntry } from '../../ports/document-store.ts';
import type { OutgoingEvent } from '../../ports/memory-ports.ts';
import { dedupKey } from '../dedup-key.ts';
import { iso, type MemoryContext, ms, ownerIdsOf } from './context.ts';
import { embedTexts, type Pending, redactMetadata } from './import-embedding.ts';

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
  const events: OutgoingEvent[] = [];
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

function textHash(text: string): string {
  return hash('sha256', text, 'hex');
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
