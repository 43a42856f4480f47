import {
  type Attributes,
  type Context,
  context,
  propagation,
  type Span,
  type SpanOptions,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import {
  ATTR_ERROR_TYPE,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
} from '@opentelemetry/semantic-conventions';

export interface TracingOptions {
  /** `service.name` of every span. */
  service: string;
  /** `service.version` of every span. */
  version?: string;
  /** OTLP/HTTP base URL (`OTEL_EXPORTER_OTLP_ENDPOINT`); spans go to `<endpoint>/v1/traces` in batches. */
  endpoint?: string;
  /** An exporter fed span by span (tests: `InMemorySpanExporter`). */
  exporter?: SpanExporter;
}

export interface Tracing extends AsyncDisposable {
  /** False when neither `endpoint` nor `exporter` was given: nothing was registered. */
  readonly enabled: boolean;
  /** Flushes pending spans, then unregisters the global provider, context manager and propagator. */
  shutdown(): Promise<void>;
}

/** Whether an SDK is registered globally by this module right now. */
let started = false;

/**
 * Starts the OTel SDK and registers it globally: the one place a process does so.
 * Libraries only use `@opentelemetry/api` (`getTracer`, `withSpan`).
 */
export function startTracing(options: TracingOptions): Tracing {
  const processors: SpanProcessor[] = [];
  if (options.endpoint) {
    processors.push(
      new BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl(options.endpoint) })),
    );
  }
  if (options.exporter) processors.push(new SimpleSpanProcessor(options.exporter));
  if (processors.length === 0) {
    const noop = async (): Promise<void> => {};
    return { enabled: false, shutdown: noop, [Symbol.asyncDispose]: noop };
  }
  if (started) {
    throw new Error('tracing is already started in this process; shut it down first');
  }

  const provider = new NodeTracerProvider({
    resource: defaultResource().merge(
      resourceFromAttributes({
        [ATTR_SERVICE_NAME]: options.service,
        ...(options.version ? { [ATTR_SERVICE_VERSION]: options.version } : {}),
      }),
    ),
    spanProcessors: processors,
  });
  // contextManager left undefined: register() installs an AsyncLocalStorageContextManager.
  provider.register({ propagator: new W3CTraceContextPropagator() });
  started = true;

  let stopped: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    stopped ??= provider.shutdown().finally(() => {
      trace.disable();
      context.disable();
      propagation.disable();
      started = false;
    });
    return stopped;
  };
  return { enabled: true, shutdown, [Symbol.asyncDispose]: shutdown };
}

/** A tracer from the global provider (a no-op one until `startTracing` registers the SDK). */
export function getTracer(name: string, version?: string): Tracer {
  return trace.getTracer(name, version);
}

/** Span options plus the context to parent the span on (default: the active one). */
export type WithSpanOptions = SpanOptions & { parent?: Context };

/**
 * Runs `fn` inside a new span, made active for everything `fn` awaits. A throw is
 * recorded as an exception event, sets ERROR status with its message (and `error.type`
 * to its `code`, when it has one) and is rethrown. The span always ends.
 */
/** Sets attributes on the span active here, if any (a no-op when tracing is off). */
export function setActiveSpanAttributes(attributes: Attributes): void {
  trace.getActiveSpan()?.setAttributes(attributes);
}

export async function withSpan<T>(
  tracer: Tracer,
  name: string,
  options: WithSpanOptions,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const { parent = context.active(), ...spanOptions } = options;
  const span = tracer.startSpan(name, spanOptions, parent);
  return context.with(trace.setSpan(parent, span), async () => {
    try {
      return await fn(span);
    } catch (error) {
      recordFailure(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

function recordFailure(span: Span, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  span.recordException(error instanceof Error ? error : message);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
  const code = typeof error === 'object' && error !== null ? Reflect.get(error, 'code') : undefined;
  if (typeof code === 'string' || typeof code === 'number') {
    span.setAttribute(ATTR_ERROR_TYPE, String(code));
  }
}

function tracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}
