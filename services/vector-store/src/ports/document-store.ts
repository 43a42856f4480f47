import type { HistoryEntry } from '@membus/contracts';

/** A history entry plus the store request id that caused it, if any. */
export interface StoredHistoryEntry extends HistoryEntry {
  storeId?: string;
}

export interface DocumentStoreCapabilities {
  /** Adapter name for logs and metrics, e.g. `sqlite`, `mongodb`. */
  name: string;
}

/**
 * What the vector-store keeps beside the index: the change history of every memory.
 * Adapters: sqlite (embedded), mongodb.
 */
export interface DocumentStore {
  readonly capabilities: DocumentStoreCapabilities;
  /**
   * Appends entries. An entry carrying a `storeId` (the store request that caused it) is
   * recorded once per (tenant, storeId, event): a redelivered store adds nothing.
   */
  appendHistory(tenant: string, entries: readonly StoredHistoryEntry[]): Promise<void>;
  /** Which of these store request ids already took effect, and on which memory. */
  storeReceipts(tenant: string, storeIds: readonly string[]): Promise<Map<string, string>>;
  /** A memory's history, oldest first. */
  history(tenant: string, memoryId: string): Promise<StoredHistoryEntry[]>;
  /**
   * The histories of many memories in one read (export pages, import checks): each id with
   * entries, oldest first; ids without history are absent.
   */
  histories(
    tenant: string,
    memoryIds: readonly string[],
  ): Promise<Map<string, StoredHistoryEntry[]>>;
  close(): Promise<void>;
}
