import type {
  BatchUpdateReply,
  BatchUpdateRequest,
  DeleteReply,
  DeleteRequest,
  ExpireReply,
  ExportReply,
  ExportRequest,
  GetReply,
  HistoryReply,
  ImportReply,
  ImportRequest,
  ListReply,
  ListRequest,
  MemoryFilter,
  MemoryRecord,
  MergeReply,
  MergeRequest,
  QueryReply,
  QueryRequest,
  StatsReply,
  UpdateRequest,
} from '@membus/contracts';
import type { VectorIndex } from '@membus/vector-index';
import type { DocumentStore } from '../ports/document-store.ts';
import type { EmbedPort, EventPort } from '../ports/memory-ports.ts';
import { AccessTracker } from './access-tracker.ts';
import { batchUpdate } from './memory/batch-update.ts';
import type { MemoryContext } from './memory/context.ts';
import { exportPage } from './memory/export.ts';
import { importMemories } from './memory/import.ts';
import { type IngestItem, type IngestResult, ingest } from './memory/ingest.ts';
import { merge } from './memory/merge.ts';
import { query } from './memory/query.ts';
import { get, history, list, stats } from './memory/read.ts';
import { deleteMemories, expire } from './memory/remove.ts';
import { update } from './memory/update.ts';

export type {
  ChangeInput,
  EmbeddedDocument,
  EmbedPort,
  EventPort,
  PreparedChange,
} from '../ports/memory-ports.ts';
export type { IngestItem, IngestResult } from './memory/ingest.ts';
export { mergeDuplicate, mergedMetadata, mergeSimilar } from './memory/record-merge.ts';

export interface MemoryServiceOptions {
  index: VectorIndex;
  documents: DocumentStore;
  embed: EmbedPort;
  events: EventPort;
  clock?: () => number;
  accessFlushMs?: number;
  onBackgroundError?: (error: unknown) => void;
  /**
   * Near-duplicate merging at write: a new memory whose cosine similarity to an existing one
   * of the same scope, owners, namespace and kind is at least the threshold is merged into it.
   * `default` applies where `byNamespace` has no entry; 0 (or > 1) turns merging off.
   */
  nearDuplicates?: { default: number; byNamespace?: Readonly<Record<string, number>> };
}

/**
 * The vector-store's domain: idempotent ingest with exact-duplicate merging, history,
 * events, and every read. Plain class: index, documents, embedder and events are ports. Each
 * operation lives in its own module under `memory/` (ingest, query, read, update, remove,
 * merge); this class holds what they share.
 */
export class MemoryService {
  readonly #context: MemoryContext;

  constructor(options: MemoryServiceOptions) {
    const index = options.index;
    const onError = options.onBackgroundError ?? (() => {});
    this.#context = {
      index,
      documents: options.documents,
      embed: options.embed,
      events: options.events,
      clock: options.clock ?? Date.now,
      nearDuplicates: options.nearDuplicates ?? { default: 0 },
      access: new AccessTracker(
        (tenant, accesses) => index.recordAccess(tenant, accesses),
        options.accessFlushMs ?? 1_000,
        onError,
      ),
    };
  }

  get dimension(): number {
    return this.#context.index.dimension;
  }

  /**
   * Writes a batch of embedded memories. Idempotent by store id: a redelivered store changes
   * nothing. Exact duplicates (same scope, owners, namespace and content) bump `occurrences`
   * of the memory that has them instead of adding a second one. `onWritten` hears the
   * results once written (queryable), before the events are acked.
   */
  ingest(
    items: readonly IngestItem[],
    onWritten?: (results: readonly IngestResult[]) => void,
  ): Promise<IngestResult[]> {
    return ingest(this.#context, items, onWritten);
  }

  query(tenant: string, request: QueryRequest): Promise<QueryReply> {
    return query(this.#context, tenant, request);
  }

  /** The live memories of `ids`, in the order asked, as many as fit one reply. */
  get(tenant: string, ids: readonly string[]): Promise<GetReply> {
    return get(this.#context, tenant, ids);
  }

  /** One page, newest first, with a cursor to the rest. */
  list(tenant: string, request: ListRequest): Promise<ListReply> {
    return list(this.#context, tenant, request);
  }

  update(tenant: string, request: UpdateRequest): Promise<MemoryRecord> {
    return update(this.#context, tenant, request);
  }

  /** Changes memories by ids, or one page of a filter, each as an update. */
  batchUpdate(tenant: string, request: BatchUpdateRequest): Promise<BatchUpdateReply> {
    return batchUpdate(this.#context, tenant, request);
  }

  /** One page of export lines, newest first, with a cursor to the rest. */
  export(tenant: string, request: ExportRequest): Promise<ExportReply> {
    return exportPage(this.#context, tenant, request);
  }

  /** Writes exported memories exactly; idempotent by id (see memory/import.ts). */
  import(tenant: string, request: ImportRequest): Promise<ImportReply> {
    return importMemories(this.#context, tenant, request);
  }

  /** Deletes by ids or by filter, page by page. */
  delete(tenant: string, request: DeleteRequest): Promise<DeleteReply> {
    return deleteMemories(this.#context, tenant, request);
  }

  /** Deletes every expired memory of the tenant, recording EXPIRE. */
  expire(tenant: string, options: { dryRun?: boolean } = {}): Promise<ExpireReply> {
    return expire(this.#context, tenant, options);
  }

  /** Folds sources into the target. */
  merge(tenant: string, request: MergeRequest): Promise<MergeReply> {
    return merge(this.#context, tenant, request);
  }

  /** A memory's history, oldest first, in pages. */
  history(tenant: string, id: string, cursor?: string): Promise<HistoryReply> {
    return history(this.#context, tenant, id, cursor);
  }

  stats(tenant: string, filter: MemoryFilter | undefined): Promise<StatsReply> {
    return stats(this.#context, tenant, filter);
  }

  async close(): Promise<void> {
    await this.#context.access.close();
  }
}
