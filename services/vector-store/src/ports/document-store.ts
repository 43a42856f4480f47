import type { HistoryEntry } from '@membus/contracts';

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
  /** Appends entries; an entry with the same (tenant, memoryId, event, at) is not added twice. */
  appendHistory(tenant: string, entries: readonly HistoryEntry[]): Promise<void>;
  /** A memory's history, oldest first. */
  history(tenant: string, memoryId: string): Promise<HistoryEntry[]>;
  close(): Promise<void>;
}
