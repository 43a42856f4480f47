import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_NOW, testItem, testMemoryId } from '@membus/vector-index/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { openEmbeddedVectorIndex } from '../src/index.ts';

// A memory's `context` (keyword-only words, e.g. the conversation turn before it) is searched by
// the keyword leg beside its text, kept across a restart, and returned on the record.

const directories: string[] = [];
afterEach(async () => {
  for (const directory of directories.splice(0))
    await rm(directory, { recursive: true, force: true });
});

function unit(index: number): Float32Array {
  const vector = new Float32Array(4);
  vector[index] = 1;
  return vector;
}

async function keywordIds(
  index: Awaited<ReturnType<typeof openEmbeddedVectorIndex>>,
  text: string,
): Promise<string[]> {
  const result = await index.search({
    tenant: 'test',
    text,
    mode: 'keyword',
    limit: 5,
    now: TEST_NOW,
  });
  return result.hits.map((hit) => hit.record.id);
}

describe('keyword context', () => {
  it('finds a memory by a word of its context only, before and after a restart', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'membus-context-'));
    directories.push(directory);
    const open = () => openEmbeddedVectorIndex({ dimension: 4, directory });
    const index = await open();
    await index.upsert([
      testItem(1, unit(0), {
        text: 'Caroline: Yes, last Tuesday!',
        context: 'Melanie: Did you go to the pottery class?',
      }),
      testItem(2, unit(1), { text: 'Melanie: I painted a sunrise by the lake.' }),
    ]);
    const before = await keywordIds(index, 'pottery class');
    await index.close();
    const reopened = await open();
    const after = await keywordIds(reopened, 'pottery class');
    const [record] = await reopened.get('test', [testMemoryId(1)]);
    await reopened.close();
    expect({ before, after, context: record?.context }).toEqual({
      before: [testMemoryId(1)],
      after: [testMemoryId(1)],
      context: 'Melanie: Did you go to the pottery class?',
    });
  });

  it('forgets the old context when a memory is written again without one', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'membus-context-'));
    directories.push(directory);
    const index = await openEmbeddedVectorIndex({ dimension: 4, directory });
    await index.upsert([testItem(1, unit(0), { text: 'Yes!', context: 'pottery class' })]);
    await index.upsert([testItem(1, unit(0), { text: 'Yes!' })]);
    const found = await keywordIds(index, 'pottery');
    await index.close();
    expect(found).toEqual([]);
  });
});
