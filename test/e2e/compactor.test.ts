/**
 * The compactor end to end (issue 6, USE-CASES §2–§4): session compaction, retention and expiry
 * sweeps, tier capacities, audits and crash safety — nats-server, embedder, vector-store and
 * compactor as separate processes.
 */
import { waitFor } from '@membus/bus/testing';
import type { MemoryClient, MemoryRecord, StoreInput } from '@membus/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCompactorStack, type TestStack } from '../helpers/stack.ts';

let stack: TestStack;
let memory: MemoryClient;
const DAY = 86_400_000;
const inOneSecond = () => new Date(Date.now() + 1_000).toISOString();

beforeAll(async () => {
  stack = await startCompactorStack({
    SESSION_IDLE_MS: '0',
    SESSION_ACK_WAIT_MS: '2000',
    TIER_CAPACITIES: JSON.stringify({ tiers: { short: 5, mid: 8, long: 3 } }),
    IMPORTANCE_DROP_BELOW: '0.3',
    IMPORTANCE_DROP_AFTER_DAYS: '30',
  });
  memory = await stack.client('lifecycle');
}, 120_000);

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

const taskTypes = ['code_generation', 'testing', 'deployment', 'debugging'] as const;
const tools = ['linter', 'vitest', 'docker', 'kubectl', 'profiler', 'tracer', 'git', 'pnpm'];

/** An orchestrator session (USE-CASES §2): `count` workflow executions with outcomes. */
function orchestratorSession(sessionId: string, count: number): StoreInput[] {
  return Array.from({ length: count }, (_, index) => {
    const taskType = taskTypes[index % taskTypes.length] as string;
    const success = index % 5 !== 4;
    const tool = tools[index % tools.length] as string;
    return {
      sessionId,
      agentId: 'orchestrator',
      namespace: 'orchestrator',
      kind: 'outcome' as const,
      text:
        `Step ${index + 1}: ran the ${taskType} workflow for request ${index + 1} using ${tool}. ` +
        `The ${taskType} run ${success ? 'succeeded' : 'failed'} after ${10 + index} seconds. ` +
        `Orchestrator notes for ${sessionId}: keep ${tool} in the plan for ${taskType} tasks.`,
      metadata: {
        taskType,
        success,
        steps: ['plan', taskType, 'review'],
        durationSeconds: 10 + index,
        cost: 0.01 * (index + 1),
      },
    };
  });
}

async function sessionMemories(sessionId: string): Promise<MemoryRecord[]> {
  const records: MemoryRecord[] = [];
  for await (const record of memory.listAll({ sessionId })) records.push(record);
  return records;
}

describe('session compaction', () => {
  it('compacts a 20-memory orchestrator session with a compression ratio above 0', async () => {
    await memory.storeMany(orchestratorSession('orchestrate-1', 20), { wait: 'queryable' });
    const { session } = await memory.compact({ sessionId: 'orchestrate-1' });
    expect(session && [session.memoriesIn, session.compressionRatio > 0]).toEqual([20, true]);
  });

  it('finds the summary of an ended session by a query for its content', async () => {
    await memory.storeMany(orchestratorSession('orchestrate-2', 20), { wait: 'queryable' });
    await memory.endSession('orchestrate-2');
    const summary = await waitFor(
      async () => {
        const records = await sessionMemories('orchestrate-2');
        return records.length === 1 && records[0]?.kind === 'summary' ? records[0] : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'the session to become one summary' },
    );
    const sentence = summary.text.split(/(?<=\.)\s+/).find((part) => part.startsWith('Step'));
    const { hits } = await memory.query(sentence ?? summary.text, {
      topK: 1,
      filter: { namespace: 'orchestrator', kinds: ['summary'] },
    });
    expect(hits[0]?.memory.id).toBe(summary.id);
  });

  it('reports without changing anything in a dry run', async () => {
    await memory.storeMany(orchestratorSession('orchestrate-dry', 6), { wait: 'queryable' });
    await memory.compact({ sessionId: 'orchestrate-dry', dryRun: true });
    expect((await sessionMemories('orchestrate-dry')).length).toBe(6);
  });
});

