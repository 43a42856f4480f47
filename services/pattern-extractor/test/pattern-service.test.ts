import { defaultTaskTypes, MembusError, type Outcome } from '@membus/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteOutcomeStore } from '../src/adapters/sqlite/sqlite-outcome-store.ts';
import { PatternService } from '../src/domain/pattern-service.ts';
import { TaskTypeClassifier } from '../src/domain/task-types.ts';
import type { MemoryChanges, MemoryPort, MemoryToStore } from '../src/ports/memory-port.ts';
import type { OutcomeStore } from '../src/ports/outcome-store.ts';

const NOW = Date.parse('2026-06-01T00:00:00.000Z');

/** Records writes; `updates` can be made to fail as NOT_FOUND (store still in flight). */
class RecordingMemories implements MemoryPort {
  stored: MemoryToStore[] = [];
  updated: { id: string; changes: MemoryChanges }[] = [];
  notYetStored = false;
  async store(_tenant: string, memory: MemoryToStore) {
    this.stored.push(memory);
  }
  async update(_tenant: string, id: string, changes: MemoryChanges) {
    if (this.notYetStored) throw new MembusError('NOT_FOUND', `no memory ${id}`);
    this.updated.push({ id, changes });
  }
}

let sequence = 0;
function outcome(fields: Partial<Outcome> = {}): Outcome {
  sequence++;
  return {
    v: 1,
    id: `01900000-0000-4000-8000-${sequence.toString(16).padStart(12, '0')}`,
    namespace: 'deployment',
    taskType: 'deployment',
    success: true,
    durationMs: 40_000,
    steps: ['install', 'build', 'deploy'],
    config: { platform: 'vercel' },
    metadata: {},
    occurredAt: new Date(NOW - 60_000 * sequence).toISOString(),
    ...fields,
  };
}

let store: OutcomeStore;
let memories: RecordingMemories;
let service: PatternService;

beforeEach(() => {
  store = openSqliteOutcomeStore({ path: ':memory:' });
  memories = new RecordingMemories();
  service = new PatternService({
    store,
    memories,
    classifier: new TaskTypeClassifier({ taskTypes: defaultTaskTypes, method: 'rules' }),
    thresholds: { minSupport: 3, minConfidence: 0.3, failureMinCount: 2 },
    recentWindowDays: 30,
    clock: () => NOW,
  });
});
afterEach(async () => {
  await service.close();
  await store.close();
});

const ingest = (outcomes: Outcome[]) =>
  service.ingest(outcomes.map((value) => ({ tenant: 't1', outcome: value })));

describe('PatternService.ingest', () => {
  it('stores each outcome as a memory whose id is the outcome id', async () => {
    const first = outcome();
    await ingest([first]);
    expect(
      memories.stored.filter((memory) => memory.kind === 'outcome').map((memory) => memory.id),
    ).toEqual([first.id]);
  });

  it('leaves every metric unchanged when the same outcomes are replayed', async () => {
    const outcomes = [
      outcome(),
      outcome({ success: false, error: 'boom 1' }),
      outcome({ durationMs: 10 }),
    ];
    await ingest(outcomes);
    const before = await service.metrics('t1', { v: 1 });
    await ingest(outcomes);
    expect(await service.metrics('t1', { v: 1 })).toEqual(before);
  });

  it('reports a replayed outcome as not inserted', async () => {
    const first = outcome();
    await ingest([first]);
    const [result] = await ingest([first]);
    expect(result).toEqual({ ok: true, inserted: false, taskType: 'deployment' });
  });

  it('infers a missing task type from the request text', async () => {
    const [result] = await ingest([
      outcome({
        taskType: undefined,
        namespace: undefined,
        request: 'Write unit tests for the cart',
      }),
    ]);
    expect(result).toMatchObject({ ok: true, taskType: 'testing' });
  });

  it('stores a pattern memory once a variant has the support it needs', async () => {
    await ingest([outcome(), outcome(), outcome()]);
    const patterns = memories.stored.filter((memory) => memory.kind === 'pattern');
    expect(patterns.map((memory) => memory.metadata?.patternType).sort()).toEqual([
      'configuration',
      'workflow',
    ]);
  });

  it('stores no pattern memory below the support threshold', async () => {
    await ingest([outcome(), outcome()]);
    expect(memories.stored.filter((memory) => memory.kind === 'pattern')).toEqual([]);
  });

  it('updates the pattern memory (same id) as its numbers move', async () => {
    await ingest([outcome(), outcome(), outcome()]);
    const workflow = memories.stored.find((memory) => memory.metadata?.patternType === 'workflow');
    await ingest([outcome({ success: false, error: 'Build failed' })]);
    expect(memories.updated.map((update) => update.id)).toContain(workflow?.id);
  });

  it('retries an update that found no memory yet, and then writes it', async () => {
    await ingest([outcome(), outcome(), outcome()]);
    memories.notYetStored = true;
    await ingest([outcome()]);
    memories.notYetStored = false;
    await service.syncPatternMemories();
    expect([memories.updated.length > 0, service.pendingPatternKeys]).toEqual([true, 0]);
  });

  it('stores a failure pattern memory once the same failure is seen twice', async () => {
    await ingest([
      outcome({ success: false, error: 'Token expired for deployment dpl-123' }),
      outcome({ success: false, error: 'Token expired for deployment dpl-987' }),
    ]);
    const failures = memories.stored.filter((memory) => memory.metadata?.patternType === 'failure');
    expect(failures.map((memory) => memory.metadata?.count)).toEqual([2]);
  });
});

describe('PatternService.patterns', () => {
  it('infers the task type of a patterns request from its text', async () => {
    await ingest([outcome()]);
    const reply = await service.patterns('t1', {
      v: 1,
      request: 'Deploy the web app to Vercel',
      minSuccessRate: 0,
      minSupport: 1,
      objective: 'success_rate',
      variantKinds: ['steps'],
      limit: 10,
      includeFailures: true,
    });
    expect([reply.taskType, reply.inferred, reply.patterns.length]).toEqual([
      'deployment',
      true,
      1,
    ]);
  });
});

describe('PatternService.metrics', () => {
  it('counts only outcomes inside the recent window as recent', async () => {
    await ingest([
      outcome(),
      outcome({ occurredAt: new Date(NOW - 40 * 86_400_000).toISOString() }),
    ]);
    const reply = await service.metrics('t1', { v: 1 });
    expect([reply.overall.allTime.executions, reply.overall.recent.executions]).toEqual([2, 1]);
  });
});
