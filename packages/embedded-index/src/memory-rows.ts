import type { MemoryRecord } from '@membus/contracts';
import { toFilterPayload } from '@membus/vector-index';
import type { SlotPayload } from './payload-index.ts';
import type { PayloadRow, RowToWrite } from './sqlite-store.ts';

// A memory as the slot table holds it (payload) and as SQLite stores it (row), both ways.

/**
 * One copy of each short label string the payloads hold (tenant, scope, kind, tier, owner ids,
 * categories, tags): rows read from SQLite, and records parsed from messages, carry a fresh copy
 * per memory (~25 bytes each, ~150 per memory). Bounded like a cache.
 */
const labels = new Map<string, string>();
const LABEL_CACHE_LIMIT = 65_536;

function label<T extends string | undefined>(value: T): T {
  if (value === undefined) return value;
  const known = labels.get(value);
  if (known !== undefined) return known as T;
  if (labels.size >= LABEL_CACHE_LIMIT) labels.clear();
  labels.set(value, value);
  return value;
}

/**
 * One shared, frozen array per distinct list of categories or tags: most memories carry one of a
 * few lists (or none), and an array per memory costs 32–60 bytes. Bounded like `labels`.
 */
const labelLists = new Map<string, readonly string[]>();
const NO_LABELS: readonly string[] = Object.freeze([]);

function labelsOf(values: readonly string[]): readonly string[] {
  if (values.length === 0) return NO_LABELS;
  const key = values.join(SEPARATOR);
  const known = labelLists.get(key);
  if (known !== undefined) return known;
  if (labelLists.size >= LABEL_CACHE_LIMIT) labelLists.clear();
  const list = Object.freeze(values.map((value) => label(value)));
  labelLists.set(key, list);
  return list;
}

const SEPARATOR = '\u0000';
/** Shared by the memories without metadata (most of them, in many stores). */
const NO_METADATA: Readonly<Record<string, unknown>> = Object.freeze({});

function metadataOf(
  metadata: Readonly<Record<string, unknown>>,
): Readonly<Record<string, unknown>> {
  for (const _ in metadata) return metadata;
  return NO_METADATA;
}

export function payloadFromRecord(
  record: MemoryRecord,
  dedupKey: string,
  seq: number,
): SlotPayload {
  const payload = toFilterPayload(record, dedupKey);
  // The fields in the order `payloadFromRow` writes them: one object shape for both (a spread
  // would give these objects another, with their fields out of the object).
  return {
    tenant: label(record.tenant),
    seq,
    importance: record.importance,
    id: payload.id,
    scope: label(payload.scope),
    userId: label(payload.userId),
    agentId: label(payload.agentId),
    sessionId: label(payload.sessionId),
    namespace: label(payload.namespace),
    kind: label(payload.kind),
    tier: label(payload.tier),
    categories: labelsOf(payload.categories),
    tags: labelsOf(payload.tags),
    createdAt: payload.createdAt,
    updatedAt: payload.updatedAt,
    expiresAt: payload.expiresAt,
    dedupKey: payload.dedupKey,
    metadata: metadataOf(payload.metadata),
  };
}

export function rowFromRecord(
  record: MemoryRecord,
  payload: SlotPayload,
  slot: number,
  vector: Float32Array,
): Omit<RowToWrite, 'text' | 'keys'> {
  return {
    tenant: payload.tenant,
    id: payload.id,
    slot,
    seq: payload.seq,
    scope: payload.scope,
    user_id: payload.userId ?? null,
    agent_id: payload.agentId ?? null,
    session_id: payload.sessionId ?? null,
    namespace: payload.namespace ?? null,
    kind: payload.kind,
    tier: payload.tier,
    created_at: payload.createdAt,
    updated_at: payload.updatedAt,
    expires_at: payload.expiresAt ?? null,
    dedup_key: payload.dedupKey ?? null,
    importance: record.importance,
    access_count: record.accessCount,
    last_accessed_at:
      record.lastAccessedAt === undefined ? null : Date.parse(record.lastAccessedAt),
    labels: JSON.stringify({
      categories: payload.categories,
      tags: payload.tags,
      metadata: payload.metadata,
    }),
    record: JSON.stringify(record),
    vector: Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength),
  };
}

export function payloadFromRow(row: PayloadRow): SlotPayload {
  // Our own column, written by `rowFromRecord`.
  const stored = JSON.parse(row.labels) as {
    categories: string[];
    tags: string[];
    metadata: Record<string, unknown>;
  };
  return {
    tenant: label(row.tenant),
    seq: row.seq,
    importance: row.importance,
    id: row.id,
    scope: label(row.scope),
    userId: label(row.user_id ?? undefined),
    agentId: label(row.agent_id ?? undefined),
    sessionId: label(row.session_id ?? undefined),
    namespace: label(row.namespace ?? undefined),
    kind: label(row.kind),
    tier: label(row.tier),
    categories: labelsOf(stored.categories),
    tags: labelsOf(stored.tags),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    expiresAt: row.expires_at ?? undefined,
    dedupKey: row.dedup_key ?? undefined,
    metadata: metadataOf(stored.metadata),
  };
}
