import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  DeleteRequestSchema,
  EmbeddedMemorySchema,
  EmbedReplySchema,
  EmbedRequestSchema,
  ErrorReplySchema,
  GetRequestSchema,
  HistoryRequestSchema,
  Limits,
  ListRequestSchema,
  MemoryEventSchema,
  MemoryFilterSchema,
  MemoryRecordSchema,
  Operations,
  packVector,
  QueryReplySchema,
  QueryRequestSchema,
  StatsRequestSchema,
  StoreMemorySchema,
  StoreNoticeSchema,
  subjectOf,
  tenantOf,
  UpdateRequestSchema,
  unpackVector,
} from '../src/index.ts';

const id = '01935c3e-8f5a-7c3b-9d2e-4f6a8b1c2d3e';
const now = '2026-11-21T10:00:00.000Z';
const record = {
  id,
  tenant: 'acme',
  scope: 'user',
  userId: 'alice',
  kind: 'fact',
  text: 'Alice deploys on Fridays',
  metadata: {},
  categories: [],
  tags: [],
  importance: 0.5,
  tier: 'short',
  createdAt: now,
  updatedAt: now,
  accessCount: 0,
  contentHash: 'a'.repeat(64),
  embeddingModel: 'local-hash-v1-384',
  occurrences: 1,
};

