import { randomUUID } from 'node:crypto';
import { call, decode, type JetStreamClient, type NatsConnection, storeMemory } from '@membus/bus';
import { MembusError, Operations, StoreNoticeSchema, subjectOf } from '@membus/contracts';
import type { MemoryPort } from '../ports/memory-port.ts';

/** The vector-store's operations over the bus, as the extractor's NATS user. */
export function natsMemoryPort(
  nc: NatsConnection,
  js: JetStreamClient,
  options: { timeoutMs: number; storeTimeoutMs: number },
): MemoryPort {
  const timeout = { timeoutMs: options.timeoutMs };
  return {
    async nearest(tenant, text, filter, topK) {
      const reply = await call(nc, Operations.query, tenant, { text, filter, topK }, timeout);
      return reply.hits.map((hit) => hit.memory);
    },
    async add(tenant, memory) {
      // Read-your-writes, as the client does: the next ingest of this owner must find the fact.
      const token = randomUUID();
      const subscription = nc.subscribe(subjectOf(Operations.notice, tenant, token), {
        max: 1,
        timeout: options.storeTimeoutMs,
      });
      await storeMemory(js, tenant, memory, { notifyToken: token, service: 'extractor' });
      try {
        for await (const message of subscription) {
          const notice = decode(StoreNoticeSchema, message.data);
          if (!notice.ok) throw notice.error;
          if (notice.value.status === 'failed')
            throw new MembusError(
              notice.value.error?.code ?? 'INTERNAL',
              notice.value.error?.message ?? 'store failed',
            );
          const policy = notice.value.policy;
          return {
            status: notice.value.status,
            memoryId: notice.value.memoryId,
            ...(policy ? { dropped: `${policy.rule}: ${policy.reason}` } : {}),
          };
        }
      } catch (error) {
        if (MembusError.is(error)) throw error;
        throw new MembusError('TIMEOUT', `fact ${memory.id} was not queryable in time`, {
          cause: error,
        });
      }
      throw new MembusError('TIMEOUT', `fact ${memory.id} was not queryable in time`);
    },
    async update(tenant, id, changes) {
      await call(nc, Operations.update, tenant, { id, ...changes }, timeout);
    },
    async delete(tenant, id, reason) {
      await call(nc, Operations.delete, tenant, { ids: [id], reason }, timeout);
    },
  };
}
