/**
 * `hnsw.efSearch` is each search's, not the graph's: given at an open, it applies to the graph
 * that open loads (an operator raises it for an index of millions and restarts; nothing is
 * rebuilt), and status() says which is in use.
 */
import { seededUnitVectors, testItem } from '@membus/vector-index/testing';
import { describe, expect, it } from 'vitest';
import { graphSearchedStores } from './helpers/graph-searched-index.ts';

const TENANT = 'ef';
// Random directions in 128 dimensions: the hardest data for a graph, so a small efSearch shows.
const DIMENSION = 128;
const COUNT = 3_000;
const QUERIES = 60;
const LIMIT = 10;
const data = seededUnitVectors(COUNT, DIMENSION, 11);
const queries = seededUnitVectors(QUERIES, DIMENSION, 12);

/** The exact top LIMIT of a query, by the dot product of unit vectors. */
function exactTop(query: Float32Array): string[] {
  const scored = data.map((vector, n) => {
    let dot = 0;
    for (let at = 0; at < DIMENSION; at++) dot += vector[at]! * query[at]!;
    return { n, dot };
  });
  scored.sort((a, b) => b.dot - a.dot);
  return scored.slice(0, LIMIT).map(({ n }) => testItem(n, data[n]!).record.id);
}

describe('efSearch', () => {
  const stores = graphSearchedStores('membus-ef-search-', DIMENSION);

  it('applies to the graph an open loads, and status() names it', async () => {
    const built = await stores.filled(
      data.map((vector, n) => testItem(n, vector, { tenant: TENANT })),
    );
    expect(built.status().hnsw).toEqual({ m: 32, efConstruction: 128, efSearch: 64 });
    await built.close();
    const exact = queries.map(exactTop);

    const recallWith = async (efSearch: number) => {
      const index = await stores.open({ hnsw: { efSearch } });
      expect(index.status()).toMatchObject({
        hnsw: { efSearch },
        graphRebuilds: { parameters: 0 },
      });
      let found = 0;
      for (const [q, query] of queries.entries()) {
        const { hits, plan } = await index.search({
          tenant: TENANT,
          vector: query,
          limit: LIMIT,
          now: 0,
        });
        expect(plan).toBe('ann');
        const expected = new Set(exact[q]);
        found += hits.filter((hit) => expected.has(hit.record.id)).length;
      }
      await index.close({ persistGraph: false });
      return found / (QUERIES * LIMIT);
    };
    // The same saved graph both times: only the search's breadth differs.
    const narrow = await recallWith(LIMIT);
    console.log('RECALL', narrow);
    const wide = await recallWith(400);
    console.log('RECALL', wide);
    expect(wide).toBeGreaterThan(0.97);
    expect(wide).toBeGreaterThan(narrow);
  });

  it('refuses a breadth that is not a whole number of at least 1', async () => {
    await expect(stores.open({ hnsw: { efSearch: 0 } })).rejects.toThrow(
      'hnsw.efSearch must be a whole number of at least 1, not 0',
    );
  });
});