/** Each schema with one valid fixture and the bad inputs it must reject. */
const cases: {
  name: string;
  schema: z.ZodType;
  valid: unknown;
  invalid: Record<string, unknown>;
}[] = [
  {
    name: 'StoreMemory',
    schema: StoreMemorySchema,
    valid: { v: 1, id, text: 'hello', userId: 'alice' },
    invalid: {
      'wrong version': { v: 2, id, text: 'hello' },
      'missing id': { v: 1, text: 'hello' },
      'non-uuid id': { v: 1, id: 'abc', text: 'hello' },
      'empty text': { v: 1, id, text: '   ' },
      'oversize text': { v: 1, id, text: 'x'.repeat(Limits.textLength + 1) },
      'unknown field': { v: 1, id, text: 'hello', tenant: 'other' },
      'importance out of range': { v: 1, id, text: 'hello', importance: 1.5 },
      'bad kind': { v: 1, id, text: 'hello', kind: 'gossip' },
      'scope without owner': { v: 1, id, text: 'hello', scope: 'session' },
      'prototype key in metadata': {
        v: 1,
        id,
        text: 'hello',
        metadata: JSON.parse('{"__proto__":{"x":1}}'),
      },
      'oversize metadata': {
        v: 1,
        id,
        text: 'hello',
        metadata: { blob: 'x'.repeat(Limits.metadataBytes) },
      },
      'deep metadata': {
        v: 1,
        id,
        text: 'hello',
        metadata: JSON.parse(`${'{"a":'.repeat(12)}1${'}'.repeat(12)}`),
      },
      'too many tags': {
        v: 1,
        id,
        text: 'hello',
        tags: Array.from({ length: Limits.labelCount + 1 }, (_, i) => `t${i}`),
      },
      'control character in label': { v: 1, id, text: 'hello', userId: 'al\u0000ice' },
      'ttl and expiry together': { v: 1, id, text: 'hello', ttlSeconds: 60, expiresAt: now },
      'non-finite vector': { v: 1, id, text: 'hello', vector: [1, Number.NaN] },
      'bad timestamp': { v: 1, id, text: 'hello', createdAt: 'yesterday' },
    },
  },
  {
    name: 'QueryRequest',
    schema: QueryRequestSchema,
    valid: { v: 1, text: 'deploys', topK: 5, filter: { userId: 'alice', kinds: ['fact'] } },
    invalid: {
      'neither text nor vector': { v: 1 },
      'both text and vector': { v: 1, text: 'a', vector: [1] },
      'topK too large': { v: 1, text: 'a', topK: Limits.topK + 1 },
      'topK zero': { v: 1, text: 'a', topK: 0 },
      'unknown filter field': { v: 1, text: 'a', filter: { tenant: 'other' } },
      'bad metadata op': {
        v: 1,
        text: 'a',
        filter: { metadata: { field: 'x', op: 'regex', value: '.*' } },
      },
      'forbidden field path': {
        v: 1,
        text: 'a',
        filter: { metadata: { field: 'a.__proto__', op: 'eq', value: 1 } },
      },
      'weights out of range': { v: 1, text: 'a', weights: { relevance: 2 } },
    },
  },
  {
    name: 'MemoryFilter',
    schema: MemoryFilterSchema,
    valid: {
      categories: { any: ['incidents'] },
      tags: { all: ['prod', 'db'] },
      createdAt: { gte: now },
      metadata: {
        or: [
          { field: 'source', op: 'eq', value: 'daemon' },
          { not: { field: 'x', op: 'exists', value: true } },
        ],
      },
    },
    invalid: {
      'empty label match': { categories: {} },
      'empty time range': { createdAt: {} },
      'in without a list': { metadata: { field: 'a', op: 'in', value: 1 } },
      'too deep': {
        metadata: JSON.parse(
          '{"not":'.repeat(Limits.filterDepth + 1) +
            '{"field":"a","op":"eq","value":1}' +
            '}'.repeat(Limits.filterDepth + 1),
        ),
      },
      'too many conditions': {
        metadata: {
          and: Array.from({ length: Limits.filterConditions + 1 }, () => ({
            field: 'a',
            op: 'eq',
            value: 1,
          })),
        },
      },
      'and with extra keys': { metadata: { and: [{ field: 'a', op: 'eq', value: 1 }], or: [] } },
    },
  },
  {
    name: 'UpdateRequest',
    schema: UpdateRequestSchema,
    valid: { v: 1, id, text: 'new text', expiresAt: null },
    invalid: { 'nothing to update': { v: 1, id }, 'bad id': { v: 1, id: 'x', text: 'a' } },
  },
  {
    name: 'DeleteRequest',
    schema: DeleteRequestSchema,
    valid: { v: 1, filter: { sessionId: 's1' } },
    invalid: {
      'neither ids nor filter': { v: 1 },
      'both ids and filter': { v: 1, ids: [id], filter: { sessionId: 's1' } },
      'empty filter': { v: 1, filter: {} },
      'too many ids': { v: 1, ids: Array.from({ length: Limits.ids + 1 }, () => id) },
    },
  },
  {
    name: 'GetRequest',
    schema: GetRequestSchema,
    valid: { v: 1, ids: [id] },
    invalid: { 'no ids': { v: 1, ids: [] } },
  },
  {
    name: 'ListRequest',
    schema: ListRequestSchema,
    valid: { v: 1, limit: 10 },
    invalid: { 'limit too large': { v: 1, limit: Limits.pageSize + 1 } },
  },
  {
    name: 'HistoryRequest',
    schema: HistoryRequestSchema,
    valid: { v: 1, id },
    invalid: { 'missing id': { v: 1 } },
  },
  {
    name: 'StatsRequest',
    schema: StatsRequestSchema,
    valid: { v: 1 },
    invalid: { 'bad filter': { v: 1, filter: 3 } },
  },
  {
    name: 'EmbedRequest',
    schema: EmbedRequestSchema,
    valid: { v: 1, texts: ['a', 'b'] },
    invalid: {
      'no texts': { v: 1, texts: [] },
      'too many texts': { v: 1, texts: Array.from({ length: Limits.embedBatch + 1 }, () => 'a') },
      'metadata for a query': { v: 1, texts: ['a'], metadata: { a: 1 } },
      'metadata that is not an object': { v: 1, texts: [], purpose: 'document', metadata: [1] },
    },
  },
  {
    name: 'EmbedRequest with metadata only',
    schema: EmbedRequestSchema,
    valid: { v: 1, texts: [], purpose: 'document', metadata: { token: 'x' } },
    invalid: { 'no texts and no metadata': { v: 1, texts: [], purpose: 'document' } },
  },
  {
    name: 'EmbedReply with redacted metadata',
    schema: EmbedReplySchema,
    valid: { v: 1, model: 'm', dimension: 2, vectors: [], documents: [], metadata: { a: 'b' } },
    invalid: {
      'metadata not an object': { v: 1, model: 'm', dimension: 2, vectors: [], metadata: 1 },
    },
  },
  {
    name: 'EmbedReply',
    schema: EmbedReplySchema,
    valid: { v: 1, model: 'm', dimension: 2, vectors: [packVector([1, 0])] },
    invalid: { 'vector not base64': { v: 1, model: 'm', dimension: 2, vectors: ['abcde'] } },
  },
  {
    name: 'EmbeddedMemory',
    schema: EmbeddedMemorySchema,
    valid: {
      v: 1,
      memory: { v: 1, id, text: 'hello' },
      vector: packVector([1, 0]),
      model: 'm',
      dimension: 2,
      contentHash: 'b'.repeat(64),
      acceptedAt: 1,
    },
    invalid: {
      'bad content hash': {
        v: 1,
        memory: { v: 1, id, text: 'hello' },
        vector: packVector([1, 0]),
        model: 'm',
        dimension: 2,
        contentHash: 'nope',
        acceptedAt: 1,
      },
    },
  },
  {
    name: 'MemoryRecord',
    schema: MemoryRecordSchema,
    valid: record,
    invalid: { 'occurrences zero': { ...record, occurrences: 0 } },
  },
  {
    name: 'MemoryEvent',
    schema: MemoryEventSchema,
    valid: { v: 1, change: 'created', id, memory: record, at: now },
    invalid: { 'unknown change': { v: 1, change: 'exploded', id, at: now } },
  },
  {
    name: 'QueryReply',
    schema: QueryReplySchema,
    valid: {
      v: 1,
      hits: [
        { memory: record, score: 0.9, scores: { relevance: 0.9, recency: 1, importance: 0.5 } },
      ],
      mode: 'dense',
      plan: 'exact',
      tookMs: 1,
    },
    invalid: {
      'hit without scores': {
        v: 1,
        hits: [{ memory: record, score: 1 }],
        plan: 'exact',
        tookMs: 1,
      },
    },
  },
  {
    name: 'StoreNotice',
    schema: StoreNoticeSchema,
    valid: { v: 1, id, status: 'duplicate', memoryId: id },
    invalid: { 'unknown status': { v: 1, id, status: 'maybe', memoryId: id } },
  },
  {
    name: 'ErrorReply',
    schema: ErrorReplySchema,
    valid: { error: { code: 'NOT_FOUND', message: 'no memory', retryable: false } },
    invalid: { 'unknown code': { error: { code: 'OOPS', message: 'x', retryable: false } } },
  },
];

