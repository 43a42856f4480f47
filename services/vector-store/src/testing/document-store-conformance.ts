import type { Reopenable } from '@membus/bus/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DocumentStore, StoredHistoryEntry } from '../ports/document-store.ts';

/**
 * A fresh, empty store created for one test (`reopenable` or `reopenableFile` of
 * `@membus/bus/testing` over the adapter): after `reopen`, the suite uses the store it returned;
 * `dispose` removes its data, once after each test.
 */
export type DocumentStoreFixture = Reopenable<DocumentStore>;

export interface DocumentStoreConformanceOptions {
  /** Suite name, e.g. the adapter's. */
  name: string;
  /** Creates a fresh, empty store. */
  create: () => Promise<DocumentStoreFixture>;
  /** What the adapter claims; `persistent` enables the reopen cases. */
  capabilities: { persistent: boolean };
}

const TENANT = 't1';
const OTHER_TENANT = 't2';

/** A deterministic UUID (v7 layout) for memory or store request `n`. */
function uuid(n: number): string {
  return `01900000-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;
}

/** Second `n` of 2026-05-01, UTC. */
const second = (n: number): string => new Date(Date.UTC(2026, 4, 1, 0, 0, n)).toISOString();

const added = (memory: number, at: number, store?: number): StoredHistoryEntry => ({
  memoryId: uuid(memory),
  event: 'ADD',
  at: second(at),
  text: `memory ${memory}`,
  ...(store === undefined ? {} : { storeId: uuid(store) }),
});

const duplicate = (memory: number, at: number, store: number): StoredHistoryEntry => ({
  memoryId: uuid(memory),
  event: 'DUPLICATE',
  at: second(at),
  storeId: uuid(store),
  details: { storeId: uuid(store), occurrences: 2 },
});

const updated = (memory: number, at: number): StoredHistoryEntry => ({
  memoryId: uuid(memory),
  event: 'UPDATE',
  at: second(at),
  previousText: `memory ${memory}`,
  text: `memory ${memory}, changed`,
  details: { fields: ['text', 'tags'], nested: { weight: 0.25, flag: true, none: null } },
});

/**
 * The one test suite every `DocumentStore` adapter passes. Each case starts from a fresh,
 * empty store.
 */
export function createDocumentStoreConformanceSuite(
  options: DocumentStoreConformanceOptions,
): void {
  describe(`DocumentStore conformance: ${options.name}`, () => {
    let current: DocumentStoreFixture;
    let store: DocumentStore;

    beforeEach(async () => {
      current = await options.create();
      store = current.opened;
    });

    afterEach(async () => {
      await current.dispose();
    });

    describe('history', () => {
      it('returns the appended entries, field for field', async () => {
        const entries = [added(1, 1, 101), updated(1, 2)];
        await store.appendHistory(TENANT, entries);
        expect(await store.history(TENANT, uuid(1))).toEqual(entries);
      });

      it('is oldest first across appends', async () => {
        await store.appendHistory(TENANT, [added(1, 1, 101)]);
        await store.appendHistory(TENANT, [updated(1, 5)]);
        await store.appendHistory(TENANT, [duplicate(1, 9, 102)]);
        const events = (await store.history(TENANT, uuid(1))).map((entry) => entry.event);
        expect(events).toEqual(['ADD', 'UPDATE', 'DUPLICATE']);
      });

      it('keeps append order for entries with the same timestamp', async () => {
        await store.appendHistory(TENANT, [added(1, 3, 101)]);
        await store.appendHistory(TENANT, [duplicate(1, 3, 102), updated(1, 3)]);
        const events = (await store.history(TENANT, uuid(1))).map((entry) => entry.event);
        expect(events).toEqual(['ADD', 'DUPLICATE', 'UPDATE']);
      });

      it('holds only the asked memory’s entries', async () => {
        await store.appendHistory(TENANT, [added(1, 1, 101), added(2, 2, 102), updated(1, 3)]);
        const ids = new Set((await store.history(TENANT, uuid(1))).map((entry) => entry.memoryId));
        expect([...ids]).toEqual([uuid(1)]);
      });

      it('reads many memories’ histories at once, each oldest first, unknown ids absent', async () => {
        await store.appendHistory(TENANT, [added(1, 1, 101), added(2, 2, 102), updated(1, 3)]);
        await store.appendHistory('other-tenant', [added(3, 1, 103)]);
        const found = await store.histories(TENANT, [uuid(1), uuid(2), uuid(3), uuid(99)]);
        expect([...found.keys()].sort()).toEqual([uuid(1), uuid(2)]);
        expect(found.get(uuid(1))?.map((entry) => entry.event)).toEqual(['ADD', 'UPDATE']);
        expect(found.get(uuid(1))).toEqual(await store.history(TENANT, uuid(1)));
        expect(found.get(uuid(2))).toEqual(await store.history(TENANT, uuid(2)));
      });

      it('is empty for an unknown memory', async () => {
        await store.appendHistory(TENANT, [added(1, 1, 101)]);
        expect(await store.history(TENANT, uuid(99))).toEqual([]);
      });

      it('appending no entries changes nothing', async () => {
        await store.appendHistory(TENANT, [added(1, 1, 101)]);
        await store.appendHistory(TENANT, []);
        expect(await store.history(TENANT, uuid(1))).toHaveLength(1);
      });

      it('keeps entries without a store id every time they are appended', async () => {
        await store.appendHistory(TENANT, [updated(1, 1)]);
        await store.appendHistory(TENANT, [updated(1, 1)]);
        expect(await store.history(TENANT, uuid(1))).toHaveLength(2);
      });

      it('keeps a 100-entry batch whole and in order', async () => {
        const entries = Array.from({ length: 100 }, (_, index) => added(1, index, 1000 + index));
        await store.appendHistory(TENANT, entries);
        const times = (await store.history(TENANT, uuid(1))).map((entry) => entry.at);
        expect(times).toEqual(entries.map((entry) => entry.at));
      });
    });

    describe('store id idempotency', () => {
      // After store 101 added memory 1 in t1: the second append, and the entries it leaves.
      it.each([
        ['a redelivered store adds nothing', TENANT, added(1, 1, 101), 1],
        ['the same store id with another event is recorded', TENANT, duplicate(1, 2, 101), 2],
        ['the same store id in another tenant is recorded', OTHER_TENANT, added(1, 1, 101), 1],
      ])('%s', async (_title, tenant, entry, length) => {
        await store.appendHistory(TENANT, [added(1, 1, 101)]);
        await store.appendHistory(tenant, [entry]);
        expect(await store.history(tenant, uuid(1))).toHaveLength(length);
      });

      it('a batch repeating a recorded store keeps the batch’s new entries', async () => {
        await store.appendHistory(TENANT, [added(1, 1, 101)]);
        await store.appendHistory(TENANT, [added(1, 1, 101), duplicate(1, 2, 102)]);
        const events = (await store.history(TENANT, uuid(1))).map((entry) => entry.event);
        expect(events).toEqual(['ADD', 'DUPLICATE']);
      });
    });

    describe('storeReceipts', () => {
      it('maps each recorded store id to its memory', async () => {
        await store.appendHistory(TENANT, [added(1, 1, 101), duplicate(2, 2, 102)]);
        const receipts = await store.storeReceipts(TENANT, [uuid(101), uuid(102), uuid(103)]);
        expect(Object.fromEntries(receipts)).toEqual({
          [uuid(101)]: uuid(1),
          [uuid(102)]: uuid(2),
        });
      });

      it('is empty for no store ids', async () => {
        await store.appendHistory(TENANT, [added(1, 1, 101)]);
        expect((await store.storeReceipts(TENANT, [])).size).toBe(0);
      });

      it('ignores entries without a store id', async () => {
        await store.appendHistory(TENANT, [updated(1, 1)]);
        expect((await store.storeReceipts(TENANT, [uuid(1)])).size).toBe(0);
      });

      it('answers for 1,200 store ids at once', async () => {
        const entries = Array.from({ length: 1_200 }, (_, index) =>
          added(10_000 + index, index, 20_000 + index),
        );
        await store.appendHistory(TENANT, entries);
        const receipts = await store.storeReceipts(
          TENANT,
          entries.map((entry) => entry.storeId as string),
        );
        expect(receipts.size).toBe(1_200);
      });
    });

    describe('tenant isolation', () => {
      it('history does not show another tenant’s entries', async () => {
        await store.appendHistory(OTHER_TENANT, [added(1, 1, 101)]);
        expect(await store.history(TENANT, uuid(1))).toEqual([]);
      });

      it('storeReceipts do not see another tenant’s stores', async () => {
        await store.appendHistory(OTHER_TENANT, [added(1, 1, 101)]);
        expect((await store.storeReceipts(TENANT, [uuid(101)])).size).toBe(0);
      });
    });

    if (options.capabilities.persistent) {
      describe('persistence', () => {
        const reopen = async (): Promise<void> => {
          store = await current.reopen();
        };

        it('history survives reopen', async () => {
          const entries = [added(1, 1, 101), updated(1, 2)];
          await store.appendHistory(TENANT, entries);
          await reopen();
          expect(await store.history(TENANT, uuid(1))).toEqual(entries);
        });

        it('store receipts survive reopen', async () => {
          await store.appendHistory(TENANT, [added(1, 1, 101)]);
          await reopen();
          expect(Object.fromEntries(await store.storeReceipts(TENANT, [uuid(101)]))).toEqual({
            [uuid(101)]: uuid(1),
          });
        });

        it('idempotency survives reopen', async () => {
          await store.appendHistory(TENANT, [added(1, 1, 101)]);
          await reopen();
          await store.appendHistory(TENANT, [added(1, 1, 101)]);
          expect(await store.history(TENANT, uuid(1))).toHaveLength(1);
        });
      });
    }
  });
}
