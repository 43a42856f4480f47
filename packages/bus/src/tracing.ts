import type { MsgHdrs } from '@nats-io/nats-core';
import {
  type Context,
  context,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type TextMapSetter,
  trace,
} from '@opentelemetry/api';

const setter: TextMapSetter<MsgHdrs> = {
  set: (headers, key, value) => headers.set(key, value),
};

const getter: TextMapGetter<MsgHdrs | undefined> = {
  keys: (headers) => (headers ? [...headers.keys()] : []),
  get: (headers, key) => (headers?.has(key) ? headers.get(key) : undefined),
};

/** Writes the W3C trace context of `active` into NATS headers. */
export function injectTraceContext(headers: MsgHdrs, active: Context = context.active()): void {
  propagation.inject(active, headers, setter);
}

/** Reads the W3C trace context from NATS headers (the active context when absent). */
export function extractTraceContext(headers: MsgHdrs | undefined): Context {
  return propagation.extract(context.active(), headers, getter);
}

export const tracer = trace.getTracer('@membus/bus');

export type MessagingOperation = 'publish' | 'receive' | 'process' | 'send';

/** A span following the OTel messaging conventions for NATS. */
export function startMessagingSpan(
  name: string,
  options: { kind: SpanKind; subject: string; operation: MessagingOperation; parent: Context },
): Span {
  return tracer.startSpan(
    name,
    {
      kind: options.kind,
      attributes: {
        'messaging.system': 'nats',
        'messaging.destination.name': options.subject,
        'messaging.operation.type': options.operation,
      },
    },
    options.parent,
  );
}

/** Marks a span failed with the error's code and message, and ends it. */
export function endSpan(span: Span, error?: { code?: string; message: string }): void {
  if (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    if (error.code) span.setAttribute('error.type', error.code);
  }
  span.end();
}

export { SpanKind };
