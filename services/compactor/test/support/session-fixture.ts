import { createHash } from 'node:crypto';
import type { MemoryRecord, OutcomeInput } from '@membus/contracts';
import { openSqliteLifecycleStore } from '../../src/adapters/sqlite-lifecycle-store.ts';
import {
  SessionCompactor,
  type SessionCompactorOptions,
} from '../../src/domain/session-compactor.ts';
import type { EmbedPort } from '../../src/ports/embed-port.ts';
import type { MemoryPort } from '../../src/ports/memory-port.ts';
import type { OutcomePort } from '../../src/ports/outcome-port.ts';
import { testMemory } from '../../src/testing/index.ts';

export const uuid = (index: number) => `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`;

/** A memory of session `s1` with sensible defaults. */
export function sessionMemory(index: number, overrides: Partial<MemoryRecord> = {}): MemoryRecord {
  const createdAt = new Date(Date.UTC(2026, 4, 1, 0, index)).toISOString();
  return testMemory({
    id: uuid(index),
    scope: 'agent',
    agentId: 'orchestrator',
    sessionId: 's1',
    kind: 'episode',
    text: `Step ${index}: ran job ${index} on node n-${index}.`,
    createdAt,
    updatedAt: createdAt,
    contentHash: `h${index}`,
    ...overrides,
  });
}

/** Bag-of-words vectors hashed into 64 dimensions: similar texts, similar vectors. */
export const wordEmbed: EmbedPort = {
  async embed(texts) {
    return texts.map((text) => {
      const vector = new Float32Array(64);
      for (const word of text.toLowerCase().split(/\W+/).filter(Boolean)) {
        const slot = (createHash('sha256').update(word).digest()[0] as number) % 64;
        vector[slot] = (vector[slot] ?? 0) + 1;
      }
      return vector;
    });
  },
};

/** An in-memory MemoryPort over `records`; stored memories are kept in `stored`. */
export function memoryPortOver(records: MemoryRecord[]) {
  const stored: { id: string; text: string }[] = [];
  const port: MemoryPort = {
    async list(_tenant, filter) {
      const ids = filter?.ids;
      return {
        memories: records.filter(
          (record) =>
            (filter?.sessionId === undefined || record.sessionId === filter.sessionId) &&
            (ids === undefined || ids.includes(record.id)),
        ),
      };
    },
    async stats() {
      throw new Error('unused');
    },
    async update() {
      throw new Error('unused');
    },
    async delete(_tenant, ids) {
      for (const id of ids) {
        const index = records.findIndex((record) => record.id === id);
        if (index >= 0) records.splice(index, 1);
      }
      return [...ids];
    },
    async expire() {
      throw new Error('unused');
    },
    async merge() {
      throw new Error('unused');
    },
    async store(_tenant, memory) {
      stored.push({ id: memory.id, text: memory.text });
      return { status: 'stored', memoryId: memory.id };
    },
  };
  return { port, stored };
}

/** An OutcomePort that keeps what it is given. */
export function recordingOutcomes() {
  const published: OutcomeInput[] = [];
  const port: OutcomePort = {
    async publish(_tenant, outcome) {
      published.push(outcome);
    },
  };
  return { port, published };
}

/** A compactor over in-memory memories, an in-memory SQLite store and word vectors. */
export function compactorOver(
  records: MemoryRecord[],
  options: Partial<SessionCompactorOptions> = {},
) {
  const memories = memoryPortOver(records);
  const store = openSqliteLifecycleStore({ path: ':memory:' });
  const compactor = new SessionCompactor({
    memories: memories.port,
    embed: wordEmbed,
    store,
    originals: 'delete',
    duplicateThreshold: () => 0.99,
    ...options,
  });
  return { compactor, stored: memories.stored, store };
}
