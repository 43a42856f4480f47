import type { MemoryFilter, MemoryRecord, TierCapacity } from '@membus/contracts';
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

/** An in-memory MemoryPort recording the list filters and the changes asked for. */
function fakeMemories(records: MemoryRecord[], stats: { total: number } = { total: 0 }) {
  const changes: string[] = [];
  const filters: (MemoryFilter | undefined)[] = [];
  const port: MemoryPort = {
    async list(_tenant, filter) {
      filters.push(filter);
      return { memories: records };
    },
    async stats() {
      return {
        total: stats.total,
        byScope: {},
        byKind: {},
        byTier: {},
        byNamespace: {},
        byCategory: {},
      };
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
  return { port, changes, filters };
}

function maintenanceOver(
  port: MemoryPort,
  options: { capacity?: TierCapacity; importance?: { below: number; afterDays: number } } = {},
) {
  return new Maintenance({
    memories: port,
    // Orthogonal vectors: no two texts are near duplicates.
    embed: {
      embed: async (texts) =>
        texts.map((_, index) => Float32Array.from(texts, (__, other) => (other === index ? 1 : 0))),
    },
    retention: [],
    capacity: () => options.capacity ?? { short: 2, mid: 2, long: 1 },
    duplicateThreshold: () => 0.95,
    importance: options.importance ?? { below: 0, afterDays: 30 },
    clock: () => NOW,
  });
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
    await maintenanceOver(port).enforceTiers('t', records, false);
    expect(changes).toEqual([`update ${uuid(1)} {"tier":"mid"}`, `delete ${uuid(4)}`]);
  });

  it('leaves long-term overflow in place: no demotion, no eviction', async () => {
    const records = [1, 2, 3].map((index) =>
      memory({ id: uuid(index), kind: 'pattern', tier: 'long', importance: index / 10 }),
    );
    const { port, changes } = fakeMemories(records);
    await maintenanceOver(port, { capacity: { short: 1, mid: 1, long: 1 } }).enforceTiers(
      't',
      records,
      false,
    );
    expect(changes).toEqual([]);
  });

  it('never evicts permanent, pattern or preference memories from a full mid tier', async () => {
    const records = [
      memory({ id: uuid(1), tier: 'mid', importance: 0, tags: ['permanent'] }),
      memory({ id: uuid(2), tier: 'mid', importance: 0, kind: 'pattern' }),
      memory({ id: uuid(3), tier: 'mid', importance: 0, kind: 'preference' }),
      memory({ id: uuid(4), tier: 'mid', importance: 0.5 }),
      memory({ id: uuid(5), tier: 'mid', importance: 0.9 }),
    ];
    const { port, changes } = fakeMemories(records);
    await maintenanceOver(port, { capacity: { short: 1, mid: 1, long: 1 } }).enforceTiers(
      't',
      records,
      false,
    );
    expect(changes.filter((change) => change.startsWith('delete'))).toEqual([`delete ${uuid(4)}`]);
  });

  it('moves lasting knowledge found in mid back to the long tier', async () => {
    const records = [
      memory({ id: uuid(1), tier: 'mid', tags: ['permanent'] }),
      memory({ id: uuid(2), tier: 'mid', kind: 'preference' }),
      memory({ id: uuid(3), tier: 'mid' }),
    ];
    const { port, changes } = fakeMemories(records);
    await maintenanceOver(port).enforceTiers('t', records, false);
    expect(changes).toEqual([
      `update ${uuid(1)} {"tier":"long"}`,
      `update ${uuid(2)} {"tier":"long"}`,
    ]);
  });

  it('promotes permanent short-term overflow to long, never to a mid tier that evicts', async () => {
    const records = [
      memory({
        id: uuid(1),
        tier: 'short',
        tags: ['permanent'],
        importance: 0,
        createdAt: '2026-05-01T00:00:00.000Z',
      }),
      memory({ id: uuid(2), tier: 'short', createdAt: '2026-05-02T00:00:00.000Z' }),
      memory({ id: uuid(3), tier: 'mid', importance: 0.9 }),
    ];
    const { port, changes } = fakeMemories(records);
    await maintenanceOver(port, { capacity: { short: 1, mid: 1, long: 1 } }).enforceTiers(
      't',
      records,
      false,
    );
    expect(changes).toEqual([`update ${uuid(1)} {"tier":"long"}`]);
  });
});

