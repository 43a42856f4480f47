import { describe, expect, it } from 'vitest';
import { handedOverOutcomeId, outcomesToHandOver } from '../src/domain/outcomes.ts';
import {
  compactorOver,
  recordingOutcomes,
  sessionMemory,
  uuid,
} from './support/session-fixture.ts';

const outcome = (index: number, metadata: Record<string, unknown>) =>
  sessionMemory(index, { kind: 'outcome', metadata });

describe('outcomes handed to the pattern-extractor', () => {
  it('gives an outcome a stable id derived from, but not equal to, its memory id', () => {
    const first = handedOverOutcomeId(uuid(1));
    const again = handedOverOutcomeId(uuid(1));
    expect({ stable: first === again, distinct: first !== uuid(1) }).toEqual({
      stable: true,
      distinct: true,
    });
  });

  it('makes an outcome of an outcome memory, with its derived id and its facts', () => {
    const { outcomes } = outcomesToHandOver([
      outcome(1, { success: false, taskType: 'deployment', durationMs: 1200, error: 'E42 boom' }),
    ]);
    expect(outcomes).toMatchObject([
      {
        id: handedOverOutcomeId(uuid(1)),
        success: false,
        taskType: 'deployment',
        durationMs: 1200,
        error: 'E42 boom',
        agentId: 'orchestrator',
        metadata: { sessionId: 's1' },
      },
    ]);
  });

  it('skips outcome memories without a boolean success', () => {
    expect(outcomesToHandOver([outcome(1, { taskType: 'testing' })])).toEqual({
      outcomes: [],
      skipped: 1,
    });
  });

  it('leaves out outcome memories the pattern-extractor stored itself', () => {
    const { outcomes } = outcomesToHandOver([
      outcome(1, { outcomeId: uuid(1), success: true, taskType: 'testing' }),
    ]);
    expect(outcomes).toEqual([]);
  });

  it('leaves out memories of other kinds', () => {
    const { outcomes } = outcomesToHandOver([sessionMemory(1, { metadata: { success: true } })]);
    expect(outcomes).toEqual([]);
  });

  it('drops an invalid fact but keeps the outcome', () => {
    const { outcomes } = outcomesToHandOver([outcome(1, { success: true, durationMs: 'slow' })]);
    expect(outcomes.map((handed) => [handed.id, handed.durationMs])).toEqual([
      [handedOverOutcomeId(uuid(1)), undefined],
    ]);
  });

  it('publishes the session’s outcomes when it is compacted', async () => {
    const outcomes = recordingOutcomes();
    const { compactor } = compactorOver(
      [
        outcome(1, { success: true, taskType: 'testing' }),
        outcome(2, { success: false, taskType: 'testing' }),
        sessionMemory(3),
      ],
      { outcomes: outcomes.port },
    );
    await compactor.compact('t', 's1');
    expect(outcomes.published.map((handed) => handed.id)).toEqual([
      handedOverOutcomeId(uuid(1)),
      handedOverOutcomeId(uuid(2)),
    ]);
  });

  it('reports outcomes handed over and skipped', async () => {
    const { compactor } = compactorOver(
      [
        outcome(1, { success: true, taskType: 'testing' }),
        outcome(2, { taskType: 'testing' }),
        sessionMemory(3),
      ],
      { outcomes: recordingOutcomes().port },
    );
    const report = await compactor.compact('t', 's1');
    expect([report.outcomesHandedOver, report.outcomesSkipped]).toEqual([1, 1]);
  });

  it('publishes nothing in a dry run', async () => {
    const outcomes = recordingOutcomes();
    const { compactor } = compactorOver(
      [outcome(1, { success: true }), outcome(2, { success: false })],
      { outcomes: outcomes.port },
    );
    await compactor.compact('t', 's1', { dryRun: true });
    expect(outcomes.published).toEqual([]);
  });
});
