import { createHmac, randomBytes } from 'node:crypto';
import { Headers, MembusError } from '@membus/contracts';
import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import { headers as createHeaders, type MsgHdrs, type NatsConnection } from '@nats-io/nats-core';
import { type Context, context, SpanKind, trace } from '@opentelemetry/api';
import { encode } from './codec.ts';
import { permissionError } from './request-reply.ts';
import { endSpan, injectTraceContext, startMessagingSpan } from './tracing.ts';

export interface DurablePublishOptions {
  /** JetStream de-duplication id: a retried publish with the same id is stored once. */
  messageId?: string;
  headers?: MsgHdrs;
  /** Trace context to continue (defaults to the active one). */
  trace?: Context;
  timeoutMs?: number;
}

/** Publishes to JetStream and resolves once the server has stored the message. */
export async function publishDurable(
  js: JetStreamClient,
  subject: string,
  payload: unknown,
  options: DurablePublishOptions = {},
): Promise<PubAck> {
  const parent = options.trace ?? context.active();
  const data = encode(payload);
  const span = startMessagingSpan(undefined, {
    kind: SpanKind.PRODUCER,
    subject,
    operation: 'send',
    operationName: 'publish',
    parent,
    bodySize: data.byteLength,
    ...(options.messageId ? { messageId: options.messageId } : {}),
  });
  const headers = options.headers ?? createHeaders();
  injectTraceContext(headers, trace.setSpan(parent, span));
  if (options.messageId) headers.set(Headers.messageId, options.messageId);
  try {
    const ack = await js.publish(subject, data, {
      headers,
      ...(options.messageId ? { msgID: options.messageId } : {}),
      timeout: options.timeoutMs ?? 5_000,
    });
    endSpan(span);
    return ack;
  } catch (error) {
    const failure =
      permissionError(error, subject) ??
      new MembusError('UNAVAILABLE', `publish to ${subject} failed: ${(error as Error).message}`, {
        cause: error,
      });
    endSpan(span, failure);
    throw failure;
  }
}

const processKey = randomBytes(32);

/**
 * A JetStream de-duplication id for a message a service publishes into a stream that agents
 * publish into too (`MEMORY_STORE`, `MEMORY_OUTCOMES`, `MEMORY_LIFECYCLE`). JetStream drops a
 * repeated `Nats-Msg-Id` per stream, whoever sent the first: a predictable id (say
 * `outcome:<tenant>:<id>`) could be published first by another tenant and this message would be
 * acked and dropped. Keyed with a secret of this process, the id can be neither predicted nor
 * collided with, and a retry by the same process still de-duplicates (decision 006).
 */
export function privateMessageId(...parts: string[]): string {
  return createHmac('sha256', processKey).update(parts.join('\u0000')).digest('base64url');
}

/** Fire-and-forget core publish (notifications to a waiting client's inbox). */
export function publishCore(nc: NatsConnection, subject: string, payload: unknown): void {
  nc.publish(subject, encode(payload));
}
