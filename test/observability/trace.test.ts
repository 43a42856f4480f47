/**
 * Issue 7: one trace follows a memory from the agent through embedder and vector-store.
 * The services run as processes exporting OTLP/HTTP to an in-test receiver; the client
 * (this process) exports to an in-memory exporter.
 */
import { waitFor } from '@membus/bus/testing';
import { MembusError, type MemoryClient } from '@membus/client';
import { getTracer, startTracing, type Tracing, withSpan } from '@membus/telemetry';
import {
  InMemorySpanExporter,
  type OtlpReceiver,
  type ReceivedSpan,
  startOtlpReceiver,
} from '@membus/telemetry/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

/** OTLP span kinds. */
const Kind = { server: 2, client: 3, producer: 4, consumer: 5 } as const;
/** OTLP status codes. */
const Status = { error: 2 } as const;

/** A span of either source, with the ids as hex strings. */
interface TracedSpan {
  service: string;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
}

let receiver: OtlpReceiver;
let stack: TestStack;
let tracing: Tracing;
let client: MemoryClient;
const exporter = new InMemorySpanExporter();

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  stack = await startTestStack({
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    // Export within ~100 ms instead of the default 5 s batch delay.
    OTEL_BSP_SCHEDULE_DELAY: '100',
    // Query vectors from the embedder, as with a remote model: on the local model the
    // vector-store computes them itself (test/e2e/query-embedding.test.ts) and no embed span exists.
    QUERY_EMBEDDING: 'embedder',
  });
  tracing = startTracing({ service: 'agent', exporter });
  client = await stack.client();
});

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
  await tracing?.shutdown();
  await receiver?.close();
});

const tracer = getTracer('observability-test');

/** The client's spans of this process, in the same shape as the received ones. */
function clientSpans(): TracedSpan[] {
  return exporter.getFinishedSpans().map((span) => ({
    service: 'agent',
    name: span.name,
    traceId: span.spanContext().traceId,
    spanId: span.spanContext().spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? '',
  }));
}

/** Waits until a service exported a span named `name` in `traceId`. */
function serviceSpan(service: string, name: string, traceId: string): Promise<ReceivedSpan> {
  return waitFor(
    () =>
      receiver.spans.find(
        (span) => span.service === service && span.name === name && span.traceId === traceId,
      ),
    { timeoutMs: 15_000, what: `${service} span "${name}" in trace ${traceId}` },
  );
}

function clientSpan(name: string, traceId: string): TracedSpan {
  const span = clientSpans().find((entry) => entry.name === name && entry.traceId === traceId);
  if (!span) throw new Error(`no client span "${name}" in trace ${traceId}`);
  return span;
}

describe('a stored memory is one trace: client -> embedder -> vector-store', () => {
  let traceId: string;
  let chain: {
    publishStore: TracedSpan;
    processStore: ReceivedSpan;
    publishEmbedded: ReceivedSpan;
    processEmbedded: ReceivedSpan;
  };

  beforeAll(async () => {
    traceId = await withSpan(tracer, 'agent remembers', {}, async (span) => {
      await client.store(
        { text: 'Deployed test-app to Vercel production in 45.3 s', kind: 'outcome' },
        { wait: 'queryable' },
      );
      return span.spanContext().traceId;
    });
    const publishStore = clientSpan('publish memory.store', traceId);
    const processStore = await serviceSpan('embedder', 'process memory.store', traceId);
    const publishEmbedded = await serviceSpan('embedder', 'publish memory.embedded', traceId);
    const processEmbedded = await serviceSpan('vector-store', 'process memory.embedded', traceId);
    chain = { publishStore, processStore, publishEmbedded, processEmbedded };
  });

  it("parents the client's publish on the agent's span", () => {
    const root = clientSpan('agent remembers', traceId);
    expect(chain.publishStore.parentSpanId).toBe(root.spanId);
  });

  it("parents the embedder's processing on the client's publish", () => {
    expect(chain.processStore.parentSpanId).toBe(chain.publishStore.spanId);
  });

  it("parents the embedder's publish of the vector on its processing", () => {
    expect(chain.publishEmbedded.parentSpanId).toBe(chain.processStore.spanId);
  });

  it("parents the vector-store's processing on the embedder's publish", () => {
    expect(chain.processEmbedded.parentSpanId).toBe(chain.publishEmbedded.spanId);
  });

  it('marks the consumer span with the OTel messaging conventions', () => {
    expect({ kind: chain.processStore.kind, ...chain.processStore.attributes }).toMatchObject({
      kind: Kind.consumer,
      'messaging.system': 'nats',
      'messaging.destination.name': 'memory.store.default',
      'messaging.destination.template': 'memory.store.{tenant}',
      'messaging.operation.type': 'process',
      'messaging.consumer.group.name': 'embedder',
    });
  });

  it('marks the producer span with the OTel messaging conventions', () => {
    expect({ kind: chain.publishEmbedded.kind, ...chain.publishEmbedded.attributes }).toMatchObject(
      {
        kind: Kind.producer,
        'messaging.system': 'nats',
        'messaging.destination.name': 'memory.embedded.default',
        'messaging.operation.type': 'send',
        'messaging.operation.name': 'publish',
      },
    );
  });
});

describe('a query is one trace: client -> vector-store -> embedder', () => {
  let traceId: string;

  beforeAll(async () => {
    traceId = await withSpan(tracer, 'agent recalls', {}, async (span) => {
      await client.query('vercel production deploy', { topK: 3 });
      return span.spanContext().traceId;
    });
  });

  it("parents the vector-store's request handling on the client's request", async () => {
    const request = clientSpan('request memory.query', traceId);
    const handled = await serviceSpan('vector-store', 'process memory.query', traceId);
    expect([handled.kind, handled.parentSpanId]).toEqual([Kind.server, request.spanId]);
  });

  it('says on the query span where its vector came from', async () => {
    const handled = await serviceSpan('vector-store', 'process memory.query', traceId);
    expect(handled.attributes['membus.query.vector_source']).toBe('embedder');
  });

  it("parents the embedder's query embedding on the vector-store's request to it", async () => {
    const request = await serviceSpan('vector-store', 'request memory.embed', traceId);
    const handled = await serviceSpan('embedder', 'process memory.embed', traceId);
    expect(handled.parentSpanId).toBe(request.spanId);
  });

  it("nests the vector-store's embed request inside its query handling", async () => {
    const handled = await serviceSpan('vector-store', 'process memory.query', traceId);
    const request = await serviceSpan('vector-store', 'request memory.embed', traceId);
    expect(request.parentSpanId).toBe(handled.spanId);
  });
});

describe('a failed request is recorded on its span', () => {
  let failed: ReceivedSpan;

  beforeAll(async () => {
    const traceId = await withSpan(tracer, 'agent updates', {}, async (span) => {
      await client
        .update('01935c3e-0000-7000-8000-000000000000', { importance: 1 })
        .catch((error: unknown) => {
          if (!(error instanceof MembusError)) throw error;
        });
      return span.spanContext().traceId;
    });
    failed = await serviceSpan('vector-store', 'process memory.update', traceId);
  });

  it('sets ERROR status and error.type to the error code', () => {
    expect([failed.status.code, failed.attributes['error.type']]).toEqual([
      Status.error,
      'NOT_FOUND',
    ]);
  });

  it('records the error as an exception event', () => {
    expect(failed.events.map((event) => event.attributes['exception.type'])).toEqual(['NOT_FOUND']);
  });
});
