import type { MemoryRecord } from '@membus/contracts';
import { toFilterPayload } from '@membus/vector-index';
import type { SlotPayload } from './payload-index.ts';
import type { RowToWrite, StoredRow } from './sqlite-store.ts';

// A memory as the slot table holds it (payload) and as SQLite stores it (row), both ways.

export function payloadFromRecord(
  record: MemoryRecord,
  dedupKey: string,
  seq: number,
): SlotPayload {
  return {
    ...toFilterPayload(record, dedupKey),
    tenant: record.tenant,
    seq,
    importance: record.importance,
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

export function payloadFromRow(row: StoredRow): SlotPayload {
  // Our own column, written by `rowFromRecord`.
  const labels = JSON.parse(row.labels) as {
    categories: string[];
    tags: string[];
    metadata: Record<string, unknown>;
  };
  return {
    tenant: row.tenant,
    seq: row.seq,
    importance: row.importance,
    id: row.id,
    scope: row.scope,
    userId: row.user_id ?? undefined,
    agentId: row.agent_id ?? undefined,
    sessionId: row.session_id ?? undefined,
    namespace: row.namespace ?? undefined,
    kind: row.kind,
    tier: row.tier,
    categories: labels.categories,
    tags: labels.tags,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    expiresAt: row.expires_at ?? undefined,
    dedupKey: row.dedup_key ?? undefined,
    metadata: labels.metadata,
  };
}
