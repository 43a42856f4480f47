/**
 * Issue 19, finding 4: a store is never answered `stored` for a memory that is not there or
 * that holds another text; `mergeSimilar: false` keeps even exact duplicates apart; a merged
 * duplicate never loses the earlier memory's metadata silently; query scores are finite.
 */
import { randomUUID } from 'node:crypto';
import { QueryRequestSchema } from '@membus/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { embeddedOf, openServiceFixture, type ServiceFixture, TENANT } from './service-fixture.ts';

let fixture: ServiceFixture;

beforeEach(async () => {
  fixture = await openServiceFixture();
});

afterEach(async () => {
  await fixture[Symbol.asyncDispose]();
});

const ingestOne = async (store: Parameters<typeof embeddedOf>[0]) => {
  const [result] = await fixture.service.ingest([embeddedOf(store)]);
  return result;
};

describe('a repeated store id', () => {
  it('is answered as the first time while its memory is there (redelivery)', async () => {
    const id = randomUUID();
    expect(await ingestOne({ id, text: 'Alice deploys on Fridays' })).toMatchObject({
      ok: true,
      status: 'stored',
      replayed: false,
    });
    expect(await ingestOne({ id, text: 'Alice deploys on Fridays' })).toEqual({
      ok: true,
      status: 'stored',
      memoryId: id,
      replayed: true,
    });
    expect((await fixture.service.history(TENANT, id)).entries).toHaveLength(1);
  });

  it('is answered as the first time after an update changed the text', async () => {
    const id = randomUUID();
    await ingestOne({ id, text: 'Alice deploys on Fridays' });
    await fixture.service.update(TENANT, { v: 1, id, text: 'Alice deploys on Mondays' });
    expect(await ingestOne({ id, text: 'Alice deploys on Fridays' })).toMatchObject({
      ok: true,
      status: 'stored',
      replayed: true,
    });
  });

  it('of a deleted memory fails with CONFLICT, never `stored` for an absent memory', async () => {
    const id = randomUUID();
    await ingestOne({ id, text: 'Alice deploys on Fridays' });
    await fixture.service.delete(TENANT, { v: 1, ids: [id] });
    const result = await ingestOne({ id, text: 'Alice deploys on Fridays' });
    expect(result).toMatchObject({ ok: false });
    if (result?.ok !== false) throw new Error('expected a failure');
    expect(result.error.code).toBe('CONFLICT');
    expect(result.error.details).toMatchObject({ id, memoryId: id, reason: 'deleted' });
    // The delete sticks: a late retry does not bring the memory back.
    expect((await fixture.service.get(TENANT, [id])).missing).toEqual([id]);
  });

  it('whose duplicate target was deleted fails with CONFLICT too', async () => {
    const first = randomUUID();
    const second = randomUUID();
    await ingestOne({ id: first, text: 'Alice deploys on Fridays' });
    expect(await ingestOne({ id: second, text: 'Alice deploys on Fridays' })).toMatchObject({
      status: 'duplicate',
      memoryId: first,
    });
    await fixture.service.delete(TENANT, { v: 1, ids: [first] });
    const result = await ingestOne({ id: second, text: 'Alice deploys on Fridays' });
    expect(result).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
  });

  it('of a memory merged into another answers `merged` with the memory that holds it', async () => {
    const target = randomUUID();
    const source = randomUUID();
    await ingestOne({ id: target, text: 'Deploys need a change ticket' });
    await ingestOne({ id: source, text: 'Every deploy needs a ticket' });
    await fixture.service.merge(TENANT, { v: 1, targetId: target, sourceIds: [source] });
    expect(await ingestOne({ id: source, text: 'Every deploy needs a ticket' })).toEqual({
      ok: true,
      status: 'merged',
      memoryId: target,
      replayed: true,
    });
  });

  it('with a different text fails with CONFLICT and keeps the first text (another batch)', async () => {
    const id = randomUUID();
    await ingestOne({ id, text: 'first text' });
    const result = await ingestOne({ id, text: 'second text' });
    expect(result).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
    expect((await fixture.service.get(TENANT, [id])).memories.map((m) => m.text)).toEqual([
      'first text',
    ]);
  });

  it('with a different text fails with CONFLICT in the same batch', async () => {
    const id = randomUUID();
    const results = await fixture.service.ingest([
      embeddedOf({ id, text: 'first text' }),
      embeddedOf({ id, text: 'second text' }),
      embeddedOf({ id, text: 'first text' }),
    ]);
    expect(results.map((result) => (result.ok ? result.status : result.error.code))).toEqual([
      'stored',
      'CONFLICT',
      'stored',
    ]);
    expect((await fixture.service.get(TENANT, [id])).memories.map((m) => m.text)).toEqual([
      'first text',
    ]);
  });
});

