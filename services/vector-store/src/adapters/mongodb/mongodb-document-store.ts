import { type HistoryEntry, MembusError } from '@membus/contracts';
import { connectMongo, type MongoWriteConcern } from '@membus/mongodb';
import {
  type IndexDescription,
  MongoBulkWriteError,
  MongoError,
  MongoNetworkError,
  MongoServerSelectionError,
} from 'mongodb';
import type { DocumentStore, StoredHistoryEntry } from '../../ports/document-store.ts';
import { groupBy, readByIds } from '../read-by-ids.ts';

export interface MongoDocumentStoreOptions {
  /** Connection string, e.g. `mongodb://127.0.0.1:27017`. */
  uri: string;
  /** Database holding the collections; `membus` unless told. */
  database?: string;
  /** `majority` (the default: an acked write survives a primary failover) or a node count. */
  writeConcern?: MongoWriteConcern;
  /** How long an operation waits for a reachable server before failing; 10 s unless told. */
  serverSelectionTimeoutMs?: number;
  /** Prefix of every collection name (tests use one per case); none unless told. */
  collectionPrefix?: string;
}

/** One history entry as stored. */
interface HistoryDocument {
  /**
   * `<tenant>/<storeId>/<event>` when the entry carries a store id, so a redelivered store
   * collides on the primary key (no partial unique index needed); an ObjectId otherwise.
   */
  _id: unknown;
  tenant: string;
  memoryId: string;
  event: HistoryEntry['event'];
  at: string;
  /** `at` as ms since the epoch: the sort key. */
  atMs: number;
  /** Append order within one `at` (a process-monotonic clock), the tie-breaker. */
  seq: number;
  storeId?: string;
  previousText?: string;
  text?: string;
  details?: Record<string, unknown>;
}

const DUPLICATE_KEY = 11000;
const HISTORY_INDEXES = [
  { key: { tenant: 1, memoryId: 1, atMs: 1, seq: 1 }, name: 'history_memory' },
  { key: { tenant: 1, storeId: 1 }, name: 'history_store' },
] as const satisfies IndexDescription[];
const RECEIPT_CHUNK = 500;

/** Collection names, stable: operators and migrations refer to them. */
export const MongoCollections = { history: 'history' } as const;

/**
 * The DocumentStore on MongoDB (or any server speaking its protocol, e.g. FerretDB).
 * `open` connects, pings and creates the indexes, so a wrong URI fails at startup.
 *
 * Relies on: insertMany (unordered), find with $in / sort / projection, compound
 * indexes, duplicate-key errors on `_id`. No transactions, no partial indexes, no
 * change streams: every feature works on FerretDB v1 as well.
 */
