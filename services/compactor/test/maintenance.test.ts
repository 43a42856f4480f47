import {
  DefaultTierOverflow,
  type MemoryFilter,
  type MemoryRecord,
  type TierCapacity,
  type TierOverflowPolicy,
} from '@membus/contracts';
import { describe, expect, it } from 'vitest';
import { Maintenance } from '../src/domain/maintenance.ts';
import type { MemoryPort } from '../src/ports/memory-port.ts';
import { memory, NOW, uuid } from './support/memory-fixture.ts';

/**
 * An in-memory MemoryPort recording the list filters and the changes asked for. It applies
 * the filters the compactor uses (tiers, creation time), pages in short pages of uneven size
 * (as the vector-store's byte-bounded pages may be) and applies tier changes and deletions.
 */
function fakeMemories(
  initial: MemoryRecord[],
  stats: { total: number } = { total: 0 },
  pageSizes: readonly number[] = [2, 1, 3],
) {
  const records = [...initial];
  const changes: string[] = [];
  const reasons: string[] = [];
  const filters: (MemoryFilter | undefined)[] = [];
  const matching = (filter: MemoryFilter | undefined) =>
    records.filter(
      (record) =>
        (filter?.tiers === undefined || filter.tiers.includes(record.tier)) &&
        (filter?.createdAt?.lt === undefined || record.createdAt < filter.createdAt.lt),
    );
  let pages = 0;
  const port: MemoryPort = {
    async list(_tenant, filter, cursor) {
      if (cursor === undefined) filters.push(filter);
      const offset = cursor === undefined ? 0 : Number(cursor);
      const size = pageSizes[pages++ % pageSizes.length] as number;
      const all = matching(filter);
      const end = offset + size;
      return {
        memories: all.slice(offset, end),
        ...(end < all.length ? { nextCursor: String(end) } : {}),
      };
    },
    async stats(_tenant, filter) {
      const byTier: Record<string, number> = {};
      for (const record of matching(filter)) byTier[record.tier] = (byTier[record.tier] ?? 0) + 1;
      return {
        total: stats.total,
        byScope: {},
        byKind: {},
        byTier,
        byNamespace: {},
        byCategory: {},
      };
    },
    async update(_tenant, id, { reason, ...update }) {
      changes.push(`update ${id} ${JSON.stringify(update)}`);
      if (reason) reasons.push(reason);
      const index = records.findIndex((record) => record.id === id);
      const next = { ...(records[index] as MemoryRecord), ...(update as Partial<MemoryRecord>) };
      records[index] = next;
      return next;
    },
    async delete(_tenant, ids, reason) {
      changes.push(...ids.map((id) => `delete ${id}`));
      if (reason) reasons.push(reason);
      for (const id of ids)
        records.splice(
          records.findIndex((record) => record.id === id),
          1,
        );
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
  return { port, changes, reasons, filters, records };
}

function maintenanceOver(
  port: MemoryPort,
  options: {
    capacity?: TierCapacity;
    overflow?: Partial<TierOverflowPolicy>;
    importance?: { below: number; afterDays: number };
    archive?: (tenant: string, records: readonly MemoryRecord[]) => Promise<void>;
  } = {},
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
    overflow: () => ({ ...DefaultTierOverflow, ...options.overflow }),
    duplicateThreshold: () => 0.95,
    importance: options.importance ?? { below: 0, afterDays: 30 },
    ...(options.archive ? { archive: options.archive } : {}),
    clock: () => NOW,
  });
}

