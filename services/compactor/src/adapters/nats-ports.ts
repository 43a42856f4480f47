import {
  createHeaders,
  createInbox,
  decode,
  type JetStreamClient,
  type NatsConnection,
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
  return {
    async list(tenant, filter, cursor) {
      const reply = await ask(
        Subjects.list,
        tenant,
        { limit: Limits.pageSize, ...(filter ? { filter } : {}), ...(cursor ? { cursor } : {}) },
        ListReplySchema,
      );
      return {
        memories: reply.memories,
        ...(reply.nextCursor ? { nextCursor: reply.nextCursor } : {}),
      };
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
    async delete(tenant, ids) {
      if (ids.length === 0) return [];
      return (await ask(Subjects.delete, tenant, { ids }, DeleteReplySchema)).ids;
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
      const inbox = createInbox();
      const subscription = nc.subscribe(inbox, { max: 1, timeout: options.storeTimeoutMs });
      const headers = createHeaders();
      headers.set(Headers.notify, inbox);
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

/** Document vectors from the embedder over `memory.embed`. */
export function natsEmbedPort(nc: NatsConnection, timeoutMs: number): EmbedPort {
  return {
    async embed(texts) {
      if (texts.length === 0) return [];
      const reply = await request(
        nc,
        Subjects.embed,
        { v: 1, texts, purpose: 'document' },
        EmbedReplySchema,
        { timeoutMs },
      );
      return reply.vectors.map((packed) => {
        const vector = unpackVector(packed);
        if (!vector)
          throw new MembusError('EMBEDDING_FAILED', 'embedder returned an undecodable vector');
        return vector;
      });
    },
  };
}

/** Outcomes to the pattern-extractor over `memory.outcome.<tenant>` (JetStream). */
export function natsOutcomePort(js: JetStreamClient): OutcomePort {
  return {
    async publish(tenant, outcome) {
      // The message id lets JetStream drop a re-publish within its window; the
      // pattern-extractor is idempotent by outcome id beyond it.
      await publishDurable(js, `${Subjects.outcome}.${tenant}`, outcome, {
        messageId: outcome.id,
      });
    },
  };
}
