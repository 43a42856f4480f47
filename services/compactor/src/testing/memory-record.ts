import type { MemoryRecord } from '@membus/contracts';

/**
 * A memory of tenant `t` for the compactor's tests: a short-term fact of middling importance,
 * never accessed, seen once, updated when created; `fields` names it and sets the rest.
 */
export function testMemory(
  fields: Pick<MemoryRecord, 'id' | 'scope' | 'createdAt'> & Partial<MemoryRecord>,
): MemoryRecord {
  return {
    tenant: 't',
    kind: 'fact',
    text: `memory ${fields.id}`,
    metadata: {},
    categories: [],
    tags: [],
    importance: 0.5,
    tier: 'short',
    updatedAt: fields.createdAt,
    accessCount: 0,
    contentHash: 'x',
    embeddingModel: 'm',
    occurrences: 1,
    ...fields,
  };
}