describe('expiry', () => {
  it('sweeps memories expired by a retention policy or an explicit expiry, recording EXPIRE', async () => {
    const [temporary, explicit] = await memory.storeMany(
      [
        {
          namespace: 'expiry',
          categories: ['temporary'],
          text: 'Transient CPU blip on the checkout pods, self-resolved',
          createdAt: new Date(Date.now() - 8 * DAY).toISOString(),
        },
        {
          namespace: 'expiry',
          text: 'Maintenance window tonight from 22:00 to 23:00',
          expiresAt: new Date(Date.now() + 1_000).toISOString(),
        },
      ],
      { wait: 'queryable' },
    );
    const ids = [temporary?.id as string, explicit?.id as string];
    await waitFor(async () => (await memory.getMany(ids)).missing.length === 2, {
      timeoutMs: 15_000,
      intervalMs: 50,
      what: 'both memories to be past their expiry',
    });
    await memory.compact({ sweeps: ['expire'] });
    const events = await Promise.all(
      ids.map(async (id) => (await memory.history(id)).map((entry) => entry.event).at(-1)),
    );
    expect(events).toEqual(['EXPIRE', 'EXPIRE']);
  });

  it('counts each expired memory it deletes in the sweep report', async () => {
    // A tenant of its own: no other expired memory can add to the count.
    const tenant = await stack.client('expiry-count');
    const { id } = await tenant.store(
      { text: 'Feature freeze until the release branch is cut', expiresAt: inOneSecond() },
      { wait: 'queryable' },
    );
    await waitFor(async () => (await tenant.getMany([id])).missing.length === 1, {
      timeoutMs: 15_000,
      intervalMs: 50,
      what: 'the memory to be past its expiry',
    });
    const { sweeps } = await tenant.compact({ sweeps: ['expire'] });
    expect(sweeps?.expired).toBe(1);
  });
});

describe('importance rule', () => {
  it('drops old memories under the importance threshold and keeps important and permanent ones', async () => {
    const tenant = await stack.client('importance');
    const longAgo = new Date(Date.now() - 40 * DAY).toISOString();
    const [_unimportant, important, permanent] = await tenant.storeMany(
      [
        {
          text: 'Greeting exchanged with the on-call engineer',
          importance: 0.1,
          createdAt: longAgo,
        },
        {
          text: 'The checkout service needs the payments queue to be drained before deploys',
          importance: 0.8,
          createdAt: longAgo,
        },
        {
          text: 'The billing service depends on the ledger database',
          importance: 0.1,
          tags: ['permanent'],
          createdAt: longAgo,
        },
      ],
      { wait: 'queryable' },
    );
    await tenant.compact({ sweeps: ['importance'] });
    const left = (await tenant.list({ limit: 10 })).memories.map((record) => record.id).sort();
    expect(left).toEqual([important?.id, permanent?.id].sort());
  });
});

describe('tiers', () => {
  it('holds the tier capacities (5 short, 8 mid) under a stream of 30 stores, demoting the rest to long', async () => {
    for (let batch = 0; batch < 3; batch++) {
      await memory.storeMany(
        Array.from({ length: 10 }, (_, index) => ({
          agentId: 'tier-agent',
          namespace: 'tiers',
          text: `Observation ${batch * 10 + index} about queue depth ${batch * 37 + index * 11} on shard ${index}`,
          importance: ((batch * 10 + index) % 10) / 10,
        })),
        { wait: 'queryable' },
      );
    }
    const byTier = await waitFor(
      async () => {
        const stats = await memory.stats({ namespace: 'tiers' });
        return stats.byTier.short === 5 && stats.byTier.mid === 8 ? stats.byTier : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'tiers at capacity' },
    );
    // Nothing deleted: the long tier keeps its overflow by default (TIER_OVERFLOW long=keep).
    expect(byTier).toEqual({ short: 5, mid: 8, long: 17 });
  });
});

