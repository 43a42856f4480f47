import {
  embedTexts,
  type ItemResult,
  type JetStreamClient,
  type NatsConnection,
  notifyStore,
  publishOperation,
  type StreamItem,
} from '@membus/bus';
import { type EmbeddedMemory, MembusError, Operations } from '@membus/contracts';
import type { OperationServer } from '@membus/service-runtime';
import type {
  EmbeddedDocument,
  EmbedPort,
  EventPort,
  IngestResult,
  MemoryService,
} from './domain/memory-service.ts';
import type { VectorStoreMetrics } from './metrics.ts';

/**
 * Query and document vectors from the embedder (`Operations.embed`); `onModel` hears the model
 * and dimension of every reply.
 */
export function natsEmbedPort(
  nc: NatsConnection,
  timeoutMs: number,
  onModel?: (model: string, dimension: number) => void,
): EmbedPort {
  const options = { timeoutMs, ...(onModel ? { onModel } : {}) };
  /** Each text's stored form (redacted by the embedder) with its vector. */
  const documentsOf = (embeddings: Awaited<ReturnType<typeof embedTexts>>): EmbeddedDocument[] =>
    embeddings.documents.map((document, index) => ({
      text: document.text,
      contentHash: document.contentHash,
      vector: embeddings.vectors[index] as Float32Array,
      model: embeddings.model as string,
    }));
  return {
    async query(text) {
      const { vectors } = await embedTexts(nc, [text], 'query', options);
      return vectors[0] as Float32Array;
    },
    async documents(texts) {
      return documentsOf(await embedTexts(nc, texts, 'document', options));
    },
    async prepareChange(change) {
      const embeddings = await embedTexts(
        nc,
        change.text === undefined ? [] : [change.text],
        'document',
        { ...options, ...(change.metadata !== undefined ? { metadata: change.metadata } : {}) },
      );
      const [document] = documentsOf(embeddings);
      return {
        ...(document ? { document } : {}),
        ...(embeddings.metadata !== undefined ? { metadata: embeddings.metadata } : {}),
      };
    },
  };
}

/** `Operations.stored` / `Operations.changed` on JetStream, de-duplicated by the change's id. */
export function jetStreamEventPort(js: JetStreamClient): EventPort {
  return {
    async publish(tenant, events) {
      await Promise.all(
        events.map(({ event, dedupId }) =>
          publishOperation(
            js,
            event.change === 'created' || event.change === 'duplicate'
              ? Operations.stored
              : Operations.changed,
            tenant,
            event,
            { messageId: `${event.change}:${tenant}:${dedupId}` },
          ),
        ),
      );
    },
  };
}

/**
 * `Operations.embedded` batches -> index; tells a waiting client (`Operations.notice`) once
 * queryable: as soon as the batch is written, not after its events are acked (the stream
 * messages are acked after both).
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
    const notify = (results: readonly IngestResult[]): void => {
      metrics.writeBatch.observe(items.length);
      const now = Date.now();
      items.forEach((item, index) => {
        const result = results[index];
        if (!result?.ok) return;
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
      });
    };
    let results: IngestResult[];
    try {
      results = await service.ingest(
        items.map((item) => ({ tenant: item.tenant, embedded: item.value })),
        notify,
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
    return items.map((_item, index): ItemResult => {
      const result = results[index];
      if (!result) return { ok: false, error: new MembusError('INTERNAL', 'no ingest result') };
      return result.ok ? { ok: true } : result;
    });
  };
}

/** Every request/reply operation of the vector-store, served in its queue group. */
export function serveRequests(
  serve: OperationServer,
  service: MemoryService,
  metrics: VectorStoreMetrics,
): void {
  serve(Operations.query, async (query, { tenant }) => {
    const reply = await service.query(tenant, query);
    metrics.querySeconds.observe({ mode: reply.mode, plan: reply.plan }, reply.tookMs / 1000);
    return reply;
  });
  serve(Operations.get, (get, { tenant }) => service.get(tenant, get.ids));
  serve(Operations.list, (list, { tenant }) => service.list(tenant, list));
  serve(Operations.update, async (update, { tenant }) => ({
    v: 1 as const,
    memory: await service.update(tenant, update),
  }));
  serve(Operations.delete, (deletion, { tenant }) => service.delete(tenant, deletion));
  serve(Operations.batchUpdate, (batch, { tenant }) => service.batchUpdate(tenant, batch));
  serve(Operations.export, (page, { tenant }) => service.export(tenant, page));
  serve(Operations.import, (lines, { tenant }) => service.import(tenant, lines));
  serve(Operations.history, (history, { tenant }) =>
    service.history(tenant, history.id, history.cursor),
  );
  serve(Operations.stats, (stats, { tenant }) => service.stats(tenant, stats.filter));
  serve(Operations.expire, (expire, { tenant }) =>
    service.expire(tenant, { dryRun: expire.dryRun }),
  );
  serve(Operations.merge, (merge, { tenant }) => service.merge(tenant, merge));
}
