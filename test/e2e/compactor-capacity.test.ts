/**
 * Issue 19, findings 1 and 2 (compactor half), end to end: nats-server, embedder, vector-store
 * and compactor as separate processes, compactor defaults except the capacities.
 * - Full tiers demote their overflow (short -> mid -> long) and delete nothing: every memory
 *   stored past the capacities is still there, in another tier, with the demotion and its
 *   reason in its history.
 * - A tenant whose memories pass the message limit many times over (600 memories of 700
 *   characters) is audited and swept, dry run and real, without a reply or request too big,
 *   and its `memory.stored` events are not dead-lettered.
 */

import { waitFor } from '@membus/bus/testing';
import type { MemoryClient } from '@membus/client';
import { Limits, sweepValues } from '@membus/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack(
    {
      SWEEP_INTERVAL_MS: '0',
      SESSION_IDLE_MS: '0',
      // Only the capacities of one namespace are small; TIERS_ON_STORE, TIER_OVERFLOW and
      // everything else keep their defaults.
      TIER_CAPACITIES: JSON.stringify({ capacity: { short: 3, mid: 5, long: 2 } }),
    },
    ['embedder', 'vector-store', 'compactor'],
  );
}, 120_000);

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

describe('capacity never loses a memory', () => {
  let memory: MemoryClient;
  const ids: string[] = [];

  beforeAll(async () => {
    memory = await stack.client('capacity');
    // 20 memories of one user against capacities 3 / 5 / 2: the old default deleted 12.
    for (let batch = 0; batch < 4; batch++) {
      const stored = await memory.storeMany(
        Array.from({ length: 5 }, (_, index) => ({
          userId: 'casey',
          namespace: 'capacity',
          text: `Capacity note ${batch * 5 + index}: the ${['billing', 'search', 'ingest', 'alerts', 'backup'][index]} job ran ${batch * 7 + index * 3} minutes on host ${batch}-${index}`,
          createdAt: new Date(Date.now() - (20 - batch * 5 - index) * 60_000).toISOString(),
        })),
        { wait: 'queryable' },
      );
      ids.push(...stored.map((result) => result.memoryId ?? result.id));
    }
  }, 60_000);

  it('keeps every memory stored past the capacities, moved to the next tiers', async () => {
    const byTier = await waitFor(
      async () => {
        const stats = await memory.stats({ namespace: 'capacity' });
        return stats.byTier.short === 3 && stats.byTier.mid === 5 ? stats.byTier : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'the tiers to settle at their capacities' },
    );
    const { memories, missing } = await memory.getMany(ids);
    expect({ byTier, live: memories.length, missing }).toEqual({
      byTier: { short: 3, mid: 5, long: 12 },
      live: 20,
      missing: [],
    });
  });

  it('records each demotion with its reason in the history', async () => {
    const { memories } = await memory.getMany(ids);
    const lastReasons = await Promise.all(
      memories.map(async (record) => {
        const updates = (await memory.history(record.id)).filter(
          (entry) => entry.event === 'UPDATE',
        );
        return `${record.tier}: ${updates.at(-1)?.details?.reason ?? 'never moved'}`;
      }),
    );
    const count = (line: string) => lastReasons.filter((reason) => reason === line).length;
    const short = 'short: never moved';
    const mid =
      'mid: tier capacity: short holds 3 per owner and namespace; overflow moved to mid (TIER_OVERFLOW short=demote)';
    const long =
      'long: tier capacity: mid holds 5 per owner and namespace; overflow moved to long (TIER_OVERFLOW mid=demote)';
    expect({ short: count(short), mid: count(mid), long: count(long) }).toEqual({
      short: 3,
      mid: 5,
      long: 12,
    });
  });

  it('reports the long tier overflow in the audit instead of deleting it', async () => {
    const audit = await memory.audit({ namespace: 'capacity' });
    expect({ total: audit.total, overCapacity: audit.overCapacity }).toEqual({
      total: 20,
      overCapacity: { long: 10 },
    });
  });

  it('a tiers sweep moves nothing more and deletes nothing, and says the overflow was kept', async () => {
    const { sweeps } = await memory.compact({ sweeps: ['tiers'] });
    expect({
      moves: sweeps?.tierMoves,
      evicted: sweeps?.evicted,
      kept: sweeps?.overCapacityKept,
      total: (await memory.stats({ namespace: 'capacity' })).total,
    }).toEqual({ moves: 0, evicted: 0, kept: 10, total: 20 });
  });
});

