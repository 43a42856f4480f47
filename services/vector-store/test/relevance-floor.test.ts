import { randomUUID } from 'node:crypto';
import { packVector } from '@membus/contracts';
import { describe, expect, it } from 'vitest';
import { belowRelevanceFloor, relevanceFloor } from '../src/domain/relevance-floor.ts';
import { DIMENSION, embeddedOf, openServiceFixture, TENANT, vectorOf } from './service-fixture.ts';

const FLOORED_MODEL = 'e5-small-v2-int8';
const floor = relevanceFloor(FLOORED_MODEL) as number;

const cosine = (a: Float32Array, b: Float32Array) =>
  a.reduce((sum, value, index) => sum + value * (b[index] as number), 0);

describe('relevance floor', () => {
  it('has a floor for the default sentence model and none for a model it was not calibrated on', () => {
    expect([
      relevanceFloor(FLOORED_MODEL),
      relevanceFloor('test'),
      relevanceFloor('toString'),
    ]).toEqual([floor, undefined, undefined]);
    expect(floor).toBeGreaterThan(0);
  });

  it('judges by the best cosine among the hits, against the floor of that hit’s model', () => {
    const hit = (dense: number | undefined, model = FLOORED_MODEL) => ({
      dense,
      model: () => model,
    });
    expect([
      belowRelevanceFloor([hit(floor - 0.1), hit(floor - 0.01)]),
      belowRelevanceFloor([hit(floor - 0.1), hit(floor)]),
      belowRelevanceFloor([hit(floor - 0.1, 'test'), hit(floor - 0.2)]),
      belowRelevanceFloor([hit(floor + 0.1, 'test'), hit(floor - 0.2)]),
      belowRelevanceFloor([hit(undefined), hit(undefined)]),
      belowRelevanceFloor([]),
    ]).toEqual([true, false, false, false, false, false]);
  });
});

describe('query with the relevance floor', () => {
  const memory = 'the release train leaves on friday at noon';
  const related = memory;
  // A text whose vector (the fixture's, random per text) is far from the memory's.
  const unrelated = 'what is the capital of peru';

  async function stack(model: string) {
    const fixture = await openServiceFixture();
    const item = embeddedOf({ id: randomUUID(), text: memory, userId: 'u1' });
    const [result] = await fixture.service.ingest([
      { ...item, embedded: { ...item.embedded, model } },
    ]);
    expect(result?.ok).toBe(true);
    return fixture;
  }

  it('returns no hits for a text query unrelated to every memory; minScore overrides it', async () => {
    expect(cosine(vectorOf(unrelated), vectorOf(memory))).toBeLessThan(floor);
    await using fixture = await stack(FLOORED_MODEL);
    const ask = async (
      text: string,
      extra: { minScore?: number; mode?: 'dense' | 'keyword' | 'hybrid' } = {},
    ) =>
      (
        await fixture.service.query(TENANT, {
          v: 1,
          text,
          topK: 5,
          recencyHalfLifeHours: 168,
          ...extra,
        })
      ).hits.length;
    expect({
      related: await ask(related),
      relatedDense: await ask(related, { mode: 'dense' }),
      unrelated: await ask(unrelated),
      unrelatedDense: await ask(unrelated, { mode: 'dense' }),
      unrelatedFloorOff: await ask(unrelated, { minScore: 0 }),
      unrelatedDenseFloorOff: await ask(unrelated, { mode: 'dense', minScore: -1 }),
    }).toEqual({
      related: 1,
      relatedDense: 1,
      unrelated: 0,
      unrelatedDense: 0,
      unrelatedFloorOff: 1,
      unrelatedDenseFloorOff: 1,
    });
  });

  it('leaves keyword queries, vector queries and models without a floor alone', async () => {
    await using floored = await stack(FLOORED_MODEL);
    await using unfloored = await stack('test');
    const keyword = await floored.service.query(TENANT, {
      v: 1,
      text: 'capital of the release train',
      mode: 'keyword',
      topK: 5,
      recencyHalfLifeHours: 168,
    });
    const byVector = await floored.service.query(TENANT, {
      v: 1,
      vector: [...vectorOf(unrelated)],
      topK: 5,
      recencyHalfLifeHours: 168,
    });
    const otherModel = await unfloored.service.query(TENANT, {
      v: 1,
      text: unrelated,
      topK: 5,
      recencyHalfLifeHours: 168,
    });
    expect([keyword.hits.length, byVector.hits.length, otherModel.hits.length]).toEqual([1, 1, 1]);
  });

  it('judges a small topK by the best cosine of the candidates, not of the hits it returns', async () => {
    const question = 'release train schedule';
    const q = vectorOf(question);
    // A unit vector at cosine `c` to the query (the rest orthogonal to it).
    const at = (c: number) => {
      const other = Float32Array.from({ length: DIMENSION }, (_, i) => (i === 0 ? 1 : 0));
      const dot = cosine(other, q);
      const orthogonal = other.map((value, i) => value - dot * (q[i] as number));
      const norm = Math.hypot(...orthogonal);
      return q.map(
        (value, i) => c * value + Math.sqrt(1 - c * c) * ((orthogonal[i] as number) / norm),
      );
    };
    await using fixture = await openServiceFixture();
    const memories = [
      // The query's meaning, none of its words: cosine 1, no keyword score.
      { text: 'departure timetable of the deployment convoy', vector: q },
      // Its words, another meaning: the keyword leg ranks it first, fusion too (0.4 + 0.6 · 2/3).
      { text: 'release train schedule', vector: at(0.5) },
      { text: 'lunch menu of the canteen', vector: at(-0.5) },
    ];
    const results = await fixture.service.ingest(
      memories.map(({ text, vector }) => {
        const item = embeddedOf({ id: randomUUID(), text, userId: 'u1' });
        return {
          ...item,
          embedded: { ...item.embedded, vector: packVector(vector), model: FLOORED_MODEL },
        };
      }),
    );
    expect(results.map((result) => result.ok)).toEqual([true, true, true]);
    const top = await fixture.service.query(TENANT, {
      v: 1,
      text: question,
      topK: 1,
      recencyHalfLifeHours: 168,
    });
    expect(top.hits.map((hit) => [hit.memory.text, Number(hit.scores.dense?.toFixed(3))])).toEqual([
      ['release train schedule', 0.5],
    ]);
  });
});