describe('exact duplicates', () => {
  /** Stores 'Okay.' for user u with dia_id D1:1, then again as `second` with `repeat`'s fields. */
  const storeOkayTwice = async (repeat: Partial<Parameters<typeof embeddedOf>[0]>) => {
    const [first, second] = [randomUUID(), randomUUID()];
    await ingestOne({ id: first, userId: 'u', text: 'Okay.', metadata: { dia_id: 'D1:1' } });
    const result = await ingestOne({ id: second, userId: 'u', text: 'Okay.', ...repeat });
    return { first, second, result };
  };

  it('stay two memories with mergeSimilar: false, each with its metadata', async () => {
    const { first, second, result } = await storeOkayTwice({
      metadata: { dia_id: 'D1:2' },
      mergeSimilar: false,
    });
    expect(result).toMatchObject({ ok: true, status: 'stored', memoryId: second });
    const { memories } = await fixture.service.get(TENANT, [first, second]);
    expect(memories.map((memory) => [memory.id, memory.metadata.dia_id])).toEqual([
      [first, 'D1:1'],
      [second, 'D1:2'],
    ]);
  });

  it('merged by default keep the earlier metadata; the newer values are in the history', async () => {
    const { first, second, result } = await storeOkayTwice({
      metadata: { dia_id: 'D1:2', speaker: 'Bob' },
    });
    expect(result).toMatchObject({ ok: true, status: 'duplicate', memoryId: first });
    const [memory] = (await fixture.service.get(TENANT, [first])).memories;
    expect(memory?.metadata).toEqual({ dia_id: 'D1:1', speaker: 'Bob' });
    expect(memory?.occurrences).toBe(2);
    const { entries } = await fixture.service.history(TENANT, first);
    expect(entries.map((entry) => entry.event)).toEqual(['ADD', 'DUPLICATE']);
    expect(entries[1]?.details).toMatchObject({ storeId: second, metadata: { dia_id: 'D1:2' } });
  });
});

describe('query scores', () => {
  it('are finite for a query vector at the float32 edge', async () => {
    await ingestOne({ id: randomUUID(), text: 'Alice deploys on Fridays' });
    const request = QueryRequestSchema.parse({
      v: 1,
      vector: [3.4e38, -3.4e38, 3.4e38, 1, 0, 0, 0, 1e-30],
      topK: 5,
    });
    const { hits } = await fixture.service.query(TENANT, request);
    expect(hits).toHaveLength(1);
    for (const hit of hits) {
      expect(Number.isFinite(hit.score)).toBe(true);
      expect(Number.isFinite(hit.scores.relevance)).toBe(true);
    }
  });

  it('refuse a zero query vector with INVALID_MESSAGE', async () => {
    const request = QueryRequestSchema.parse({ v: 1, vector: new Array(8).fill(0), topK: 5 });
    await expect(fixture.service.query(TENANT, request)).rejects.toMatchObject({
      code: 'INVALID_MESSAGE',
    });
  });
});
