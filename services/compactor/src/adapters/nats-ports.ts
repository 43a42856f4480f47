import {
  call,
  embedTexts,
  type JetStreamClient,
  type NatsConnection,
  privateMessageId,
  publishOperation,
  storeMemoryAndWait,
} from '@membus/bus';
import { MembusError, Operations } from '@membus/contracts';
import type { EmbedPort } from '../ports/embed-port.ts';
import type { MemoryPort } from '../ports/memory-port.ts';
import type { OutcomePort } from '../ports/outcome-port.ts';

/** The vector-store's request/reply operations, and `Operations.store` for summaries. */
export function natsMemoryPort(
  nc: NatsConnection,
  js: JetStreamClient,
  options: { timeoutMs: number; storeTimeoutMs: number },
): MemoryPort {
  const timeout = { timeoutMs: options.timeoutMs };
  // Pages ask for at most LIST_PAGE memories; the vector-store bounds them by bytes as well.
  // Should a reply still be too large (an older vector-store), the page size halves and the
  // same page is asked again, growing back after each page that arrives.
  let pageLimit = LIST_PAGE;
  return {
    async list(tenant, filter, cursor) {
      for (;;) {
        try {
          const reply = await call(
            nc,
            Operations.list,
            tenant,
            { limit: pageLimit, ...(filter ? { filter } : {}), ...(cursor ? { cursor } : {}) },
            timeout,
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
      const { v: _v, ...stats } = await call(
        nc,
        Operations.stats,
        tenant,
        filter ? { filter } : {},
        timeout,
      );
      return stats;
    },
    async update(tenant, id, changes) {
      return (await call(nc, Operations.update, tenant, { ...changes, id }, timeout)).memory;
    },
    async delete(tenant, ids, reason) {
      if (ids.length === 0) return [];
      const body = { ids: [...ids], ...(reason !== undefined ? { reason } : {}) };
      return (await call(nc, Operations.delete, tenant, body, timeout)).ids;
    },
    async expire(tenant, dryRun) {
      const { v: _v, ...reply } = await call(nc, Operations.expire, tenant, { dryRun }, timeout);
      return reply;
    },
    async merge(tenant, merge) {
      const { v: _v, ...reply } = await call(nc, Operations.merge, tenant, merge, timeout);
      return reply;
    },
    async store(tenant, memory) {
      // Same read-your-writes path as the client.
      const notice = await storeMemoryAndWait(nc, js, tenant, memory, {
        service: 'compactor',
        timeoutMs: options.storeTimeoutMs,
        noun: 'memory',
      });
      // The ingest policy never drops a summary (decision 009); a dropped store is not there.
      if (notice.status === 'dropped')
        throw new MembusError('CONFLICT', `store ${memory.id} was dropped by the ingest policy`);
      return { status: notice.status, memoryId: notice.memoryId };
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

/** Document vectors from the embedder (`Operations.embed`), in requests bounded by bytes. */
export function natsEmbedPort(nc: NatsConnection, timeoutMs: number): EmbedPort {
  return {
    async embed(texts) {
      return (await embedTexts(nc, texts, 'document', { timeoutMs })).vectors;
    },
  };
}

/** Outcomes to the pattern-extractor: `Operations.outcome` (JetStream). */
export function natsOutcomePort(js: JetStreamClient): OutcomePort {
  return {
    async publish(tenant, outcome) {
      // The message id lets JetStream drop a re-publish within its window; the
      // pattern-extractor is idempotent by outcome id beyond it. Private: agents publish
      // into the same stream.
      await publishOperation(js, Operations.outcome, tenant, outcome, {
        messageId: privateMessageId('outcome', tenant, outcome.id),
      });
    },
  };
}