describe('audit', () => {
  it('recommends raising the long capacity instead of a tiers sweep when the long tier is full', async () => {
    const records = [1, 2, 3].map((index) =>
      memory({ id: uuid(index), kind: 'pattern', tier: 'long', text: `pattern ${index}` }),
    );
    const { port } = fakeMemories(records, { total: 3 });
    const audit = await maintenanceOver(port, { capacity: { short: 1, mid: 1, long: 1 } }).audit(
      't',
      { v: 1, staleDays: 90, duplicateThreshold: 0.95, maxMemories: 100 },
    );
    expect(audit.recommendations).toEqual([
      'Long-term tier over capacity (long +2): lasting knowledge is never evicted; raise the long capacity for that namespace or delete what is obsolete.',
    ]);
  });
});

describe('importance rule', () => {
  const rule = { below: 0.3, afterDays: 30 };
  const old = '2026-04-01T00:00:00.000Z';
  const recent = '2026-05-20T00:00:00.000Z';

  it('drops a memory under the threshold once it is older than the rule allows', async () => {
    const records = [memory({ id: uuid(1), importance: 0.1, createdAt: old })];
    const { port, changes } = fakeMemories(records);
    await maintenanceOver(port, { importance: rule }).importanceSweep('t', false);
    expect(changes).toEqual([`delete ${uuid(1)}`]);
  });

  it('keeps a memory at or above the threshold', async () => {
    const records = [memory({ id: uuid(1), importance: 0.3, createdAt: old })];
    const { port, changes } = fakeMemories(records);
    await maintenanceOver(port, { importance: rule }).importanceSweep('t', false);
    expect(changes).toEqual([]);
  });

  it('keeps an unimportant memory younger than the rule allows', async () => {
    const records = [memory({ id: uuid(1), importance: 0.1, createdAt: recent })];
    const { port, changes } = fakeMemories(records);
    await maintenanceOver(port, { importance: rule }).importanceSweep('t', false);
    expect(changes).toEqual([]);
  });

  it('asks the store only for memories created before the cutoff', async () => {
    const { port, filters } = fakeMemories([]);
    await maintenanceOver(port, { importance: rule }).importanceSweep('t', false);
    expect(filters).toEqual([{ createdAt: { lt: '2026-05-02T00:00:00.000Z' } }]);
  });

  it('exempts the long tier and lasting knowledge', async () => {
    const records = [
      memory({ id: uuid(1), importance: 0.1, createdAt: old, tier: 'long' }),
      memory({ id: uuid(2), importance: 0.1, createdAt: old, tags: ['permanent'] }),
      memory({ id: uuid(3), importance: 0.1, createdAt: old, kind: 'pattern', tier: 'mid' }),
      memory({ id: uuid(4), importance: 0.1, createdAt: old, kind: 'preference', tier: 'mid' }),
    ];
    const { port, changes } = fakeMemories(records);
    await maintenanceOver(port, { importance: rule }).importanceSweep('t', false);
    expect(changes).toEqual([]);
  });

  it('counts without deleting in a dry run', async () => {
    const records = [memory({ id: uuid(1), importance: 0.1, createdAt: old })];
    const { port, changes } = fakeMemories(records);
    const dropped = await maintenanceOver(port, { importance: rule }).importanceSweep('t', true);
    expect({ dropped, changes }).toEqual({ dropped: 1, changes: [] });
  });

  it('is off when the threshold is 0', async () => {
    const records = [memory({ id: uuid(1), importance: 0, createdAt: old })];
    const { port, changes } = fakeMemories(records);
    await maintenanceOver(port, { importance: { below: 0, afterDays: 30 } }).importanceSweep(
      't',
      false,
    );
    expect(changes).toEqual([]);
  });
});
