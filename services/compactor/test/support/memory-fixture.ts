import type { MemoryRecord } from '@membus/contracts';

// The memory records the compactor's domain tests work on: one tenant, one agent, fixed times.

export const NOW = Date.parse('2026-06-01T00:00:00.000Z');

export function memory(overrides: Partial<MemoryRecord> & { id: string }): MemoryRecord {
  return {
    tenant: 't',
    scope: 'agent',
    agentId: 'a',
    kind: 'fact',
    text: 'text',
    metadata: {},
    categories: [],
    tags: [],
    importance: 0.5,
    tier: 'short',
    createdAt: '2026-05-01T00:00:00.000Z',
    updatedAt: '2026-05-01T00:00:00.000Z',
    accessCount: 0,
    contentHash: 'h',
    embeddingModel: 'm',
    occurrences: 1,
    ...overrides,
  };
}

export const uuid = (index: number) => `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`;
