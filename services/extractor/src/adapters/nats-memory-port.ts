import { call, type JetStreamClient, type NatsConnection, storeMemoryAndWait } from '@membus/bus';
import { Operations } from '@membus/contracts';
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
      const notice = await storeMemoryAndWait(nc, js, tenant, memory, {
        service: 'extractor',
        timeoutMs: options.storeTimeoutMs,
        noun: 'fact',
      });
      const policy = notice.policy;
      return {
        status: notice.status,
        memoryId: notice.memoryId,
        ...(policy ? { dropped: `${policy.rule}: ${policy.reason}` } : {}),
      };
    },
    async update(tenant, id, changes) {
      await call(nc, Operations.update, tenant, { id, ...changes }, timeout);
    },
    async delete(tenant, id, reason) {
      await call(nc, Operations.delete, tenant, { ids: [id], reason }, timeout);
    },
  };
}
