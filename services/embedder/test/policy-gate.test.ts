/**
 * The store handler with the ingest policy in front (decision 009), without NATS: dropped
 * stores are acked and told, never published; kept ones go on with the policy's labels, in
 * their batch positions.
 */
import {
  createHeaders,
  type JetStreamClient,
  type NatsConnection,
  type StreamItem,
} from '@membus/bus';
import { Headers, MembusError, type StoreMemory, StoreMemorySchema } from '@membus/contracts';
import { compilePolicy } from '@membus/ingest-policy';
import type { PolicyRegistry } from '@membus/ingest-policy/kv';
import { describe, expect, it } from 'vitest';
import { createLocalEmbeddingProvider } from '../src/adapters/local-provider.ts';
import { Embedder } from '../src/domain/embedder.ts';
import { createStoreHandler } from '../src/handlers.ts';
import { createPolicyGate } from '../src/policy.ts';

const policy = compilePolicy(
  {
    v: 1,
    rules: [
      {
        name: 'greeting',
        match: { text: [{ regex: '^hello\\b', ignoreCase: true }] },
        action: { type: 'drop', reason: 'greeting' },
      },
      {
        name: 'incident',
        match: { text: [{ contains: 'outage' }] },
        action: { type: 'annotate', categories: ['incidents'] },
      },
    ],
    expiry: [{ category: 'incidents', ttlSeconds: 7_776_000 }],
  },
  4,
);

function item(index: number, text: string): StreamItem<StoreMemory> {
  const headers = createHeaders();
  headers.set(Headers.notify, 'token-1');
  return {
    value: StoreMemorySchema.parse({
      v: 1,
      id: `0190f1c2-7b1e-7cc0-8000-00000000000${index}`,
      text,
    }),
    tenant: 'acme',
    subject: 'memory.store.acme',
    headers,
    deliveries: 1,
    sequence: index,
    trace: undefined as never,
  };
}

describe('the store handler with an ingest policy', () => {
  it('acks and tells the dropped stores, embeds the kept ones with their labels, in order', async () => {
    const published: { subject: string; memory: StoreMemory }[] = [];
    const notices: { subject: string; notice: unknown }[] = [];
    const decisions: string[] = [];
    const js = {
      publish: async (subject: string, data: Uint8Array) => {
        const { memory } = JSON.parse(Buffer.from(data).toString('utf8')) as {
          memory: StoreMemory;
        };
        published.push({ subject, memory });
        return { stream: 'MEMORY_EMBEDDED', seq: published.length, duplicate: false };
      },
    } as unknown as JetStreamClient;
    const nc = {
      publish: (subject: string, data: Uint8Array) =>
        notices.push({ subject, notice: JSON.parse(Buffer.from(data).toString('utf8')) }),
    } as unknown as NatsConnection;
    const gate = createPolicyGate({
      nc,
      registry: { forTenant: async () => policy } as unknown as PolicyRegistry,
      onDecision: (action, rule) => decisions.push(`${action}:${rule}`),
    });
    const handler = createStoreHandler(
      js,
      new Embedder({ provider: createLocalEmbeddingProvider() }),
      gate,
    );
    const items = [
      item(1, 'Hello team'),
      item(2, 'Checkout outage at 14:02'),
      item(3, 'hello again'),
      item(4, 'The deploy finished'),
    ];
    const results = await handler(items);
    expect(results).toEqual([{ ok: true }, { ok: true }, { ok: true }, { ok: true }]);
    expect(
      published.map(({ subject, memory }) => [
        subject,
        memory.text,
        memory.categories,
        memory.ttlSeconds,
      ]),
    ).toEqual([
      ['memory.embedded.acme', 'Checkout outage at 14:02', ['incidents'], 7_776_000],
      ['memory.embedded.acme', 'The deploy finished', [], undefined],
    ]);
    expect(notices).toEqual(
      [1, 3].map((index) => ({
        subject: 'memory.notice.acme.token-1',
        notice: {
          v: 1,
          id: items[index - 1]?.value.id,
          status: 'dropped',
          memoryId: items[index - 1]?.value.id,
          policy: { version: 4, rule: 'greeting', reason: 'greeting' },
        },
      })),
    );
    expect(decisions).toEqual(['drop:greeting', 'annotate:incident', 'drop:greeting', 'keep:none']);
  });

  it('nak-s the whole batch (retryable) when the policy cannot be read', async () => {
    const gate = createPolicyGate({
      nc: {} as NatsConnection,
      registry: {
        forTenant: async () => {
          throw new MembusError('UNAVAILABLE', 'ingest policy of acme cannot be read', {
            retryable: true,
          });
        },
      } as unknown as PolicyRegistry,
      onDecision: () => {},
    });
    const handler = createStoreHandler(
      {} as JetStreamClient,
      new Embedder({ provider: createLocalEmbeddingProvider() }),
      gate,
    );
    const results = await handler([item(1, 'anything')]);
    expect(
      results.map((result) => (result.ok ? 'ok' : [result.error.code, result.error.retryable])),
    ).toEqual([['UNAVAILABLE', true]]);
  });
});
