import { hash as digest } from 'node:crypto';
import { MembusError, type MemoryRecord } from '@membus/contracts';
import type { IndexedMemory } from '@membus/vector-index';
import type { Schemas } from '@qdrant/js-client-rest';
import {
  metadataPathIndex,
  PayloadKeys,
  type QdrantCondition,
  type QdrantFilter,
} from './qdrant-filter.ts';
import { SPARSE_VECTOR_NAME, type SparseTextVector } from './sparse-text-vector.ts';

// How a memory becomes a Qdrant point and back.

/**
 * The Qdrant point id of a memory: a UUID (v5 layout) of SHA-1(tenant, memory id). The
 * memory id alone would let two tenants' memories with one id overwrite each other; the
 * memory id itself is kept in the `id` payload field.
 */
export function qdrantPointId(tenant: string, id: string): string {
  const hash = digest('sha1', `membus\n${tenant}\n${id}`, 'buffer');
  hash[6] = ((hash[6] as number) & 0x0f) | 0x50;
  hash[8] = ((hash[8] as number) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The payload of one point: filter fields on top, the record as is under `record`. */
export function toQdrantPayload(item: IndexedMemory): Record<string, unknown> {
  const { metadata, ...rest } = item.record;
  const { paths, arrays } = metadataPathIndex(metadata);
  const record = item.record;
  return {
    [PayloadKeys.tenant]: record.tenant,
    [PayloadKeys.id]: record.id,
    [PayloadKeys.scope]: record.scope,
    ...(record.userId !== undefined ? { [PayloadKeys.userId]: record.userId } : {}),
    ...(record.agentId !== undefined ? { [PayloadKeys.agentId]: record.agentId } : {}),
    ...(record.sessionId !== undefined ? { [PayloadKeys.sessionId]: record.sessionId } : {}),
    ...(record.namespace !== undefined ? { [PayloadKeys.namespace]: record.namespace } : {}),
    [PayloadKeys.kind]: record.kind,
    [PayloadKeys.tier]: record.tier,
    [PayloadKeys.categories]: record.categories,
    [PayloadKeys.tags]: record.tags,
    [PayloadKeys.dedupKey]: item.dedupKey,
    [PayloadKeys.createdAt]: Date.parse(record.createdAt),
    [PayloadKeys.updatedAt]: Date.parse(record.updatedAt),
    ...(record.expiresAt !== undefined
      ? { [PayloadKeys.expiresAt]: Date.parse(record.expiresAt) }
      : {}),
    [PayloadKeys.metadata]: metadata,
    [PayloadKeys.metadataPaths]: paths,
    [PayloadKeys.metadataArrays]: arrays,
    [PayloadKeys.record]: rest,
  };
}

export interface Decoded {
  pointId: string;
  record: MemoryRecord;
  dedupKey: string;
  createdAt: number;
}

/** Payload keys read back: enough to rebuild the record and re-check a filter. */
export const READ_KEYS = [
  PayloadKeys.record,
  PayloadKeys.metadata,
  PayloadKeys.dedupKey,
  PayloadKeys.createdAt,
];

export function decode(point: { id: string | number; payload?: unknown }): Decoded {
  const payload = (point.payload ?? {}) as Record<string, unknown>;
  const rest = payload[PayloadKeys.record] as Omit<MemoryRecord, 'metadata'>;
  const record = {
    ...rest,
    metadata: (payload[PayloadKeys.metadata] ?? {}) as MemoryRecord['metadata'],
  } as MemoryRecord;
  return {
    pointId: String(point.id),
    record,
    dedupKey: String(payload[PayloadKeys.dedupKey] ?? ''),
    createdAt: Number(payload[PayloadKeys.createdAt] ?? Date.parse(record.createdAt)),
  };
}

/** Newest first: createdAt desc, then id desc (the cursor order of every index). */
export function newestFirst(a: Decoded, b: Decoded): number {
  if (a.createdAt !== b.createdAt) return b.createdAt - a.createdAt;
  return a.record.id < b.record.id ? 1 : a.record.id > b.record.id ? -1 : 0;
}

export function withCondition(filter: QdrantFilter, condition: QdrantCondition): QdrantFilter {
  return { ...filter, must: [...(filter.must ?? []), condition] };
}

/** The collection's unnamed dense vector, as named in a point's vector map. */
const DENSE_VECTOR_NAME = '';

/** A point's vectors: the dense one alone, or with the keyword vector beside it. */
export function pointVector(
  dense: number[],
  text: SparseTextVector | undefined,
): Schemas['PointStruct']['vector'] {
  if (text === undefined) return dense;
  return { [DENSE_VECTOR_NAME]: dense, [SPARSE_VECTOR_NAME]: text };
}

export function dimensionMismatch(
  expected: number,
  actual: number,
  operation: string,
): MembusError {
  return new MembusError(
    'DIMENSION_MISMATCH',
    `${operation}: vector has ${actual} dimensions; this index holds ${expected}`,
    { details: { expected, actual } },
  );
}
