import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { countByCategory, loadDataset, questionCategories } from '../src/dataset.ts';

// The committed labelled set: `pnpm eval` reads it, so it must exist and stay valid.
const datasetPath = join(dirname(fileURLToPath(import.meta.url)), '..', 'data', 'retrieval.json');

describe('eval/data/retrieval.json', () => {
  it('loads through the real loader and has every category with at least 15 questions', async () => {
    const dataset = await loadDataset(datasetPath);
    expect(dataset.memories.length).toBeGreaterThanOrEqual(200);
    expect(dataset.questions.length).toBeGreaterThanOrEqual(90);
    const counts = countByCategory(dataset);
    expect(Object.keys(counts)).toEqual([...questionCategories]);
    for (const category of questionCategories) expect(counts[category]).toBeGreaterThanOrEqual(15);
  });

  it('gives multi-scope questions anyOf selectors and recency questions a recency weight', async () => {
    const dataset = await loadDataset(datasetPath);
    for (const question of dataset.questions) {
      if (question.category === 'multi-scope')
        expect(question.filter?.anyOf?.length, question.id).toBeGreaterThanOrEqual(2);
      if (question.category === 'recency')
        expect(question.weights?.recency, question.id).toBeGreaterThan(0);
      if (question.category === 'filtered') expect(question.filter, question.id).toBeDefined();
    }
  });
});
