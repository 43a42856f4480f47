/**
 * Issue 19, findings 2 and 4, at the contract: float32 vectors, createdAt not in the future,
 * and the reply fields that say what a bounded reply left out.
 */
import { describe, expect, it } from 'vitest';
import {
  DeleteReplySchema,
  GetReplySchema,
  HistoryRequestSchema,
  Limits,
  QueryReplySchema,
  QueryRequestSchema,
  StoreMemorySchema,
} from '../src/index.ts';

const id = '01935c3e-8f5a-7c3b-9d2e-4f6a8b1c2d3e';
const codeOf = (result: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }) =>
  result.success ? 'ok' : result.error?.issues.map((issue) => issue.path.join('.')).join(',');

describe('vectors are float32', () => {
  it('refuses a query vector of 1e39 (Infinity as float32)', () => {
    expect(codeOf(QueryRequestSchema.safeParse({ v: 1, vector: [1, 1e39] }))).toBe('vector.1');
  });
  it('refuses a stored vector of -1e39', () => {
    expect(codeOf(StoreMemorySchema.safeParse({ v: 1, id, text: 'x', vector: [-1e39, 1] }))).toBe(
      'vector.0',
    );
  });
  it('accepts the float32 extremes', () => {
    for (const value of [Limits.float32Max, -Limits.float32Max, 1e-45])
      expect(codeOf(QueryRequestSchema.safeParse({ v: 1, vector: [value, 1] }))).toBe('ok');
    expect(Float32Array.from([Limits.float32Max])[0]).toBe(Limits.float32Max);
  });
  it('refuses what JSON parses as Infinity', () => {
    const parsed = JSON.parse('{"v":1,"vector":[1e400]}');
    expect(QueryRequestSchema.safeParse(parsed).success).toBe(false);
  });
});

describe('createdAt', () => {
  const at = (ms: number) => new Date(ms).toISOString();
  it('refuses 9999-12-31', () => {
    expect(
      codeOf(
        StoreMemorySchema.safeParse({ v: 1, id, text: 'x', createdAt: '9999-12-31T00:00:00Z' }),
      ),
    ).toBe('createdAt');
  });
  it('refuses more than Limits.createdAtFutureMs ahead', () => {
    const createdAt = at(Date.now() + Limits.createdAtFutureMs + 60_000);
    expect(codeOf(StoreMemorySchema.safeParse({ v: 1, id, text: 'x', createdAt }))).toBe(
      'createdAt',
    );
  });
  it('allows clock skew and any past date (imports)', () => {
    for (const createdAt of [
      at(Date.now() + Limits.createdAtFutureMs - 60_000),
      '2023-05-08T13:56:00Z',
      '1970-01-01T00:00:00Z',
    ])
      expect(codeOf(StoreMemorySchema.safeParse({ v: 1, id, text: 'x', createdAt }))).toBe('ok');
  });
});

describe('bounded replies', () => {
  it('leaves the envelope 64 KiB of the message limit', () => {
    expect(Limits.messageBytes - Limits.replyBytes).toBe(64 * 1024);
  });
  it('say what they left out', () => {
    expect(
      QueryReplySchema.parse({
        v: 1,
        hits: [],
        mode: 'dense',
        plan: 'exact',
        tookMs: 1,
        truncated: true,
        omitted: 3,
      }),
    ).toMatchObject({ truncated: true, omitted: 3 });
    expect(
      GetReplySchema.parse({ v: 1, memories: [], missing: [], pending: [id] }).pending,
    ).toEqual([id]);
    expect(
      DeleteReplySchema.parse({ v: 1, deleted: 600, ids: [id], truncated: true }),
    ).toMatchObject({ deleted: 600, truncated: true });
    expect(HistoryRequestSchema.parse({ v: 1, id, cursor: 'abc' }).cursor).toBe('abc');
  });
});
