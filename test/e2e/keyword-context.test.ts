/**
 * A memory's keyword-only `context` through the stack (issue 24): stored and returned on the
 * record, its secrets redacted, searched by the keyword leg, never embedded.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { stackForFile } from '../helpers/stack.ts';

const file = stackForFile('context');
let answerId: string;

beforeAll(async () => {
  const [answer] = await file.client.storeMany(
    [
      {
        userId: 'mel',
        text: 'Caroline: Yes, last Tuesday!',
        context: 'Melanie: Did you go to the pottery class? password=hunter2!',
        mergeSimilar: false,
      },
      { userId: 'mel', text: 'Melanie: I painted a sunrise by the lake.', mergeSimilar: false },
    ],
    { wait: 'queryable' },
  );
  answerId = answer?.memoryId ?? answer?.id ?? '';
}, 90_000);

describe('keyword context', () => {
  it('finds a memory by a word only its context holds', async () => {
    const { hits } = await file.client.query('pottery class', {
      filter: { userId: 'mel' },
      mode: 'keyword',
      topK: 5,
    });
    expect(hits.map((hit) => hit.memory.id)).toEqual([answerId]);
  });

  it('returns the context on the record, its secrets redacted', async () => {
    const memory = await file.client.get(answerId);
    expect(memory?.context).toBe(
      'Melanie: Did you go to the pottery class? password=[REDACTED:credential-assignment]!',
    );
  });
});
