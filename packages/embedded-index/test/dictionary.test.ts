import { describe, expect, it } from 'vitest';
import { Dictionary } from '../src/dictionary.ts';
import type { SlotPayload } from '../src/payload-index.ts';
import { SlotTable } from '../src/slot-table.ts';

describe('Dictionary', () => {
  it('gives one id per key, counted by use, and forgets a value at its last release', () => {
    const labels = new Dictionary<string>();
    const first = labels.use('session-1', 'session-1');
    expect(labels.use('session-1', 'session-1')).toBe(first);
    expect(first).not.toBe(0);
    labels.release(first);
    expect(labels.value(first)).toBe('session-1');
    labels.release(first);
    expect(labels.value(first)).toBeUndefined();
    expect(labels.idOf('session-1')).toBeUndefined();
  });

  it('reuses a forgotten id for the next new value', () => {
    const labels = new Dictionary<string>();
    const gone = labels.use('session-1', 'session-1');
    const kept = labels.use('session-2', 'session-2');
    labels.release(gone);
    expect(labels.use('session-3', 'session-3')).toBe(gone);
    expect(labels.value(gone)).toBe('session-3');
    expect(labels.value(kept)).toBe('session-2');
  });

  it('treats id 0 as no value', () => {
    const labels = new Dictionary<string>();
    labels.release(0);
    expect(labels.value(0)).toBeUndefined();
    expect(labels.use('a', 'a')).toBe(1);
  });
});

describe('SlotTable labels', () => {
  const payload = (id: string, sessionId: string | undefined): SlotPayload => ({
    tenant: 't1',
    seq: 1,
    importance: 0.5,
    id,
    scope: 'session',
    sessionId,
    kind: 'fact',
    tier: 'working',
    categories: ['a', 'b'],
    tags: [],
    createdAt: 1,
    updatedAt: 1,
    metadata: {},
  });

  it('keeps a rewritten slot matching and forgets the labels no slot holds any more', () => {
    const slots = new SlotTable();
    slots.set(0, payload('m0', 'session-1'));
    slots.set(1, payload('m1', 'session-1'));
    slots.set(0, payload('m0', 'session-2'));
    const inSession = (sessionId: string) => slots.predicate('t1', { sessionId }, 0);
    expect([0, 1].filter(inSession('session-1'))).toEqual([1]);
    expect([0, 1].filter(inSession('session-2'))).toEqual([0]);
    expect(slots.payloadAt(0)).toMatchObject({
      id: 'm0',
      sessionId: 'session-2',
      categories: ['a', 'b'],
    });
    slots.set(1, undefined);
    expect(slots.labels.idOf('session-1')).toBeUndefined();
    expect(slots.payloadAt(1)).toBeUndefined();
    slots.set(0, undefined);
    expect(slots.labels.idOf('t1')).toBeUndefined();
    expect(slots.lists.idOf('a\u0000b')).toBeUndefined();
  });
});
