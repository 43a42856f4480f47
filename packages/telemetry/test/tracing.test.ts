import { type Context, context, propagation, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { getTracer, startTracing, type Tracing, withSpan } from '../src/index.ts';

let tracing: Tracing | undefined;

afterEach(async () => {
  await tracing?.shutdown();
  tracing = undefined;
});

function startInMemory(): InMemorySpanExporter {
  const exporter = new InMemorySpanExporter();
  tracing = startTracing({ service: 'test-service', version: '1.2.3', exporter });
  return exporter;
}

function only(spans: ReadableSpan[], name: string): ReadableSpan {
  const matching = spans.filter((span) => span.name === name);
  if (matching.length !== 1) throw new Error(`expected one span ${name}, got ${matching.length}`);
  return matching[0]!;
}

class CodedError extends Error {
  readonly code = 'VECTOR_STORE_UNAVAILABLE';
}

describe('startTracing', () => {
  it('is disabled without an endpoint or an exporter', () => {
    tracing = startTracing({ service: 'test-service' });
    expect(tracing.enabled).toBe(false);
  });

  it('registers nothing globally when disabled', async () => {
    tracing = startTracing({ service: 'test-service' });
    const span = getTracer('test').startSpan('ignored');
    expect(span.isRecording()).toBe(false);
  });

  it('is enabled with an exporter', () => {
    startInMemory();
    expect(tracing?.enabled).toBe(true);
  });

  it('puts the service name and version on the span resource', async () => {
    const exporter = startInMemory();
    await withSpan(getTracer('test'), 'work', {}, async () => undefined);
    expect(only(exporter.getFinishedSpans(), 'work').resource.attributes).toMatchObject({
      'service.name': 'test-service',
      'service.version': '1.2.3',
    });
  });

  it('refuses to start twice without a shutdown in between', () => {
    startInMemory();
    expect(() => startTracing({ service: 'again', exporter: new InMemorySpanExporter() })).toThrow(
      /already started/,
    );
  });

  it('can start again after shutdown', async () => {
    startInMemory();
    await tracing?.shutdown();
    const exporter = startInMemory();
    await withSpan(getTracer('test'), 'second-run', {}, async () => undefined);
    expect(exporter.getFinishedSpans().map((span) => span.name)).toEqual(['second-run']);
  });

  it('injects a W3C traceparent through the global propagator', async () => {
    startInMemory();
    const carrier: Record<string, string> = {};
    await withSpan(getTracer('test'), 'outgoing', {}, async () => {
      propagation.inject(context.active(), carrier);
    });
    expect(carrier.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('unregisters the global provider on shutdown', async () => {
    startInMemory();
    await tracing?.shutdown();
    expect(getTracer('test').startSpan('after').isRecording()).toBe(false);
  });

  it('exports to an OTLP/HTTP endpoint when one is given', () => {
    tracing = startTracing({ service: 'test-service', endpoint: 'http://127.0.0.1:1' });
    expect(tracing.enabled).toBe(true);
  });
});

describe('withSpan', () => {
  it('records a span with the given name', async () => {
    const exporter = startInMemory();
    await withSpan(getTracer('test'), 'memory.store', {}, async () => 'done');
    expect(exporter.getFinishedSpans().map((span) => span.name)).toEqual(['memory.store']);
  });

  it('returns the value of fn', async () => {
    startInMemory();
    const value = await withSpan(getTracer('test'), 'compute', {}, async () => 42);
    expect(value).toBe(42);
  });

  it('passes the span options to the span', async () => {
    const exporter = startInMemory();
    await withSpan(getTracer('test'), 'tagged', { attributes: { tenant: 'acme' } }, async () => 1);
    expect(only(exporter.getFinishedSpans(), 'tagged').attributes).toEqual({ tenant: 'acme' });
  });

  it('makes the span active inside fn', async () => {
    startInMemory();
    let activeSpanId: string | undefined;
    let ownSpanId: string | undefined;
    await withSpan(getTracer('test'), 'active', {}, async (span) => {
      await Promise.resolve();
      activeSpanId = trace.getActiveSpan()?.spanContext().spanId;
      ownSpanId = span.spanContext().spanId;
    });
    expect(activeSpanId).toBe(ownSpanId);
  });

  it('rethrows the error of fn', async () => {
    startInMemory();
    const failing = withSpan(getTracer('test'), 'failing', {}, async () => {
      throw new Error('embedding failed');
    });
    await expect(failing).rejects.toThrow('embedding failed');
  });

  it('sets ERROR status with the message when fn throws', async () => {
    const exporter = startInMemory();
    await withSpan(getTracer('test'), 'failing', {}, async () => {
      throw new Error('embedding failed');
    }).catch(() => undefined);
    expect(only(exporter.getFinishedSpans(), 'failing').status).toEqual({
      code: SpanStatusCode.ERROR,
      message: 'embedding failed',
    });
  });

  it('records an exception event when fn throws', async () => {
    const exporter = startInMemory();
    await withSpan(getTracer('test'), 'failing', {}, async () => {
      throw new Error('embedding failed');
    }).catch(() => undefined);
    const events = only(exporter.getFinishedSpans(), 'failing').events;
    expect(events.map((event) => [event.name, event.attributes?.['exception.message']])).toEqual([
      ['exception', 'embedding failed'],
    ]);
  });

  it("sets error.type to the error's code", async () => {
    const exporter = startInMemory();
    await withSpan(getTracer('test'), 'coded', {}, async () => {
      throw new CodedError('store down');
    }).catch(() => undefined);
    expect(only(exporter.getFinishedSpans(), 'coded').attributes['error.type']).toBe(
      'VECTOR_STORE_UNAVAILABLE',
    );
  });

  it('nests spans as parent and child in one trace', async () => {
    const exporter = startInMemory();
    const tracer = getTracer('test');
    await withSpan(tracer, 'parent', {}, async () => {
      await withSpan(tracer, 'child', {}, async () => undefined);
    });
    const spans = exporter.getFinishedSpans();
    const parent = only(spans, 'parent').spanContext();
    const child = only(spans, 'child');
    expect({
      traceId: child.spanContext().traceId,
      parentSpanId: child.parentSpanContext?.spanId,
    }).toEqual({ traceId: parent.traceId, parentSpanId: parent.spanId });
  });

  it('parents the span on an explicit parent context', async () => {
    const exporter = startInMemory();
    const tracer = getTracer('test');
    let remote: Context = context.active();
    await withSpan(tracer, 'upstream', {}, async () => {
      const carrier: Record<string, string> = {};
      propagation.inject(context.active(), carrier);
      remote = propagation.extract(context.active(), carrier);
    });
    await withSpan(tracer, 'downstream', { parent: remote }, async () => undefined);
    const spans = exporter.getFinishedSpans();
    expect(only(spans, 'downstream').parentSpanContext?.spanId).toBe(
      only(spans, 'upstream').spanContext().spanId,
    );
  });
});