describe.each(cases)('$name', ({ schema, valid, invalid }) => {
  it('accepts the valid fixture', () => {
    expect(schema.safeParse(valid).error?.issues).toBeUndefined();
  });
  it.each(Object.entries(invalid))('rejects %s', (_, value) => {
    expect(schema.safeParse(value).success).toBe(false);
  });
});

describe('StoreMemory defaults', () => {
  it('fills kind, importance, metadata and labels', () => {
    const parsed = StoreMemorySchema.parse({ v: 1, id, text: 'hello' });
    expect([
      parsed.kind,
      parsed.importance,
      parsed.metadata,
      parsed.tags,
      parsed.categories,
    ]).toEqual(['fact', 0.5, {}, [], []]);
  });

  it('de-duplicates tags', () => {
    expect(StoreMemorySchema.parse({ v: 1, id, text: 'x', tags: ['a', 'a', 'b'] }).tags).toEqual([
      'a',
      'b',
    ]);
  });
});

describe('subjects', () => {
  it('puts the tenant last', () => {
    expect(subjectOf(Operations.query, 'acme')).toBe('memory.query.acme');
  });
  it('refuses a tenant that could widen a subject', () => {
    expect(() => subjectOf(Operations.query, 'a.>')).toThrow(/invalid tenant/);
  });
  it('reads the tenant of a subject', () => {
    expect(tenantOf('memory.store.acme')).toBe('acme');
  });
  it('finds no tenant in a reserved token', () => {
    expect(tenantOf('memory.store._unknown')).toBeUndefined();
  });
});

describe('vector codec', () => {
  it('round-trips float32 values', () => {
    expect(Array.from(unpackVector(packVector([0.5, -1, 2.25])) ?? [])).toEqual([0.5, -1, 2.25]);
  });
  it('rejects bytes that are not whole float32s', () => {
    expect(unpackVector(Buffer.from([1, 2, 3]).toString('base64'))).toBeUndefined();
  });
  it('rejects non-finite values', () => {
    expect(unpackVector(packVector([1, Number.POSITIVE_INFINITY]))).toBeUndefined();
  });
});
