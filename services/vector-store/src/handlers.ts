import {
  type ItemResult,
  type JetStreamClient,
  type NatsConnection,
  notifyStore,
  publishDurable,
  type RequestContext,
  request,
  type Service,
  type StreamItem,
  serve,
} from '@membus/bus';
import {
  DeleteRequestSchema,
  type EmbeddedMemory,
  type EmbedReply,
  EmbedReplySchema,
  ExpireRequestSchema,
  GetRequestSchema,
  HistoryRequestSchema,
  ListRequestSchema,
  MembusError,
  MergeRequestSchema,
  QueryRequestSchema,
  QueueGroups,
  StatsRequestSchema,
  Subjects,
  UpdateRequestSchema,
  unpackVector,
} from '@membus/contracts';
import type { z } from 'zod';
import type {
  EmbeddedDocument,
  EmbedPort,
  EventPort,
  MemoryService,
} from './domain/memory-service.ts';
import type { VectorStoreMetrics } from './metrics.ts';

/**
 * Query and document vectors from the embedder over `memory.embed`; `onModel` hears the model
 * and dimension of every reply.
 */
export function natsEmbedPort(
  nc: NatsConnection,
  timeoutMs: number,
  onModel?: (model: string, dimension: number) => void,
): EmbedPort {
  const vectorsOf = (packed: string[]) =>
    packed.map((value) => {
      const vector = unpackVector(value);
      if (!vector)
        throw new MembusError('EMBEDDING_FAILED', 'embedder returned an undecodable vector');
      return vector;
    });
  return {
    async query(text) {
      const reply = await request(
        nc,
        Subjects.embed,
        { v: 1, texts: [text], purpose: 'query' },
        EmbedReplySchema,
        { timeoutMs },
      );
      onModel?.(reply.model, reply.dimension);
      return vectorsOf(reply.vectors)[0] as Float32Array;
    },
    async documents(texts) {
      const reply = await request(
        nc,
        Subjects.embed,
        { v: 1, texts, purpose: 'document' },
        EmbedReplySchema,
        { timeoutMs },
      );
      onModel?.(reply.model, reply.dimension);
      return documentsOf(texts.length, reply);
    },
    async prepareChange(change) {
      const texts = change.text === undefined ? [] : [change.text];
      const reply = await request(
        nc,
        Subjects.embed,
        {
          v: 1,
          texts,
          purpose: 'document',
          ...(change.metadata !== undefined ? { metadata: change.metadata } : {}),
        },
        EmbedReplySchema,
        { timeoutMs },
      );
      onModel?.(reply.model, reply.dimension);
      const [document] = documentsOf(texts.length, reply);
      return {
        ...(document ? { document } : {}),
        ...(reply.metadata !== undefined ? { metadata: reply.metadata } : {}),
      };
    },
  };
  /**
   * The stored form of each text. No fallback to the text sent: an embedder that did not say
   * how it redacted a text must not get the unredacted text stored.
   */
  function documentsOf(count: number, reply: EmbedReply): EmbeddedDocument[] {
    const vectors = vectorsOf(reply.vectors);
    const documents = reply.documents ?? [];
    if (vectors.length !== count || documents.length !== count)
      throw new MembusError(
        'EMBEDDING_FAILED',
        `embedder answered ${vectors.length} vectors and ${documents.length} documents for ${count} texts`,
      );
    return documents.map((document, index) => ({
      text: document.text,
      contentHash: document.contentHash,
      vector: vectors[index] as Float32Array,
      model: reply.model,
    }));
  }
}

/** `memory.stored` / `memory.changed` on JetStream, de-duplicated by the change's id. */
export function jetStreamEventPort(js: JetStreamClient): EventPort {
  return {
    async publish(tenant, events) {
      await Promise.all(
        events.map(({ event, dedupId }) =>
          publishDurable(
            js,
            `${event.change === 'created' || event.change === 'duplicate' ? Subjects.stored : Subjects.changed}.${tenant}`,
            event,
            { messageId: `${event.change}:${tenant}:${dedupId}` },
          ),
        ),
      );
    },
  };
}