describe('audit', () => {
  it('reports the seeded near duplicates and stale memories', async () => {
    const [first, second, old] = await memory.storeMany(
      [
        {
          namespace: 'audit',
          text: 'The payments service depends on the ledger database and the fraud scoring API',
          tags: ['payments'],
        },
        {
          namespace: 'audit',
          text: 'The payments service depends on the ledger database and also the fraud scoring API',
          tags: ['copy'],
          metadata: { source: 'daemon' },
        },
        {
          namespace: 'audit',
          text: 'Legacy cron host cron-01 was decommissioned',
          createdAt: new Date(Date.now() - 120 * DAY).toISOString(),
        },
      ],
      { wait: 'queryable' },
    );
    const audit = await memory.audit({ namespace: 'audit', staleDays: 90 });
    expect({
      duplicates: audit.duplicates.map((pair) => [...pair.ids].sort()),
      stale: audit.stale.map((entry) => entry.id),
    }).toEqual({
      duplicates: [[first?.memoryId, second?.memoryId].sort()],
      stale: [old?.id],
    });
  });
});

describe('near-duplicate sweep', () => {
  /** The seeded near duplicates (tagged `payments` and `copy`) still listed. */
  async function paymentsDuplicates(): Promise<MemoryRecord[]> {
    return (await memory.list({ filter: { namespace: 'audit' }, limit: 10 })).memories.filter(
      (record) => record.text.startsWith('The payments service'),
    );
  }
  let seeded: string[] = [];

  beforeAll(async () => {
    seeded = (await paymentsDuplicates()).map((record) => record.id);
    await memory.compact({ sweeps: ['duplicates'] });
  });

  it('merges the seeded near duplicates into one memory with both occurrences and the union of tags', async () => {
    const left = await paymentsDuplicates();
    expect(left.map((record) => [record.occurrences, [...record.tags].sort()])).toEqual([
      [2, ['copy', 'payments']],
    ]);
  });

  it("records MERGE with the merged-away source in the surviving memory's history", async () => {
    const [survivor] = await paymentsDuplicates();
    const merges = (await memory.history(survivor?.id as string))
      .filter((entry) => entry.event === 'MERGE')
      .map((entry) => entry.details?.sourceIds);
    expect(merges).toEqual([seeded.filter((id) => id !== survivor?.id)]);
  });
});

describe('crash safety', () => {
  it('loses nothing and doubles nothing when the compactor is killed mid-compaction', async () => {
    const inputs = orchestratorSession('orchestrate-crash', 40);
    const stored = await memory.storeMany(inputs, { wait: 'queryable' });
    await memory.endSession('orchestrate-crash');
    // Kill as soon as the compaction shows: the summary exists or an original is gone.
    await waitFor(
      async () => {
        const records = await sessionMemories('orchestrate-crash');
        return records.length !== 40 || records.some((record) => record.kind === 'summary');
      },
      { timeoutMs: 30_000, intervalMs: 5, what: 'the compaction to start' },
    );
    await stack.restart('compactor', 'SIGKILL');
    const summary = await waitFor(
      async () => {
        const records = await sessionMemories('orchestrate-crash');
        return records.length === 1 && records[0]?.kind === 'summary' ? records[0] : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'the session to become one summary' },
    );
    const summaryEvents = (await memory.history(summary.id)).map((entry) => entry.event);
    // Each original: added once and deleted once (tier moves may add UPDATEs in between).
    const originalEvents = await Promise.all(
      stored.map(async (result) => {
        const events = (await memory.history(result.id)).map((entry) => entry.event);
        const count = (event: string) => events.filter((value) => value === event).length;
        return `ADD×${count('ADD')} DELETE×${count('DELETE')}`;
      }),
    );
    expect({ summaryEvents, originals: [...new Set(originalEvents)] }).toEqual({
      summaryEvents: ['ADD'],
      originals: ['ADD×1 DELETE×1'],
    });
  });
});
