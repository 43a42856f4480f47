/**
 * A restart after a clean close restores the keyword index and the int8 codes from the close's
 * snapshot (vectors.f32 serving the exact scores) instead of rebuilding them from every row (restart-snapshot.ts); after
 * anything else — a crash, rows changed behind its back, a damaged or foreign snapshot, a short
 * vector file — it rebuilds from the rows, and answers the same either way.
 */
import { copyFileSync, existsSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IndexedMemory, SearchMode } from '@membus/vector-index';
import { seededRandom, seededUnitVectors, TEST_NOW, testItem } from '@membus/vector-index/testing';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type EmbeddedVectorIndex, openEmbeddedVectorIndex } from '../src/index.ts';

const TENANT = 'restart';
const DIMENSION = 16;
const COUNT = 1_200;
const SNAPSHOT = 'restart.snapshot';

const random = seededRandom(5);
const words = Array.from({ length: 300 }, (_, n) => `term${n}q`);
const textOf = () =>
  Array.from({ length: 4 + Math.floor(random() * 8) }, () => {
    return words[Math.floor(words.length * random() ** 3)];
  }).join(' ');
const data = seededUnitVectors(COUNT + 200, DIMENSION, 17);
const texts = Array.from({ length: COUNT + 200 }, textOf);
const item = (n: number): IndexedMemory =>
  testItem(n, data[n]!, { tenant: TENANT, text: texts[n]!, userId: `user-${n % 5}` });

/** Ids and scores of a fixed set of searches of every mode, and the tenant's counts. */
async function answers(index: EmbeddedVectorIndex) {
  const results: unknown[] = [];
  const modes: SearchMode[] = ['dense', 'keyword', 'hybrid'];
  for (const [position, n] of [3, 250, 999, 1_100].entries())
    for (const mode of modes) {
      const { hits } = await index.search({
        tenant: TENANT,
        ...(mode === 'keyword' ? {} : { vector: data[n]! }),
        ...(mode === 'dense' ? {} : { mode, text: `${words[position]} ${words[40 + (n % 200)]}` }),
        ...(position % 2 === 1 ? { filter: { userId: `user-${n % 5}` } } : {}),
        limit: 10,
        now: TEST_NOW,
      });
      results.push(hits.map((hit) => [hit.record.id, hit.score.toFixed(6)]));
    }
  results.push(await index.stats(TENANT, undefined, TEST_NOW));
  return results;
}

