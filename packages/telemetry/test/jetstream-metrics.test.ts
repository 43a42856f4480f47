import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { type JetStreamSnapshot, registerJetStreamMetrics } from '../src/index.ts';

const snapshot: JetStreamSnapshot = {
  consumers: [
    { stream: 'MEMORY_STORE', consumer: 'embedder', pending: 7, ackPending: 2, redelivered: 1 },
  ],
  deadLetters: { acme: 3, globex: 1 },
};

async function scrape(options: { tenantLabel?: boolean; fail?: boolean } = {}): Promise<string> {
  const registry = new Registry();
  registerJetStreamMetrics(
    registry,
    async () => {
      if (options.fail) throw new Error('nats down');
      return snapshot;
    },
    { tenantLabel: options.tenantLabel ?? false },
  );
  return registry.metrics();
}

describe('registerJetStreamMetrics', () => {
  it('reports the consumer backlog read at scrape time', async () => {
    expect(await scrape()).toContain(
      'membus_jetstream_consumer_pending_messages{stream="MEMORY_STORE",consumer="embedder"} 7',
    );
  });

  it('reports redelivered messages', async () => {
    expect(await scrape()).toContain(
      'membus_jetstream_consumer_redelivered_messages{stream="MEMORY_STORE",consumer="embedder"} 1',
    );
  });

  it('sums dead letters over tenants when the tenant label is off', async () => {
    expect(await scrape()).toMatch(/^membus_dlq_messages 4$/m);
  });

  it('labels dead letters by tenant when the tenant label is on', async () => {
    expect(await scrape({ tenantLabel: true })).toContain('membus_dlq_messages{tenant="acme"} 3');
  });

  it('counts a failed read', async () => {
    expect(await scrape({ fail: true })).toMatch(/^membus_jetstream_poll_errors_total 1$/m);
  });
});
