import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kind, MemoryRecord, Tier } from '@membus/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type EmbeddedVectorIndex, openEmbeddedVectorIndex } from '../src/index.ts';
import { PayloadIndex, type SlotPayload } from '../src/payload-index.ts';

const CREATED = '2026-05-01T00:00:00.000Z';
const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

function payload(n: number, tenant: string, tier: Tier, kind: Kind): SlotPayload {
  return {
    tenant,
    seq: n,
    importance: 0.5,
    id: uuid(n),
    scope: 'app',
    kind,
    tier,
    categories: [],
    tags: [],
    createdAt: Date.parse(CREATED),
    updatedAt: Date.parse(CREATED),
    metadata: {},
  };
}

function record(n: number, tier: Tier, kind: Kind, extra: Partial<MemoryRecord> = {}) {
  const memory: MemoryRecord = {
    id: uuid(n),
    tenant: 't1',
    scope: 'app',
    kind,
    text: `memory ${n}`,
    metadata: {},
    categories: [],
    tags: [],
    importance: 0.5,
    tier,
    createdAt: CREATED,
    updatedAt: CREATED,
    accessCount: 0,
    contentHash: `hash-${n}`,
    embeddingModel: 'test',
    occurrences: 1,
    ...extra,
  };
  return { record: memory, vector: Float32Array.from([1, n % 7, 0, 1]), dedupKey: `dedup-${n}` };
}

/** The non-zero counts as `tenant/tier/kind` → count. */
function nonZero(counts: readonly { tenant: string; tier: string; kind: string; count: number }[]) {
  return Object.fromEntries(
    counts
      .filter((entry) => entry.count > 0)
      .map((entry) => [`${entry.tenant}/${entry.tier}/${entry.kind}`, entry.count]),
  );
}

describe('payload index counts by tier and kind', () => {
  const tiers = ['short', 'mid', 'long'] as const;
  const kinds = ['fact', 'episode', 'summary'] as const;

  it('counts a tenant with one tier from the kind set sizes', () => {
    const index = new PayloadIndex();
    index.add(0, payload(0, 'a', 'short', 'fact'));
    index.add(1, payload(1, 'a', 'short', 'fact'));
    index.add(2, payload(2, 'a', 'short', 'episode'));
    expect(nonZero(index.countByTierAndKind(tiers, kinds))).toEqual({
      'a/short/fact': 2,
      'a/short/episode': 1,
    });
  });

  it('intersects tier and kind when a tenant spans several of both', () => {
    const index = new PayloadIndex();
    const layout: [Tier, Kind][] = [
      ['short', 'fact'],
      ['short', 'episode'],
      ['short', 'episode'],
      ['mid', 'fact'],
      ['long', 'summary'],
      ['long', 'fact'],
      ['long', 'fact'],
    ];
    for (const [slot, [tier, kind]] of layout.entries())
      index.add(slot, payload(slot, 'a', tier, kind));
    expect(nonZero(index.countByTierAndKind(tiers, kinds))).toEqual({
      'a/short/fact': 1,
      'a/short/episode': 2,
      'a/mid/fact': 1,
      'a/long/fact': 2,
      'a/long/summary': 1,
    });
  });

  it('keeps tenants apart and reports every pair asked for each tenant, zeros included', () => {
    const index = new PayloadIndex();
    index.add(0, payload(0, 'a', 'short', 'fact'));
    index.add(1, payload(1, 'b', 'long', 'summary'));
    const counts = index.countByTierAndKind(tiers, kinds);
    expect({ rows: counts.length, nonZero: nonZero(counts) }).toEqual({
      rows: 2 * tiers.length * kinds.length,
      nonZero: { 'a/short/fact': 1, 'b/long/summary': 1 },
    });
  });

  it('follows removals and changes of tier', () => {
    const index = new PayloadIndex();
    const first = payload(0, 'a', 'short', 'fact');
    index.add(0, first);
    index.add(1, payload(1, 'a', 'short', 'fact'));
    index.add(2, payload(2, 'b', 'short', 'fact'));
    index.remove(0, first);
    index.add(0, { ...first, tier: 'mid' });
    index.remove(2, payload(2, 'b', 'short', 'fact'));
    expect(nonZero(index.countByTierAndKind(tiers, kinds))).toEqual({
      'a/short/fact': 1,
      'a/mid/fact': 1,
    });
  });

  it('reports nothing for an empty index', () => {
    expect(new PayloadIndex().countByTierAndKind(tiers, kinds)).toEqual([]);
  });
});

describe('embedded index memory counts', () => {
  let directory: string;
  let index: EmbeddedVectorIndex;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'membus-memory-counts-'));
    index = await openEmbeddedVectorIndex({ directory, dimension: 4 });
  });

  afterEach(async () => {
    await index.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('counts live memories by tier and kind after upserts, a tier move and a delete', async () => {
    await index.upsert([
      record(1, 'short', 'fact'),
      record(2, 'short', 'episode'),
      record(3, 'mid', 'fact'),
      record(4, 'long', 'summary'),
    ]);
    // A tier move keeps the vector.
    const moved = record(2, 'mid', 'episode');
    await index.upsert([{ record: moved.record, dedupKey: moved.dedupKey }]);
    await index.delete('t1', [uuid(3)]);
    expect(nonZero(index.memoryCounts())).toEqual({
      't1/short/fact': 1,
      't1/mid/episode': 1,
      't1/long/summary': 1,
    });
  });

  it('counts a memory past its expiry until it is deleted', async () => {
    await index.upsert([record(1, 'short', 'fact', { expiresAt: '2026-05-02T00:00:00.000Z' })]);
    expect(nonZero(index.memoryCounts())).toEqual({ 't1/short/fact': 1 });
  });

  it('counts the same after a reopen (the payload index is rebuilt from SQLite)', async () => {
    await index.upsert([record(1, 'short', 'fact'), record(2, 'long', 'pattern')]);
    await index.close();
    index = await openEmbeddedVectorIndex({ directory, dimension: 4 });
    expect(nonZero(index.memoryCounts())).toEqual({ 't1/short/fact': 1, 't1/long/pattern': 1 });
  });
});
