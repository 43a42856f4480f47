import type { MemoryRecord } from '@membus/contracts';
import { describe, expect, it } from 'vitest';
import { extractPatterns } from '../src/domain/patterns.ts';
import { retentionExpiry } from '../src/domain/retention.ts';
import { selectSentences, splitSentences } from '../src/domain/summarise.ts';
import { memory, uuid } from './support/memory-fixture.ts';

describe('retention', () => {
  const policies = [
    { category: 'incidents', days: 90 },
    { category: 'incidents', namespace: 'core', days: null },
  ];

  /** The retention expiry of an `incidents` memory with these fields. */
  const expiryOf = (fields: Partial<MemoryRecord>) =>
    retentionExpiry(policies, memory({ id: uuid(1), categories: ['incidents'], ...fields }));

  it('expires a memory the days after its creation that its policy gives', () => {
    expect(expiryOf({})).toBe('2026-07-30T00:00:00.000Z');
  });

  it('lets the more specific rule keep a memory forever', () => {
    expect(expiryOf({ namespace: 'core' })).toBeUndefined();
  });

  it('never changes an explicit expiry', () => {
    expect(expiryOf({ expiresAt: '2026-06-02T00:00:00.000Z' })).toBeUndefined();
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
