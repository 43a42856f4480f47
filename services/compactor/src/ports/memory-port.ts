import type {
  ExpireReply,
  MemoryFilter,
  MemoryRecord,
  MergeReply,
  MergeRequestInput,
  StatsReply,
  StoreMemoryInput,
  UpdateRequestInput,
} from '@membus/contracts';

/**
 * The memories, as the vector-store serves them. The vector-store owns them; the compactor
 * only reads and asks for changes through this port.
 */
export interface MemoryPort {
  /**
   * One page of live memories, newest first. A page may hold any number of memories (the
   * vector-store bounds pages by bytes as well as by count): follow `nextCursor` until it is
   * absent, never assume a short page is the last.
   */
  list(
    tenant: string,
    filter: MemoryFilter | undefined,
    cursor?: string,
  ): Promise<{ memories: MemoryRecord[]; nextCursor?: string }>;
  /** Counts of live memories. */
  stats(tenant: string, filter?: MemoryFilter): Promise<Omit<StatsReply, 'v'>>;
  /** Changes one memory. */
  update(
    tenant: string,
    id: string,
    changes: Omit<UpdateRequestInput, 'v' | 'id'>,
  ): Promise<MemoryRecord>;
  /** Deletes by id (at most `Limits.ids`); returns the ids that existed. `reason` goes into each DELETE history entry. */
  delete(tenant: string, ids: readonly string[], reason?: string): Promise<string[]>;
  /** Deletes expired memories (EXPIRE in their history). */
  expire(tenant: string, dryRun: boolean): Promise<Omit<ExpireReply, 'v'>>;
  /** Folds sources into a target (MERGE in the history). */
  merge(tenant: string, request: Omit<MergeRequestInput, 'v'>): Promise<Omit<MergeReply, 'v'>>;
  /**
   * Stores a memory and resolves once it is queryable. Idempotent by `id`: storing an id that
   * exists changes nothing. Returns the memory that holds the content.
   */
  store(
    tenant: string,
    memory: Omit<StoreMemoryInput, 'v'> & { id: string },
  ): Promise<{ status: 'stored' | 'duplicate' | 'merged'; memoryId: string }>;
}

/** Every live memory matching the filter, page by page. */
export async function* listAll(
  memories: MemoryPort,
  tenant: string,
  filter?: MemoryFilter,
): AsyncGenerator<MemoryRecord> {
  let cursor: string | undefined;
  do {
    const page = await memories.list(tenant, filter, cursor);
    yield* page.memories;
    cursor = page.nextCursor;
  } while (cursor);
}

/** Collects {@link listAll} into an array, stopping after `limit` memories. */
export async function collect(
  memories: MemoryPort,
  tenant: string,
  filter?: MemoryFilter,
  limit = Number.POSITIVE_INFINITY,
): Promise<MemoryRecord[]> {
  const records: MemoryRecord[] = [];
  for await (const record of listAll(memories, tenant, filter)) {
    records.push(record);
    if (records.length >= limit) break;
  }
  return records;
}
