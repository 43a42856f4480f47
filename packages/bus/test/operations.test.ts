import { Headers, Limits, MembusError, Operations, packVector } from '@membus/contracts';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  consumeOperation,
  embedBatches,
  embedTexts,
  ensureConsumer,
  ensureStreams,
  operationConsumer,
  publishOperation,
  serveOperation,
  storeMemory,
} from '../src/index.ts';
import { waitFor } from '../src/testing/index.ts';
import { natsForTests } from '../src/testing/nats-for-tests.ts';

const bus = natsForTests('operations-test');

beforeAll(async () => {
  await ensureStreams(await jetstreamManager(bus.nc));
});

const uuid = (n: number) => `01935c3e-8f5a-7c3b-9d2e-${n.toString().padStart(12, '0')}`;

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return MembusError.is(error) ? error.code : 'untyped';
  }
}

describe('call and serveOperation', () => {
  it('answers an operation on its tenant subject, the tenant taken from the subject', async () => {
    const tenants: string[] = [];
    const service = serveOperation(bus.nc, Operations.stats, async (request, { tenant }) => {
      tenants.push(tenant);
      return {
        v: 1 as const,
        total: request.filter?.namespace === 'ops' ? 7 : 0,
        byScope: {},
        byKind: {},
        byTier: {},
        byNamespace: {},
        byCategory: {},
      };
    });
    try {
      const reply = await call(bus.nc, Operations.stats, 'acme', { filter: { namespace: 'ops' } });
      expect({ total: reply.total, tenants }).toEqual({ total: 7, tenants: ['acme'] });
    } finally {
      await service.drain();
    }
  });

  it('refuses a tenant that would widen the subject before sending anything', async () => {
    expect(await codeOf(call(bus.nc, Operations.stats, 'a.>', {}))).toBe('INVALID_TENANT');
  });

  it('turns an invalid request into INVALID_MESSAGE from the serving side', async () => {
    const service = serveOperation(bus.nc, Operations.get, async () => ({
      v: 1 as const,
      memories: [],
      missing: [],
    }));
    try {
      expect(await codeOf(call(bus.nc, Operations.get, 'acme', { ids: [] }))).toBe(
        'INVALID_MESSAGE',
      );
    } finally {
      await service.drain();
    }
  });
});

describe('publishOperation', () => {
  it("publishes version 1 of the message on the operation's tenant subject", async () => {
    const js = jetstream(bus.nc);
    const ack = await publishOperation(js, Operations.sessionEnd, 'pubop', { sessionId: 's1' });
    const jsm = await jetstreamManager(bus.nc);
    const stored = await jsm.streams.getMessage(ack.stream, { seq: ack.seq });
    expect({ subject: stored?.subject, body: stored?.json() }).toEqual({
      subject: 'memory.session.end.pubop',
      body: { sessionId: 's1', v: 1 },
    });
  });
});

describe('consumeOperation', () => {
  it("hands the consuming service's durable the typed messages of its operation", async () => {
    const js = jetstream(bus.nc);
    expect([
      operationConsumer(Operations.sessionEnd),
      operationConsumer(Operations.stored),
    ]).toEqual([
      { stream: 'MEMORY_LIFECYCLE', durable: 'compactor' },
      { stream: 'MEMORY_EVENTS', durable: 'compactor', filterSubject: 'memory.stored.*' },
    ]);
    await ensureConsumer(await jetstreamManager(bus.nc), operationConsumer(Operations.sessionEnd));
    const seen: string[] = [];
    const consumer = await consumeOperation(js, Operations.sessionEnd, {
      handler: async (items) =>
        items.map((item) => {
          seen.push(`${item.tenant}:${item.value.sessionId}`);
          return { ok: true };
        }),
    });
    try {
      await publishOperation(js, Operations.sessionEnd, 'consumed', { sessionId: 's9' });
      await waitFor(() => seen.includes('consumed:s9'), { what: 'the session end' });
    } finally {
      await consumer.stop();
    }
  });
});