describe('tiers', () => {
  it('demotes the oldest short-term overflow to mid and the coldest mid-term overflow to long, deleting nothing', async () => {
    const records = [
      memory({ id: uuid(1), tier: 'short', createdAt: '2026-05-01T00:00:00.000Z' }),
      memory({ id: uuid(2), tier: 'short', createdAt: '2026-05-02T00:00:00.000Z' }),
      memory({ id: uuid(3), tier: 'short', createdAt: '2026-05-03T00:00:00.000Z' }),
      memory({ id: uuid(4), tier: 'mid', importance: 0.1 }),
      memory({ id: uuid(5), tier: 'mid', importance: 0.9 }),
    ];
    const { port, changes } = fakeMemories(records);
    const report = await maintenanceOver(port).sweep('t', ['tiers'], false);
    expect({
      changes,
      listed: report.changes.map((change) => [change.id, change.action, change.from, change.to]),
      counts: [report.tierMoves, report.evicted],
    }).toEqual({
      changes: [`update ${uuid(1)} {"tier":"mid"}`, `update ${uuid(4)} {"tier":"long"}`],
      listed: [
        [uuid(1), 'demoted', 'short', 'mid'],
        [uuid(4), 'demoted', 'mid', 'long'],
      ],
      counts: [2, 0],
    });
  });

  it('gives every tier move its reason for the history', async () => {
    const records = [1, 2, 3].map((index) =>
      memory({ id: uuid(index), createdAt: `2026-05-0${index}T00:00:00.000Z` }),
    );
    const { port, reasons } = fakeMemories(records);
    await maintenanceOver(port).sweep('t', ['tiers'], false);
    expect(reasons).toEqual([
      'tier capacity: short holds 2 per owner and namespace; overflow moved to mid (TIER_OVERFLOW short=demote)',
    ]);
  });

  it('keeps the long tier overflow by default and reports how much is past the capacity', async () => {
    const records = [1, 2, 3].map((index) =>
      memory({ id: uuid(index), tier: 'long', importance: index / 10 }),
    );
    const { port, changes } = fakeMemories(records);
    const report = await maintenanceOver(port).sweep('t', ['tiers'], false);
    expect({ changes, kept: report.overCapacityKept, evicted: report.evicted }).toEqual({
      changes: [],
      kept: 2,
      evicted: 0,
    });
  });

  it('deletes the coldest long-term overflow only under TIER_OVERFLOW long=delete, with the reason, never lasting knowledge', async () => {
    const records = [
      memory({ id: uuid(1), tier: 'long', kind: 'pattern', importance: 0 }),
      memory({ id: uuid(2), tier: 'long', importance: 0.1 }),
      memory({ id: uuid(3), tier: 'long', importance: 0.9 }),
    ];
    const { port, changes, reasons } = fakeMemories(records);
    const report = await maintenanceOver(port, {
      capacity: { short: 2, mid: 2, long: 2 },
      overflow: { long: 'delete' },
    }).sweep('t', ['tiers'], false);
    expect({ changes, reasons, evicted: report.evicted, listed: report.changes }).toEqual({
      changes: [`delete ${uuid(2)}`],
      reasons: [
        'tier capacity: long holds 2 per owner and namespace; overflow deleted (TIER_OVERFLOW long=delete)',
      ],
      evicted: 1,
      listed: [{ id: uuid(2), action: 'deleted', from: 'long', reason: reasons[0] }],
    });
  });

  it('archives a copy before deleting under TIER_OVERFLOW mid=archive', async () => {
    const records = [
      memory({ id: uuid(4), tier: 'mid', importance: 0.1 }),
      memory({ id: uuid(5), tier: 'mid', importance: 0.9 }),
    ];
    const { port, changes } = fakeMemories(records);
    const report = await maintenanceOver(port, {
      capacity: { short: 1, mid: 1, long: 1 },
      overflow: { mid: 'archive' },
      archive: async (_tenant, archived) => {
        changes.push(...archived.map((record) => `archive ${record.id}`));
      },
    }).sweep('t', ['tiers'], false);
    expect({ changes, archived: report.archived }).toEqual({
      changes: [`archive ${uuid(4)}`, `delete ${uuid(4)}`],
      archived: 1,
    });
  });

  it('never removes permanent, pattern or preference memories from a full tier', async () => {
    const records = [
      memory({ id: uuid(1), tier: 'mid', importance: 0, tags: ['permanent'] }),
      memory({ id: uuid(2), tier: 'mid', importance: 0, kind: 'pattern' }),
      memory({ id: uuid(3), tier: 'mid', importance: 0, kind: 'preference' }),
      memory({ id: uuid(4), tier: 'mid', importance: 0.5 }),
      memory({ id: uuid(5), tier: 'mid', importance: 0.9 }),
    ];
    const { port, changes } = fakeMemories(records);
    await maintenanceOver(port, {
      capacity: { short: 1, mid: 1, long: 1 },
      overflow: { mid: 'delete', long: 'delete' },
    }).sweep('t', ['tiers'], false);
    expect(changes.filter((change) => change.startsWith('delete'))).toEqual([`delete ${uuid(4)}`]);
  });

  it('moves lasting knowledge found in mid to the long tier', async () => {
    const records = [
      memory({ id: uuid(1), tier: 'mid', tags: ['permanent'] }),
      memory({ id: uuid(2), tier: 'mid', kind: 'preference' }),
      memory({ id: uuid(3), tier: 'mid' }),
    ];
    const { port, changes } = fakeMemories(records);
    await maintenanceOver(port).sweep('t', ['tiers'], false);
    expect(changes).toEqual([
      `update ${uuid(1)} {"tier":"long"}`,
      `update ${uuid(2)} {"tier":"long"}`,
    ]);
  });

  it('promotes permanent short-term overflow to long', async () => {
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
    await maintenanceOver(port, { capacity: { short: 1, mid: 1, long: 1 } }).sweep(
      't',
      ['tiers'],
      false,
    );
    expect(changes).toEqual([`update ${uuid(1)} {"tier":"long"}`]);
  });

  it('lists what would move in a dry run and changes nothing', async () => {
    const records = [1, 2, 3].map((index) =>
      memory({ id: uuid(index), createdAt: `2026-05-0${index}T00:00:00.000Z` }),
    );
    const { port, changes } = fakeMemories(records);
    const report = await maintenanceOver(port).sweep('t', ['tiers'], true);
    expect({ changes, listed: report.changes.map((change) => change.id) }).toEqual({
      changes: [],
      listed: [uuid(1)],
    });
  });

  it('lists nothing on a store into owner groups within their capacities', async () => {
    const records = [memory({ id: uuid(1) }), memory({ id: uuid(2), tier: 'mid' })];
    const { port, filters } = fakeMemories(records);
    await maintenanceOver(port).enforceTiersFor('t', records);
    expect(filters).toEqual([]);
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
      "Long-term tier over capacity (long +2): the last tier's overflow is kept (TIER_OVERFLOW long=keep by default) and lasting knowledge is never removed; raise the long capacity for that namespace, delete what is obsolete, or set TIER_OVERFLOW long to archive or delete.",
    ]);
  });

  it('reads every page, however short, and lists stale memories within its byte budget', async () => {
    const records = Array.from({ length: 600 }, (_, index) =>
      memory({ id: uuid(index + 1), text: 'x'.repeat(700), createdAt: '2025-01-01T00:00:00.000Z' }),
    );
    const { port } = fakeMemories(records, { total: 600 }, [7, 1, 200]);
    const audit = await maintenanceOver(port, {
      capacity: { short: 1000, mid: 1000, long: 1000 },
    }).audit('t', { v: 1, staleDays: 90, duplicateThreshold: 0.95, maxMemories: 5_000 });
    const listedBytes = Buffer.byteLength(JSON.stringify(audit.stale));
    expect({
      examined: audit.examined,
      staleFound: audit.staleFound,
      listedWithinBudget: audit.stale.length > 0 && listedBytes <= 64 * 1024,
    }).toEqual({ examined: 600, staleFound: 600, listedWithinBudget: true });
  });
});