/**
 * `memory.embedded.<tenant>` batches -> index; notifies a waiting client once queryable.
 * `onModel` hears the model and dimension of every memory in a batch.
 */
export function createIngestHandler(
  nc: NatsConnection,
  service: MemoryService,
  metrics: VectorStoreMetrics,
  onModel?: (model: string, dimension: number) => void,
) {
  return async (items: StreamItem<EmbeddedMemory>[]): Promise<ItemResult[]> => {
    if (onModel) for (const item of items) onModel(item.value.model, item.value.dimension);
    let results: Awaited<ReturnType<MemoryService['ingest']>>;
    try {
      results = await service.ingest(
        items.map((item) => ({ tenant: item.tenant, embedded: item.value })),
      );
    } catch (error) {
      // Invalid items come back as results; a throw is the storage failing (e.g. SQLITE_BUSY
      // on a locked file): retry with backoff, never dead-letter a valid memory for it.
      const failure = MembusError.is(error)
        ? error
        : new MembusError('BACKEND_FAILED', `storage failed: ${(error as Error).message}`, {
            cause: error,
          });
      throw failure;
    }
    metrics.writeBatch.observe(items.length);
    const now = Date.now();
    return items.map((item, index): ItemResult => {
      const result = results[index];
      if (!result) return { ok: false, error: new MembusError('INTERNAL', 'no ingest result') };
      if (!result.ok) return result;
      if (!result.replayed) {
        metrics.ingested.inc({ result: result.status });
        metrics.pipelineSeconds.observe(Math.max(0, now - item.value.acceptedAt) / 1000);
      }
      notifyStore(nc, item.subject, item.headers, {
        v: 1,
        id: item.value.memory.id,
        status: result.status,
        memoryId: result.memoryId,
      });
      return { ok: true };
    });
  };
}

/** Every request/reply subject of the vector-store, served in its queue group. */
export function serveRequests(
  nc: NatsConnection,
  service: MemoryService,
  options: {
    maxConcurrent: number;
    metrics: VectorStoreMetrics;
    onError: (error: MembusError) => void;
  },
): Service[] {
  const common = {
    queue: QueueGroups.vectorStore,
    tenantScoped: true,
    maxConcurrent: options.maxConcurrent,
    observer: options.metrics.observer,
    onError: options.onError,
  } as const;
  const route = <S extends z.ZodType, R>(
    base: string,
    schema: S,
    handler: (value: z.output<S>, context: RequestContext) => Promise<R>,
  ) => serve(nc, { ...common, subject: `${base}.*`, schema, handler });
  return [
    route(Subjects.query, QueryRequestSchema, async (query, { tenant }) => {
      const reply = await service.query(tenant, query);
      options.metrics.querySeconds.observe(
        { mode: reply.mode, plan: reply.plan },
        reply.tookMs / 1000,
      );
      return reply;
    }),
    route(Subjects.get, GetRequestSchema, (get, { tenant }) => service.get(tenant, get.ids)),
    route(Subjects.list, ListRequestSchema, (list, { tenant }) => service.list(tenant, list)),
    route(Subjects.update, UpdateRequestSchema, async (update, { tenant }) => ({
      v: 1 as const,
      memory: await service.update(tenant, update),
    })),
    route(Subjects.delete, DeleteRequestSchema, (deletion, { tenant }) =>
      service.delete(tenant, deletion),
    ),
    route(Subjects.history, HistoryRequestSchema, (history, { tenant }) =>
      service.history(tenant, history.id, history.cursor),
    ),
    route(Subjects.stats, StatsRequestSchema, (stats, { tenant }) =>
      service.stats(tenant, stats.filter),
    ),
    route(Subjects.expire, ExpireRequestSchema, (expire, { tenant }) =>
      service.expire(tenant, { dryRun: expire.dryRun }),
    ),
    route(Subjects.merge, MergeRequestSchema, (merge, { tenant }) => service.merge(tenant, merge)),
  ];
}
