import type { MemoryRecord } from '@membus/contracts';
import type { IndexedMemory, SearchResult, VectorIndex } from '../vector-index.ts';

/** The clock the test records are dated by (2026-06-01T00:00:00Z). */
export const TEST_NOW = Date.parse('2026-06-01T00:00:00.000Z');

/** Memory `n`'s id: UUID-shaped, ordered by `n`. */
export function testMemoryId(n: number): string {
  return `01900000-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;
}

/**
 * Memory `n` as the index tests store it: a user-scoped short-term fact of tenant `test`,
 * created 10 ms after memory `n - 1` (before `TEST_NOW`), with its own content hash.
 */
export function testRecord(n: number, overrides: Partial<MemoryRecord> = {}): MemoryRecord {
  const createdAt = new Date(TEST_NOW - 1_000_000 + n * 10).toISOString();
  return {
    id: testMemoryId(n),
    tenant: 'test',
    scope: 'user',
    userId: `user-${n % 7}`,
    kind: 'fact',
    text: `memory ${n}`,
    metadata: { n },
    categories: [],
    tags: [],
    importance: 0.5,
    tier: 'short',
    createdAt,
    updatedAt: createdAt,
    accessCount: 0,
    contentHash: `hash-${n}`,
    embeddingModel: 'test',
    occurrences: 1,
    ...overrides,
  };
}

/** `testRecord(n, overrides)` with its vector and the de-duplication key `dedup-<n>`. */
export function testItem(
  n: number,
  vector: Float32Array,
  overrides: Partial<MemoryRecord> = {},
): IndexedMemory {
  return { record: testRecord(n, overrides), vector, dedupKey: `dedup-${n}` };
}

/** A dense search of `tenant` at `TEST_NOW` for the `limit` memories nearest `vector`. */
export function searchNearest(
  index: VectorIndex,
  tenant: string,
  vector: Float32Array,
  limit: number,
): Promise<SearchResult> {
  return index.search({ tenant, vector, limit, now: TEST_NOW });
}