describe('importance rule', () => {
  const rule = { below: 0.3, afterDays: 30 };
  const old = '2026-04-01T00:00:00.000Z';
  const recent = '2026-05-20T00:00:00.000Z';

  /** One importance sweep of tenant t over these records; what it changed and asked. */
  const sweep = async (records: MemoryRecord[], dryRun = false, importance = rule) => {
    const memories = fakeMemories(records);
    const dropped = await maintenanceOver(memories.port, { importance }).importanceSweep(
      't',
      dryRun,
    );
    return { ...memories, dropped };
  };

  it('drops a memory under the threshold once it is older than the rule allows', async () => {
    const { changes } = await sweep([memory({ id: uuid(1), importance: 0.1, createdAt: old })]);
    expect(changes).toEqual([`delete ${uuid(1)}`]);
  });

  it('keeps a memory at or above the threshold', async () => {
    const { changes } = await sweep([memory({ id: uuid(1), importance: 0.3, createdAt: old })]);
    expect(changes).toEqual([]);
  });

  it('keeps an unimportant memory younger than the rule allows', async () => {
    const { changes } = await sweep([memory({ id: uuid(1), importance: 0.1, createdAt: recent })]);
    expect(changes).toEqual([]);
  });

  it('asks the store only for memories created before the cutoff', async () => {
    const { filters } = await sweep([]);
    expect(filters).toEqual([{ createdAt: { lt: '2026-05-02T00:00:00.000Z' } }]);
  });

  it('exempts the long tier and lasting knowledge', async () => {
    const { changes } = await sweep([
      memory({ id: uuid(1), importance: 0.1, createdAt: old, tier: 'long' }),
      memory({ id: uuid(2), importance: 0.1, createdAt: old, tags: ['permanent'] }),
      memory({ id: uuid(3), importance: 0.1, createdAt: old, kind: 'pattern', tier: 'mid' }),
      memory({ id: uuid(4), importance: 0.1, createdAt: old, kind: 'preference', tier: 'mid' }),
    ]);
    expect(changes).toEqual([]);
  });

  it('counts without deleting in a dry run', async () => {
    const records = [memory({ id: uuid(1), importance: 0.1, createdAt: old })];
    const { dropped, changes } = await sweep(records, true);
    expect({ dropped, changes }).toEqual({ dropped: 1, changes: [] });
  });

  it('is off when the threshold is 0', async () => {
    const records = [memory({ id: uuid(1), importance: 0, createdAt: old })];
    const { changes } = await sweep(records, false, { below: 0, afterDays: 30 });
    expect(changes).toEqual([]);
  });
});
