import { Subjects } from '@membus/contracts';
import type { MsgHdrs } from '@nats-io/nats-core';
import {
  type Attributes,
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

/**
 * `messaging.operation.type` of the OTel messaging conventions: `send` for a publish or a
 * request, `process` for handling a delivered message or request.
 */
export type MessagingOperation = 'send' | 'receive' | 'process' | 'settle' | 'create';

/** Subjects whose last token is the tenant (everything but `memory.embed`). */
const tenantScoped: ReadonlySet<string> = new Set(
  Object.values(Subjects).filter((subject) => subject !== Subjects.embed),
);

/**
 * The subject without its tenant token (`memory.store.acme` -> `memory.store`): low
 * cardinality, so it names spans and metrics.
 */
export function subjectTemplate(subject: string): string {
  const cut = subject.lastIndexOf('.');
  const base = cut > 0 ? subject.slice(0, cut) : subject;
  return tenantScoped.has(base) ? base : subject;
}

export interface MessagingSpanOptions {
  kind: SpanKind;
  /** The concrete subject (with the tenant token); the span is named by its template. */
  subject: string;
  operation: MessagingOperation;
  /** `messaging.operation.name`, e.g. `publish`, `request`, `process` (default: `operation`). */
  operationName?: string;
  parent: Context;
  /** Durable consumer or queue group (`messaging.consumer.group.name`). */
  consumerGroup?: string;
  /** JetStream de-duplication id (`messaging.message.id`). */
  messageId?: string;
  /** Payload size in bytes (`messaging.message.body.size`). */
  bodySize?: number;
  attributes?: Attributes;
}

/**
 * A span following the OTel messaging conventions for NATS: named
 * `<operation name> <subject template>`, with `messaging.system = nats`, the destination
 * (concrete subject and its tenant-free template) and the operation type.
 */
export function startMessagingSpan(name: string | undefined, options: MessagingSpanOptions): Span {
  const template = subjectTemplate(options.subject);
  const operationName = options.operationName ?? options.operation;
  const attributes: Attributes = {
    'messaging.system': 'nats',
    'messaging.destination.name': options.subject,
    'messaging.operation.type': options.operation,
    'messaging.operation.name': operationName,
    ...options.attributes,
  };
  if (template !== options.subject) {
    attributes['messaging.destination.template'] = `${template}.{tenant}`;
  }
  if (options.consumerGroup) attributes['messaging.consumer.group.name'] = options.consumerGroup;
  if (options.messageId) attributes['messaging.message.id'] = options.messageId;
  if (options.bodySize !== undefined) attributes['messaging.message.body.size'] = options.bodySize;
  return tracer.startSpan(
    name ?? `${operationName} ${template}`,
    { kind: options.kind, attributes },
    options.parent,
  );
}

/**
 * Ends a span; with an error, records it as an exception event, sets ERROR status with its
 * message and `error.type` to its code.
 */
export function endSpan(span: Span, error?: { code?: string; message: string }): void {
  if (error) {
    span.recordException({
      name: error.code ?? 'Error',
      message: error.message,
      ...(error.code ? { code: error.code } : {}),
    });
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    span.setAttribute('error.type', error.code ?? 'Error');
  }
  span.end();
}

export { SpanKind };
