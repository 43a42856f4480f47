import type { StoreMemoryInput } from '@membus/contracts';

/** A memory to store, as a `memory.store` message without `v`. */
export type MemoryToStore = Omit<StoreMemoryInput, 'v'>;

/** The changes the extractor makes to a pattern memory. */
export interface MemoryChanges {
  /** New text: re-embedded by the vector-store. */
  text: string;
  /** Replaces the metadata. */
  metadata: Record<string, unknown>;
  /** New importance, 0..1. */
  importance: number;
}

/** How the extractor writes memories: through the vector-store's pipeline, never directly. */
export interface MemoryPort {
  /** Publishes a `memory.store` durably; the same id stored again changes nothing. */
  store(tenant: string, memory: MemoryToStore): Promise<void>;
  /** Updates a memory; throws MembusError `NOT_FOUND` while its store is still in flight. */
  update(tenant: string, id: string, changes: MemoryChanges): Promise<void>;
}
