import type { MemoryFilter, MemoryRecord, StoreMemoryInput, StoreNotice } from '@membus/contracts';

/**
 * The vector-store's normal operations, as the extractor uses them: history, events,
 * de-duplication and tenancy hold for extracted facts as for any store.
 */
export interface MemoryPort {
  /** The memories nearest to `text` within `filter` (the same owner's). */
  nearest(
    tenant: string,
    text: string,
    filter: MemoryFilter,
    topK: number,
  ): Promise<MemoryRecord[]>;
  /**
   * Stores a memory (through the store path: redaction, the ingest policy, de-duplication) and
   * resolves once it is queryable with the memory that holds it, or with why the ingest policy
   * dropped it.
   */
  add(
    tenant: string,
    memory: Omit<StoreMemoryInput, 'v'>,
  ): Promise<{
    status: Exclude<StoreNotice['status'], 'failed'>;
    memoryId: string;
    dropped?: string;
  }>;
  update(
    tenant: string,
    id: string,
    changes: { text: string; metadata: Record<string, unknown>; reason: string },
  ): Promise<void>;
  delete(tenant: string, id: string, reason: string): Promise<void>;
}