export async function openMongoDocumentStore(
  options: MongoDocumentStoreOptions,
): Promise<DocumentStore> {
  const { client, db } = await connectMongo({
    ...options,
    database: options.database ?? 'membus',
    appName: 'membus-vector-store',
  });
  const historyCollection = db.collection<HistoryDocument>(
    `${options.collectionPrefix ?? ''}${MongoCollections.history}`,
  );
  // One index per call: FerretDB 1.24 drops the connection when a multi-index
  // createIndexes names indexes that all exist already (i.e. on every restart).
  for (const index of HISTORY_INDEXES) {
    await guard('create indexes', () => historyCollection.createIndexes([index]));
  }

  let lastSeq = 0;
  const nextSeq = (): number => {
    // Microseconds of wall time, forced strictly increasing within this process.
    lastSeq = Math.max(lastSeq + 1, Date.now() * 1000);
    return lastSeq;
  };

  return {
    capabilities: { name: 'mongodb' },

    async appendHistory(tenant, entries) {
      if (entries.length === 0) return;
      const documents = entries.map((entry) => toDocument(tenant, entry, nextSeq()));
      await guard('append history', async () => {
        try {
          await historyCollection.insertMany(documents, { ordered: false });
        } catch (error) {
          // A redelivered store id collides on _id: that entry is already recorded.
          if (error instanceof MongoBulkWriteError && onlyDuplicateKeys(error)) return;
          throw error;
        }
      });
    },

    async history(tenant, memoryId) {
      const documents = await guard('read history', () =>
        historyCollection.find({ tenant, memoryId }).sort({ atMs: 1, seq: 1 }).toArray(),
      );
      return documents.map(fromDocument);
    },

    async histories(tenant, memoryIds) {
      const documents = await readByIds(memoryIds, RECEIPT_CHUNK, (chunk) =>
        guard('read history', () =>
          historyCollection
            .find({ tenant, memoryId: { $in: chunk } })
            .sort({ atMs: 1, seq: 1 })
            .toArray(),
        ),
      );
      return groupBy(documents, (document) => document.memoryId, fromDocument);
    },

    async storeReceipts(tenant, storeIds) {
      const found = await readByIds(storeIds, RECEIPT_CHUNK, (chunk) =>
        guard('read store receipts', () =>
          historyCollection
            .find(
              { tenant, storeId: { $in: chunk } },
              { projection: { _id: 0, storeId: 1, memoryId: 1 } },
            )
            .toArray(),
        ),
      );
      const receipts = new Map<string, string>();
      for (const document of found) {
        if (document.storeId !== undefined) receipts.set(document.storeId, document.memoryId);
      }
      return receipts;
    },

    async close() {
      await client.close();
    },
  };
}

function toDocument(tenant: string, entry: StoredHistoryEntry, seq: number): HistoryDocument {
  const { storeId, memoryId, event, at, previousText, text, details } = entry;
  return {
    ...(storeId === undefined ? {} : { _id: `${tenant}/${storeId}/${event}` }),
    tenant,
    memoryId,
    event,
    at,
    atMs: Date.parse(at),
    seq,
    ...(storeId === undefined ? {} : { storeId }),
    ...(previousText === undefined ? {} : { previousText }),
    ...(text === undefined ? {} : { text }),
    ...(details === undefined ? {} : { details }),
  } as HistoryDocument;
}

function fromDocument(document: HistoryDocument): StoredHistoryEntry {
  return {
    memoryId: document.memoryId,
    event: document.event,
    at: document.at,
    ...(document.storeId === undefined ? {} : { storeId: document.storeId }),
    ...(document.previousText === undefined ? {} : { previousText: document.previousText }),
    ...(document.text === undefined ? {} : { text: document.text }),
    ...(document.details === undefined ? {} : { details: document.details }),
  };
}

function onlyDuplicateKeys(error: MongoBulkWriteError): boolean {
  const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
  return (
    writeErrors.length > 0 &&
    writeErrors.every((writeError) => writeError.code === DUPLICATE_KEY) &&
    error.writeConcernError === undefined
  );
}

/**
 * Runs one driver call and turns a failure into a MembusError: network and server-selection
 * failures are retryable BACKEND_FAILED (the message is nak'd and JetStream redelivers it
 * once MongoDB is back; the driver reconnects by itself), anything else is not retryable.
 */
async function guard<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (MembusError.is(error)) throw error;
    throw new MembusError('BACKEND_FAILED', `MongoDB ${operation} failed: ${messageOf(error)}`, {
      cause: error,
      retryable: isTransient(error),
      details: { backend: 'mongodb', operation },
    });
  }
}

/** True for failures that may pass on retry: network, server selection, retryable labels. */
export function isTransient(error: unknown): boolean {
  if (error instanceof MongoNetworkError || error instanceof MongoServerSelectionError) return true;
  if (error instanceof MongoError) {
    return (
      error.hasErrorLabel('RetryableWriteError') ||
      error.hasErrorLabel('TransientTransactionError') ||
      error.hasErrorLabel('ResetPool') ||
      // NotWritablePrimary, PrimarySteppedDown, ShutdownInProgress, interrupted at shutdown.
      [10107, 189, 91, 11600, 11602, 13435, 13436, 6, 7, 89, 9001].includes(Number(error.code))
    );
  }
  return false;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
