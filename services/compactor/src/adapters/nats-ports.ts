import { randomUUID } from 'node:crypto';
import {
  createHeaders,
  decode,
  type JetStreamClient,
  type NatsConnection,
  privateMessageId,
  publishDurable,
  request,
} from '@membus/bus';
import {
  DeleteReplySchema,
  EmbedReplySchema,
  ExpireReplySchema,
  Headers,
  Limits,
  ListReplySchema,
  MembusError,
  MergeReplySchema,
  StatsReplySchema,
  StoreNoticeSchema,
  Subjects,
  UpdateReplySchema,
  unpackVector,
} from '@membus/contracts';
import type { EmbedPort } from '../ports/embed-port.ts';
import type { MemoryPort } from '../ports/memory-port.ts';
import type { OutcomePort } from '../ports/outcome-port.ts';

/** The vector-store's request/reply subjects, and `memory.store` for summaries. */
export function natsMemoryPort(
  nc: NatsConnection,
  js: JetStreamClient,
  options: { timeoutMs: number; storeTimeoutMs: number },
): MemoryPort {
  const ask = <S extends Parameters<typeof request>[3]>(
    base: string,
    tenant: string,
    body: object,
    schema: S,
  ) =>
    request(nc, `${base}.${tenant}`, { ...body, v: 1 }, schema, { timeoutMs: options.timeoutMs });
  // Pages ask for at most LIST_PAGE memories; the vector-store bounds them by bytes as well.
  // Should a reply still be too large (an older vector-store), the page size halves and the
  // same page is asked again, growing back after each page that arrives.
  let pageLimit = LIST_PAGE;
  return {
    async list(tenant, filter, cursor) {
      for (;;) {
        try {
          const reply = await ask(
            Subjects.list,
            tenant,
            { limit: pageLimit, ...(filter ? { filter } : {}), ...(cursor ? { cursor } : {}) },
            ListReplySchema,
          );
          pageLimit = Math.min(LIST_PAGE, pageLimit * 2);
          return {
            memories: reply.memories,
            ...(reply.nextCursor ? { nextCursor: reply.nextCursor } : {}),
          };
        } catch (error) {
          if (pageLimit === 1 || !isTooLarge(error)) throw error;
          pageLimit = Math.max(1, Math.floor(pageLimit / 2));
        }
      }
    },
    async stats(tenant, filter) {
      const { v: _v, ...stats } = await ask(
        Subjects.stats,
        tenant,
        filter ? { filter } : {},
        StatsReplySchema,
      );
      return stats;
    },
    async update(tenant, id, changes) {
      return (await ask(Subjects.update, tenant, { ...changes, id }, UpdateReplySchema)).memory;
    },
    async delete(tenant, ids, reason) {
      if (ids.length === 0) return [];
      return (
        await ask(
          Subjects.delete,
          tenant,
          { ids, ...(reason !== undefined ? { reason } : {}) },
          DeleteReplySchema,
        )
      ).ids;
    },
    async expire(tenant, dryRun) {
      const { v: _v, ...reply } = await ask(Subjects.expire, tenant, { dryRun }, ExpireReplySchema);
      return reply;
    },
    async merge(tenant, merge) {
      const { v: _v, ...reply } = await ask(Subjects.merge, tenant, merge, MergeReplySchema);
      return reply;
    },
    async store(tenant, memory) {
      // Same read-your-writes path as the client: the vector-store answers on this inbox once
      // the memory is queryable (also for a replayed id).
      const token = randomUUID();
      const subscription = nc.subscribe(`${Subjects.notice}.${tenant}.${token}`, {
        max: 1,
        timeout: options.storeTimeoutMs,
      });
      const headers = createHeaders();
      headers.set(Headers.notify, token);
      await publishDurable(js, `${Subjects.store}.${tenant}`, { ...memory, v: 1 }, { headers });
      try {
        for await (const message of subscription) {
          const notice = decode(StoreNoticeSchema, message.data);
          if (!notice.ok) throw notice.error;
          if (notice.value.status === 'failed')
            throw new MembusError(
              notice.value.error?.code ?? 'INTERNAL',
              notice.value.error?.message ?? 'store failed',
            );
          return { status: notice.value.status, memoryId: notice.value.memoryId };
        }
      } catch (error) {
        if (MembusError.is(error)) throw error;
        throw new MembusError('TIMEOUT', `memory ${memory.id} was not queryable in time`, {
          cause: error,
        });
      }
      throw new MembusError('TIMEOUT', `memory ${memory.id} was not queryable in time`);
    },
  };
}

/** Memories the compactor asks for per list page (the vector-store may return fewer). */
const LIST_PAGE = 200;

/** A reply or request refused for its size (by the codec of either side). */
function isTooLarge(error: unknown): boolean {
  if (!MembusError.is(error)) return false;
  return error.code === 'LIMIT_EXCEEDED' || /\bthe limit is \d+/.test(error.message);
}

/**
 * Bytes one embed exchange may use for texts: each text travels in the request and again in
 * the reply (as stored, for `document` purpose), beside its vector. Well under
 * `Limits.messageBytes`, so neither message passes it.
 */
const EMBED_EXCHANGE_BYTES = 160 * 1024;

/**
 * Splits texts into embed requests bounded by count (`Limits.embedBatch`) and by bytes: the
 * request and the reply (texts once more, plus one base64 vector of `dimension` floats each)
 * stay under the message limit. A single text always goes alone if it must.
 */
export function embedBatches(texts: readonly string[], dimension: number): string[][] {
  const vectorBytes = Math.ceil((dimension * 4) / 3) + 8;
  const batches: string[][] = [];
  let batch: string[] = [];
  let bytes = 0;
  for (const text of texts) {
    const cost = 2 * Buffer.byteLength(JSON.stringify(text)) + vectorBytes + 64;
    if (
      batch.length > 0 &&
      (batch.length >= Limits.embedBatch || bytes + cost > EMBED_EXCHANGE_BYTES)
    ) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(text);
    bytes += cost;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** Document vectors from the embedder over `memory.embed`, in requests bounded by bytes. */
export function natsEmbedPort(nc: NatsConnection, timeoutMs: number): EmbedPort {
  // Assumed until the first reply tells the model's dimension.
  let dimension = 1_536;
  return {
    async embed(texts) {
      const vectors: Float32Array[] = [];
      for (const batch of embedBatches(texts, dimension)) {
        const reply = await request(
          nc,
          Subjects.embed,
          { v: 1, texts: batch, purpose: 'document' },
          EmbedReplySchema,
          { timeoutMs },
        );
        dimension = reply.dimension;
        for (const packed of reply.vectors) {
          const vector = unpackVector(packed);
          if (!vector)
            throw new MembusError('EMBEDDING_FAILED', 'embedder returned an undecodable vector');
          vectors.push(vector);
        }
      }
      return vectors;
    },
  };
}

/** Outcomes to the pattern-extractor over `memory.outcome.<tenant>` (JetStream). */
export function natsOutcomePort(js: JetStreamClient): OutcomePort {
  return {
    async publish(tenant, outcome) {
      // The message id lets JetStream drop a re-publish within its window; the
      // pattern-extractor is idempotent by outcome id beyond it. Private: agents publish
      // into the same stream.
      await publishDurable(js, `${Subjects.outcome}.${tenant}`, outcome, {
        messageId: privateMessageId('outcome', tenant, outcome.id),
      });
    },
  };
}