describe('a tenant well past the message limit', () => {
  const COUNT = 600;
  let memory: MemoryClient;

  /** 700 characters of words no other memory shares in that order (no near duplicates). */
  function text(index: number): string {
    const words: string[] = [];
    let state = index * 2_654_435_761 + 12_345;
    while (words.join(' ').length < 700) {
      state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
      words.push(`w${(state % 50_000).toString(36)}${index.toString(36)}`);
    }
    return `Turn ${index}: ${words.join(' ')}`.slice(0, 700);
  }

  beforeAll(async () => {
    memory = await stack.client('bigtenant');
    for (let start = 0; start < COUNT; start += 100)
      await memory.storeMany(
        Array.from({ length: 100 }, (_, offset) => ({
          userId: 'speaker',
          text: text(start + offset),
          createdAt: new Date(Date.now() - (COUNT - start - offset) * 1_000).toISOString(),
        })),
        { wait: 'queryable' },
      );
  }, 120_000);

  it('holds 600 memories of 700 characters, more than twice the message limit', async () => {
    let bytes = 0;
    let listed = 0;
    for await (const record of memory.listAll({})) {
      bytes += Buffer.byteLength(JSON.stringify(record));
      listed++;
    }
    expect({ listed, overTwiceTheLimit: bytes > 2 * Limits.messageBytes }).toEqual({
      listed: COUNT,
      overTwiceTheLimit: true,
    });
  });

  it('handles every memory.stored event: the capacities are held, nothing dead-lettered', async () => {
    const byTier = await waitFor(
      async () => {
        const stats = await memory.stats();
        return stats.byTier.short === 10 && stats.byTier.mid === 300 ? stats.byTier : undefined;
      },
      { timeoutMs: 40_000, intervalMs: 200, what: 'the default capacities to be held' },
    );
    const deadLettered = stack.logs.filter(
      (line) => line.startsWith('compactor:') && line.includes('dead-lettered'),
    );
    expect({ byTier, deadLettered }).toEqual({
      byTier: { short: 10, mid: 300, long: 290 },
      deadLettered: [],
    });
  });

  it('audits the whole tenant', async () => {
    const audit = await memory.audit();
    expect({
      total: audit.total,
      examined: audit.examined,
      overCapacity: audit.overCapacity,
      replyBytes: Buffer.byteLength(JSON.stringify(audit)) < 256 * 1024,
    }).toEqual({ total: COUNT, examined: COUNT, overCapacity: { long: 240 }, replyBytes: true });
  });

  it('runs every sweep as a dry run, then for real, and loses nothing it does not report', async () => {
    const outcomes: string[] = [];
    let removed = 0;
    for (const dryRun of [true, false])
      for (const sweep of sweepValues) {
        const reply = await memory.compact({ sweeps: [sweep], dryRun });
        const report = reply.sweeps;
        outcomes.push(`${sweep}${dryRun ? ' (dry run)' : ''}: ${report ? 'ok' : 'no report'}`);
        if (!dryRun && report)
          removed +=
            report.expired + report.memoriesMerged + report.evicted + report.droppedUnimportant;
      }
    expect({ outcomes, total: (await memory.stats()).total }).toEqual({
      outcomes: [
        ...sweepValues.map((sweep) => `${sweep} (dry run): ok`),
        ...sweepValues.map((sweep) => `${sweep}: ok`),
      ],
      total: COUNT - removed,
    });
  });
});