describe('storeMemory', () => {
  async function published(tenant: string, memory: { id: string; text: string }, options = {}) {
    const ack = await storeMemory(jetstream(bus.nc), tenant, memory, options);
    const jsm = await jetstreamManager(bus.nc);
    const stored = await jsm.streams.getMessage(ack.stream, { seq: ack.seq });
    return {
      subject: stored?.subject,
      messageId: stored?.header.get(Headers.messageId) || undefined,
      notify: stored?.header.get(Headers.notify) || undefined,
    };
  }

  it('de-duplicates a service store privately, and no store that waits or comes from an agent', async () => {
    const service = await published(
      'dedupe',
      { id: uuid(1), text: 'a service store' },
      {
        service: 'pattern-extractor',
      },
    );
    const waiting = await published(
      'dedupe',
      { id: uuid(2), text: 'a waiting store' },
      {
        service: 'compactor',
        notifyToken: 'token-2',
      },
    );
    const agent = await published('dedupe', { id: uuid(3), text: 'an agent store' });
    expect({
      service: [service.subject, typeof service.messageId, service.messageId?.includes(uuid(1))],
      waiting: [waiting.messageId, waiting.notify],
      agent: [agent.messageId, agent.notify],
    }).toEqual({
      service: ['memory.store.dedupe', 'string', false],
      waiting: [undefined, 'token-2'],
      agent: [undefined, undefined],
    });
  });

  it('refuses an invalid memory before publishing it', async () => {
    const jsm = await jetstreamManager(bus.nc);
    const before = (await jsm.streams.info('MEMORY_STORE')).state.messages;
    const code = await codeOf(
      storeMemory(jetstream(bus.nc), 'dedupe', { id: uuid(4), text: '  ' }),
    );
    const after = (await jsm.streams.info('MEMORY_STORE')).state.messages;
    expect({ code, published: after - before }).toEqual({ code: 'INVALID_MESSAGE', published: 0 });
  });
});

describe('embedTexts', () => {
  /** A fake embedder: vector [index in request, length of text]; documents upper-cased. */
  function fakeEmbedder(options: { documents?: boolean } = {}) {
    const requests: number[] = [];
    const service = serveOperation(bus.nc, Operations.embed, async (request) => {
      requests.push(request.texts.length);
      return {
        v: 1 as const,
        model: 'fake',
        dimension: 2,
        vectors: request.texts.map((text, index) =>
          packVector(new Float32Array([index, text.length])),
        ),
        ...(request.purpose === 'document' && options.documents !== false
          ? {
              documents: request.texts.map((text) => ({
                text: text.toUpperCase(),
                contentHash: 'h',
              })),
            }
          : {}),
        ...(request.metadata !== undefined ? { metadata: { masked: true } } : {}),
      };
    });
    return { requests, service };
  }

  it('embeds many texts in byte-bounded requests, vectors and stored forms in order', async () => {
    const { requests, service } = fakeEmbedder();
    try {
      const texts = Array.from({ length: 120 }, (_, index) => `${index} ${'x'.repeat(2_000)}`);
      const models: string[] = [];
      const result = await embedTexts(bus.nc, texts, 'document', {
        onModel: (model) => models.push(model),
      });
      expect({
        vectors: result.vectors.length,
        lengthsInOrder: result.vectors.every((vector, index) => vector[1] === texts[index]?.length),
        documentsInOrder: result.documents.every(
          (document, index) => document.text === texts[index]?.toUpperCase(),
        ),
        requests: requests.length > 1 && requests.reduce((sum, count) => sum + count, 0),
        models: models.length === requests.length,
        model: result.model,
      }).toEqual({
        vectors: 120,
        lengthsInOrder: true,
        documentsInOrder: true,
        requests: 120,
        models: true,
        model: 'fake',
      });
    } finally {
      await service.drain();
    }
  });

  it('sends metadata alone as one request and returns it as the embedder stored it', async () => {
    const { requests, service } = fakeEmbedder();
    try {
      const result = await embedTexts(bus.nc, [], 'document', { metadata: { secret: 'x' } });
      expect({ requests, metadata: result.metadata, vectors: result.vectors }).toEqual({
        requests: [0],
        metadata: { masked: true },
        vectors: [],
      });
    } finally {
      await service.drain();
    }
  });

  it('fails with EMBEDDING_FAILED when a document reply does not say how it stored the texts', async () => {
    const { service } = fakeEmbedder({ documents: false });
    try {
      expect(await codeOf(embedTexts(bus.nc, ['a'], 'document'))).toBe('EMBEDDING_FAILED');
    } finally {
      await service.drain();
    }
  });
});

describe('embed batches', () => {
  it('bounds each embed exchange by bytes as well as by count', () => {
    const texts = Array.from({ length: 300 }, (_, index) => `${index} ${'x'.repeat(2_000)}`);
    const batches = embedBatches(texts, 384);
    const largest = Math.max(
      ...batches.map((batch) => Buffer.byteLength(JSON.stringify({ v: 1, texts: batch }))),
    );
    expect({
      all: batches.flat().length,
      underHalfTheLimit: largest < Limits.messageBytes / 2,
      batches: batches.length > 1,
    }).toEqual({ all: 300, underHalfTheLimit: true, batches: true });
  });
});
