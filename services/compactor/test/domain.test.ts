import type { MemoryRecord } from '@membus/contracts';
import { describe, expect, it } from 'vitest';
import { Maintenance } from '../src/domain/maintenance.ts';
import { extractPatterns } from '../src/domain/patterns.ts';
import { retentionExpiry } from '../src/domain/retention.ts';
import { selectSentences, splitSentences } from '../src/domain/summarise.ts';
import type { MemoryPort } from '../src/ports/memory-port.ts';

const NOW = Date.parse('2026-06-01T00:00:00.000Z');

function memory(overrides: Partial<MemoryRecord> & { id: string }): MemoryRecord {
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

const uuid = (index: number) => `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`;

describe('retention', () => {
  const policies = [
    { category: 'incidents', days: 90 },
    { category: 'incidents', namespace: 'core', days: null },
  ];

  it('expires a memory the days after its creation that its policy gives', () => {
    expect(retentionExpiry(policies, memory({ id: uuid(1), categories: ['incidents'] }))).toBe(
      '2026-07-30T00:00:00.000Z',
    );
  });

  it('lets the more specific rule keep a memory forever', () => {
    expect(
      retentionExpiry(
        policies,
        memory({ id: uuid(1), categories: ['incidents'], namespace: 'core' }),
      ),
    ).toBeUndefined();
  });

  it('never changes an explicit expiry', () => {
    expect(
      retentionExpiry(
        policies,
        memory({ id: uuid(1), categories: ['incidents'], expiresAt: '2026-06-02T00:00:00.000Z' }),
      ),
    ).toBeUndefined();
  });
});

describe('extractive summary', () => {
  it('splits text into sentences', () => {
    expect(splitSentences('Deploy failed. Retry worked!\nDone')).toEqual([
      'Deploy failed.',
      'Retry worked!',
      'Done',
    ]);
  });

  it('keeps the picked sentences in their original order', () => {
    const sentences = ['a a a.', 'b b b.', 'c c c.'];
    const vectors = [
      Float32Array.from([1, 0]),
      Float32Array.from([Math.SQRT1_2, Math.SQRT1_2]),
      Float32Array.from([0, 1]),
    ];
    const picked = selectSentences(sentences, vectors, { maxChars: 14, keepRatio: 1, lambda: 0.7 });
    expect(picked).toEqual([...picked].sort((x, y) => sentences.indexOf(x) - sentences.indexOf(y)));
  });

  it('stays within the character budget', () => {
    const sentences = Array.from({ length: 50 }, (_, index) => `Sentence number ${index} here.`);
    const vectors = sentences.map((_, index) =>
      Float32Array.from([Math.cos(index), Math.sin(index)]),
    );
    const picked = selectSentences(sentences, vectors, {
      maxChars: 200,
      keepRatio: 1,
      lambda: 0.7,
    });
    expect(picked.join(' ').length).toBeLessThanOrEqual(200);
  });
});

describe('patterns', () => {
  it('finds a task type run twice with its success rate and best workflow', () => {
    const outcome = (index: number, success: boolean) =>
      memory({
        id: uuid(index),
        kind: 'outcome',
        metadata: { taskType: 'testing', success, steps: ['plan', 'test'], durationSeconds: 10 },
      });
    expect(extractPatterns([outcome(1, true), outcome(2, false), outcome(3, true)])).toEqual([
      {
        taskType: 'testing',
        runs: 3,
        successes: 2,
        bestWorkflow: 'plan → test',
        averageSeconds: 10,
      },
    ]);
  });
});

/** An in-memory MemoryPort recording the changes asked for. */
function fakeMemories(records: MemoryRecord[]) {
  const changes: string[] = [];
  const port: MemoryPort = {
    async list() {
      return { memories: records };
    },
    async stats() {
      return { total: 0, byScope: {}, byKind: {}, byTier: {}, byNamespace: {}, byCategory: {} };
    },
    async update(_tenant, id, update) {
      changes.push(`update ${id} ${JSON.stringify(update)}`);
      return records.find((record) => record.id === id) as MemoryRecord;
    },
    async delete(_tenant, ids) {
      changes.push(...ids.map((id) => `delete ${id}`));
      return [...ids];
    },
    async expire() {
      return { expired: 0, ids: [] };
    },
    async merge() {
      throw new Error('unused');
    },
    async store() {
      throw new Error('unused');
    },
  };
  return { port, changes };
}

describe('tiers', () => {
  it('promotes the oldest short-term overflow and evicts the coldest mid-term overflow', async () => {
    const records = [
      memory({ id: uuid(1), tier: 'short', createdAt: '2026-05-01T00:00:00.000Z' }),
      memory({ id: uuid(2), tier: 'short', createdAt: '2026-05-02T00:00:00.000Z' }),
      memory({ id: uuid(3), tier: 'short', createdAt: '2026-05-03T00:00:00.000Z' }),
      memory({ id: uuid(4), tier: 'mid', importance: 0.1 }),
      memory({ id: uuid(5), tier: 'mid', importance: 0.9 }),
    ];
    const { port, changes } = fakeMemories(records);
    const maintenance = new Maintenance({
      memories: port,
      embed: { embed: async () => [] },
      retention: [],
      capacity: () => ({ short: 2, mid: 2, long: 1 }),
      duplicateThreshold: () => 0.95,
      importance: { below: 0, afterDays: 30 },
      clock: () => NOW,
    });
    await maintenance.enforceTiers('t', records, false);
    expect(changes).toEqual([`update ${uuid(1)} {"tier":"mid"}`, `delete ${uuid(4)}`]);
  });
});
