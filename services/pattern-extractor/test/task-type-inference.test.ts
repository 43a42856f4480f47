import { defaultTaskTypes } from '@membus/contracts';
import { describe, expect, it } from 'vitest';
import { TaskTypeClassifier } from '../src/domain/task-types.ts';
import { labelledRequests } from '../src/testing/index.ts';

describe('task-type inference with keyword rules only', () => {
  it('labels at least 85 % of the labelled requests right', async () => {
    const classifier = new TaskTypeClassifier({ taskTypes: defaultTaskTypes, method: 'rules' });
    let correct = 0;
    for (const { text, taskType } of labelledRequests) {
      if ((await classifier.classify(text)).taskType === taskType) correct++;
    }
    const accuracy = correct / labelledRequests.length;
    console.log(
      `task-type inference (rules): ${correct}/${labelledRequests.length} = ${(accuracy * 100).toFixed(1)} %`,
    );
    expect(accuracy).toBeGreaterThanOrEqual(0.85);
  });

  it('falls back to general when no rule matches', async () => {
    const classifier = new TaskTypeClassifier({ taskTypes: defaultTaskTypes, method: 'rules' });
    expect((await classifier.classify('zxqv wpl')).taskType).toBe('general');
  });

  it('recognises a configured task type without a built-in definition by its words', async () => {
    const classifier = new TaskTypeClassifier({
      taskTypes: [...defaultTaskTypes, 'security_review'],
      method: 'rules',
    });
    expect((await classifier.classify('Run a security review of the auth module')).taskType).toBe(
      'security_review',
    );
  });
});

describe('task-type inference with centroids', () => {
  it('picks the type whose centroid is nearest', async () => {
    // A two-word toy embedding: axis 0 = "ship", axis 1 = "chart".
    const embed = async (texts: string[]) =>
      texts.map((text) => {
        const vector = new Float32Array([
          /ship|deploy|release/i.test(text) ? 1 : 0,
          /chart|data|analy/i.test(text) ? 1 : 0,
        ]);
        const norm = Math.hypot(vector[0] as number, vector[1] as number) || 1;
        return vector.map((value) => value / norm);
      });
    const classifier = new TaskTypeClassifier({
      taskTypes: ['deployment', 'data_analysis'],
      method: 'centroid',
      embed,
    });
    expect((await classifier.classify('ship it')).taskType).toBe('deployment');
  });

  it('still answers from rules in hybrid mode when embedding fails', async () => {
    const classifier = new TaskTypeClassifier({
      taskTypes: defaultTaskTypes,
      method: 'hybrid',
      embed: async () => {
        throw new Error('embedder down');
      },
    });
    expect((await classifier.classify('Deploy the API to Kubernetes')).taskType).toBe('deployment');
  });
});