describe('restart from the snapshot of a clean close', () => {
  let directory: string;
  const open: EmbeddedVectorIndex[] = [];

  const openIndex = async () => {
    const index = await openEmbeddedVectorIndex({ directory, dimension: DIMENSION });
    open.push(index);
    return index;
  };
  const closeAll = async () => {
    for (const index of open.splice(0)) await index.close();
  };

  /** A store of COUNT memories, some deleted and some rewritten, closed cleanly; its answers. */
  const buildStore = async () => {
    const index = await openIndex();
    await index.upsert(Array.from({ length: COUNT }, (_, n) => item(n)));
    await index.delete(
      TENANT,
      Array.from({ length: 40 }, (_, n) => item(n * 13).record.id),
    );
    await index.upsert(Array.from({ length: 30 }, (_, n) => item(COUNT + n)));
    await index.whenIndexed();
    const before = await answers(index);
    await closeAll();
    return before;
  };

  /** Opens the store, built from the rows for `reason`; expects `expected` as its answers. */
  const expectRebuilt = async (reason: string | RegExp, expected: unknown[]) => {
    const index = await openIndex();
    expect(index.status().opened).toMatchObject({
      from: 'rows',
      reason: typeof reason === 'string' ? reason : expect.stringMatching(reason),
    });
    expect(await answers(index)).toEqual(expected);
    return index;
  };

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'membus-restart-'));
  });

  afterEach(async () => {
    await closeAll();
    await rm(directory, { recursive: true, force: true });
  });

  it('restores after a clean close and answers exactly as before; keeps taking changes', async () => {
    const before = await buildStore();
    expect(existsSync(join(directory, SNAPSHOT))).toBe(true);

    const index = await openIndex();
    expect(index.status()).toMatchObject({ count: COUNT - 40 + 30, opened: { from: 'snapshot' } });
    expect(await answers(index)).toEqual(before);
    // Used once: nothing vouches for it while the index is open.
    expect(existsSync(join(directory, SNAPSHOT))).toBe(false);

    // New memories, rewritten texts and deletes on top of the restored structures.
    await index.upsert(Array.from({ length: 150 }, (_, n) => item(COUNT + 50 + n)));
    await index.upsert([{ ...item(7), record: { ...item(7).record, text: 'zebra crossing' } }]);
    await index.delete(TENANT, [item(8).record.id]);
    const changed = await answers(index);
    const zebra = await index.search({
      tenant: TENANT,
      mode: 'keyword',
      text: 'zebra',
      limit: 5,
      now: TEST_NOW,
    });
    expect(zebra.hits.map((hit) => hit.record.id)).toEqual([item(7).record.id]);
    await closeAll();

    // The same answers from a rebuild of the rows (no snapshot vouched for) and from the next snapshot.
    const again = await openIndex();
    expect(again.status().opened.from).toBe('snapshot');
    expect(await answers(again)).toEqual(changed);
    await again.close({ persistGraph: false });
    open.splice(0);
    await expectRebuilt('no clean close recorded', changed);
  });

  it('after a crash (no clean close) the next open rebuilds from the rows, with the writes since', async () => {
    await buildStore();
    const index = await openIndex();
    expect(index.status().opened.from).toBe('snapshot');
    // A new text for a memory, its vector kept: neither the count nor the highest sequence
    // number changes, so only the settings row deleted at open tells the snapshot is stale.
    const { vector: _kept, ...textOnly } = item(7);
    await index.upsert([{ ...textOnly, record: { ...textOnly.record, text: 'zebra crossing' } }]);
    // Killed: the store is left as it is, nothing written at close.
    await index.close({ persistGraph: false });
    open.splice(0);

    const reopened = await openIndex();
    expect(reopened.status().opened).toMatchObject({
      from: 'rows',
      reason: 'no clean close recorded',
    });
    const { hits } = await reopened.search({
      tenant: TENANT,
      mode: 'keyword',
      text: 'zebra',
      limit: 5,
      now: TEST_NOW,
    });
    expect(hits.map((hit) => hit.record.id)).toEqual([item(7).record.id]);
  });

  it('rows changed behind the snapshot: rebuilt from the rows', async () => {
    const before = await buildStore();
    const db = new Database(join(directory, 'memories.sqlite'));
    const gone = item(250).record.id;
    db.prepare('DELETE FROM memories WHERE tenant = ? AND id = ?').run(TENANT, gone);
    db.close();

    const index = await openIndex();
    expect(index.status().opened).toMatchObject({
      from: 'rows',
      reason: expect.stringMatching(/rows changed after the snapshot/),
    });
    expect(index.status().count).toBe(COUNT - 40 + 30 - 1);
    const after = JSON.stringify(await answers(index));
    expect(after).not.toContain(gone);
    expect(JSON.stringify(before)).toContain(gone);
  });

  it('a damaged snapshot file: rebuilt from the rows, same answers', async () => {
    const before = await buildStore();
    const path = join(directory, SNAPSHOT);
    const bytes = readFileSync(path);
    bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0xff;
    writeFileSync(path, bytes);

    await expectRebuilt(/checksum/, before);
  });

  it('a snapshot other than the one the close recorded: rebuilt from the rows', async () => {
    const before = await buildStore();
    // Another store's clean close, its snapshot copied over this one's.
    const other = await mkdtemp(join(tmpdir(), 'membus-restart-other-'));
    try {
      const foreign = await openEmbeddedVectorIndex({ directory: other, dimension: DIMENSION });
      await foreign.upsert([item(1)]);
      await foreign.close();
      copyFileSync(join(other, SNAPSHOT), join(directory, SNAPSHOT));
    } finally {
      await rm(other, { recursive: true, force: true });
    }
    await expectRebuilt('the snapshot file is not the one the close recorded', before);
  });

  it('a vector file shorter than the slots: codes and keywords rebuilt from the rows, same answers', async () => {
    const before = await buildStore();
    truncateSync(join(directory, 'vectors.f32'), 100 * DIMENSION * 4);

    await expectRebuilt('vectors.f32 does not hold every vector', before);
    // The file was written again whole: the next clean close vouches for it.
    await closeAll();
    const next = await openIndex();
    expect(next.status().opened.from).toBe('snapshot');
    expect(await answers(next)).toEqual(before);
  });

  /** Byte offset in the snapshot file of the `index`-th section named `name`. */
  const sectionOffset = (bytes: Buffer, name: string, index: number): number => {
    const magic = bytes.indexOf(0x0a) + 1;
    const length = bytes.readUInt32LE(magic);
    const { sections } = JSON.parse(bytes.subarray(magic + 4, magic + 4 + length).toString()) as {
      sections: { name: string; bytes: number }[];
    };
    let offset = magic + 4 + length;
    let seen = 0;
    for (const section of sections) {
      if (section.name === name && seen++ === index) return offset;
      offset += section.bytes;
    }
    throw new Error(`no section ${name} ${index}`);
  };

  it('codes over several pages come back from the snapshot; a damaged page in the middle: rebuilt from the rows', async () => {
    // Three pages of 4,096 slots and part of a fourth.
    const many = 3 * 4_096 + 100;
    const vectors = seededUnitVectors(many, DIMENSION, 23);
    const bigItem = (n: number) =>
      testItem(n, vectors[n]!, { tenant: TENANT, text: texts[n % texts.length]! });
    const first = await openIndex();
    for (let from = 0; from < many; from += 2_000)
      await first.upsert(
        Array.from({ length: Math.min(2_000, many - from) }, (_, n) => bigItem(from + n)),
      );
    await first.whenIndexed();
    const probe = async (index: EmbeddedVectorIndex) => {
      const results: unknown[] = [];
      for (const n of [1, 4_200, 9_000, many - 1]) {
        const { hits } = await index.search({
          tenant: TENANT,
          vector: vectors[n]!,
          limit: 5,
          now: TEST_NOW,
        });
        results.push(hits.map((hit) => [hit.record.id, hit.score.toFixed(6)]));
      }
      return results;
    };
    const before = await probe(first);
    await closeAll();

    const snapshot = join(directory, SNAPSHOT);
    const bytes = readFileSync(snapshot);
    const restored = await openIndex();
    expect(restored.status().opened.from).toBe('snapshot');
    expect(await probe(restored)).toEqual(before);
    await closeAll();

    // The next close wrote a new snapshot; the second page of codes damaged in it.
    const next = readFileSync(snapshot);
    expect(next.byteLength).toBe(bytes.byteLength);
    const at = sectionOffset(next, 'codes', 1) + 5_000;
    next[at] = next[at]! ^ 0x01;
    writeFileSync(snapshot, next);
    const rebuilt = await openIndex();
    expect(rebuilt.status().opened).toMatchObject({
      from: 'rows',
      reason: expect.stringMatching(/section codes fails its checksum/),
    });
    expect(await probe(rebuilt)).toEqual(before);
  });
});
