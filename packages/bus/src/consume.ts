import {
  type DeadLetter,
  Headers,
  Limits,
  MembusError,
  Subjects,
  tenantOf,
  UNKNOWN_TENANT,
} from '@membus/contracts';
import type { ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { headers as createHeaders, type MsgHdrs } from '@nats-io/nats-core';
import { type Context, context, type Span, SpanKind, trace } from '@opentelemetry/api';
import type { z } from 'zod';
import { decode, encode } from './codec.ts';
import { type BusObserver, subjectBase } from './observer.ts';
import { endSpan, extractTraceContext, startMessagingSpan } from './tracing.ts';

/** One decoded stream message handed to a batch handler. */
export interface StreamItem<T> {
  value: T;
  tenant: string;
  subject: string;
  headers: MsgHdrs | undefined;
  /** 1 on first delivery. */
  deliveries: number;
  /** Stream sequence: the same for every redelivery of this message. */
  sequence: number;
  /** The trace context of this message's processing span: run follow-up publishes in it. */
  trace: Context;
}

/** What the handler says about each item: done, or failed (retryable or not). */
export type ItemResult = { ok: true } | { ok: false; error: MembusError };

export interface ConsumeOptions<S extends z.ZodType> {
  js: JetStreamClient;
  stream: string;
  consumer: string;
  schema: S;
  /**
   * Handles a batch; returns one result per item, in order. Throwing fails the whole batch
   * with that error (retried when retryable).
   */
  handler: (items: StreamItem<z.output<S>>[]) => Promise<ItemResult[]>;
  /**
   * Most messages per batch, and the longest wait to fill one (ms). A batch takes every message
   * already delivered without waiting; `maxWaitMs` 0 waits for none beyond those (batches then
   * grow with the load: what arrives while batches are in flight forms the next one).
   */
  maxBatch?: number;
  maxWaitMs?: number;
  /** Batches processed at once. */
  concurrency?: number;
  /** Must match the consumer's max_deliver: the last delivery dead-letters instead of nak. */
  maxDeliver?: number;
  /** Delay before redelivery of a retryable failure, by delivery count (ms). */
  backoffMs?: (deliveries: number) => number;
  /** Must be below the consumer's ack_wait: `working()` is sent this often during long work. */
  workingIntervalMs?: number;
  observer?: BusObserver;
  /**
   * Called after a message is dead-lettered (e.g. to tell a waiting client), with the message's
   * whole body (the letter's copy is cut at `Limits.deadLetterPayloadBytes`).
   */
  onDeadLetter?: (
    letter: DeadLetter,
    headers: MsgHdrs | undefined,
    data: Uint8Array,
  ) => void | Promise<void>;
}

export interface StreamConsumer {
  /** Stops pulling, finishes the batches in flight, acks them. */
  stop(): Promise<void>;
  /** Resolves when the loop ends (after stop, or when the consumer is deleted). */
  readonly done: Promise<void>;
}

const TIMEOUT = Symbol('timeout');

/** Default: 1 s, 2 s, 4 s ... capped at 30 s. */
export const exponentialBackoff = (deliveries: number): number =>
  Math.min(30_000, 1_000 * 2 ** Math.max(0, deliveries - 1));

/**
 * Pulls a durable consumer in micro-batches and applies the one JetStream decision table:
 * success -> ack; undecodable or invalid -> term + dead-letter; retryable failure -> nak with
 * backoff until the last delivery, then dead-letter; other failure -> dead-letter.
 */
export async function consumeStream<S extends z.ZodType>(
  options: ConsumeOptions<S>,
): Promise<StreamConsumer> {
  const maxBatch = options.maxBatch ?? 128;
  const maxWaitMs = options.maxWaitMs ?? 5;
  const concurrency = options.concurrency ?? 1;
  const maxDeliver = options.maxDeliver ?? 5;
  const backoff = options.backoffMs ?? exponentialBackoff;
  const consumer = await options.js.consumers.get(options.stream, options.consumer);
  const messages: ConsumerMessages = await consumer.consume({
    max_messages: Math.max(maxBatch * 2, 256),
  });
  const inFlight = new Set<Promise<void>>();
  let stopping = false;

  const deadLetter = async (message: JsMsg, error: MembusError): Promise<void> => {
    const tenant = tenantOf(message.subject) ?? UNKNOWN_TENANT;
    const letter: DeadLetter = {
      v: 1,
      subject: message.subject,
      stream: options.stream,
      deliveries: message.info.deliveryCount,
      error: error.toJSON(),
      // An oversize message copied whole would make an oversize letter.
      payload: Buffer.from(message.data.subarray(0, Limits.deadLetterPayloadBytes)).toString(
        'utf8',
      ),
      payloadBytes: message.data.byteLength,
      truncated: message.data.byteLength > Limits.deadLetterPayloadBytes,
      at: new Date().toISOString(),
    };
    const headers = createHeaders();
    headers.set(Headers.errorCode, error.code);
    headers.set(Headers.errorMessage, error.message.slice(0, 1_000).replace(/[\r\n]+/g, ' '));
    headers.set(Headers.originalSubject, message.subject);
    headers.set(Headers.deliveries, String(message.info.deliveryCount));
    // The stream sequence makes the DLQ publish idempotent across our own retries.
    headers.set(Headers.messageId, `dlq:${options.stream}:${message.seq}`);
    await options.js.publish(`${Subjects.dlq}.${tenant}`, encode(letter), { headers });
    // No reason argument: nats-server < 2.10 ignores a `+TERM <reason>` ack, leaving the message
    // pending until ack_wait and redelivering it. The reason is in the DLQ headers and body.
    message.term();
    await options.onDeadLetter?.(letter, message.headers, message.data);
  };

  const settle = async (
    message: JsMsg,
    result: ItemResult,
    span: Span,
    started: number,
  ): Promise<void> => {
    const base = subjectBase(message.subject, true);
    const deliveries = message.info.deliveryCount;
    let outcome: 'ok' | 'retry' | 'dead_letter' = 'ok';
    let code: MembusError['code'] | undefined;
    if (result.ok) {
      message.ack();
    } else {
      code = result.error.code;
      if (result.error.retryable && deliveries < maxDeliver) {
        outcome = 'retry';
        message.nak(backoff(deliveries));
      } else {
        outcome = 'dead_letter';
        try {
          await deadLetter(message, result.error);
        } catch {
          // The DLQ itself is unreachable: leave the message for redelivery, never drop it.
          outcome = 'retry';
          message.nak(backoff(deliveries));
        }
      }
    }
    endSpan(span, result.ok ? undefined : result.error);
    options.observer?.({
      subject: base,
      kind: 'stream',
      outcome,
      ...(code ? { code } : {}),
      seconds: (performance.now() - started) / 1000,
      deliveries,
    });
  };

  const processBatch = async (batch: JsMsg[]): Promise<void> => {
    const started = performance.now();
    const working = setInterval(() => {
      for (const message of batch) message.working();
    }, options.workingIntervalMs ?? 10_000);
    try {
      const spans = new Map<JsMsg, Span>();
      const items: StreamItem<z.output<S>>[] = [];
      const itemMessages: JsMsg[] = [];
      const settled: Promise<void>[] = [];
      for (const message of batch) {
        const span = startMessagingSpan(undefined, {
          kind: SpanKind.CONSUMER,
          subject: message.subject,
          operation: 'process',
          parent: extractTraceContext(message.headers),
          consumerGroup: options.consumer,
          bodySize: message.data.byteLength,
          attributes: { 'messaging.nats.delivery_count': message.info.deliveryCount },
        });
        spans.set(message, span);
        const tenant = tenantOf(message.subject);
        const decoded = decode(options.schema, message.data);
        if (!tenant || !decoded.ok) {
          const error = !tenant
            ? new MembusError(
                'INVALID_TENANT',
                `subject "${message.subject}" names no valid tenant`,
              )
            : (decoded as { ok: false; error: MembusError }).error;
          settled.push(settle(message, { ok: false, error }, span, started));
          continue;
        }
        items.push({
          value: decoded.value,
          tenant,
          subject: message.subject,
          headers: message.headers,
          deliveries: message.info.deliveryCount,
          sequence: message.seq,
          trace: trace.setSpan(context.active(), span),
        });
        itemMessages.push(message);
      }
      if (items.length > 0) {
        let results: ItemResult[];
        try {
          results = await options.handler(items);
          if (results.length !== items.length) {
            throw new MembusError(
              'INTERNAL',
              `handler returned ${results.length} results for ${items.length} items`,
            );
          }
        } catch (thrown) {
          const error = MembusError.from(thrown);
          results = items.map(() => ({ ok: false, error }));
        }
        itemMessages.forEach((message, index) => {
          const result = results[index] as ItemResult;
          settled.push(settle(message, result, spans.get(message) as Span, started));
        });
      }
      await Promise.all(settled);
    } finally {
      clearInterval(working);
    }
  };

  /** Messages taken from the iterator so far. */
  let taken = 0;
  /**
   * `next`'s message if the client held one when `next` was asked for (the iterator then counts
   * it processed at once, and `next` resolves within microtasks), TIMEOUT if none. Not
   * `getPending()`: it still counts a status entry the iterator consumed, and waiting on it
   * held a batch until the next message came (up to a heartbeat when none came).
   */
  const delivered = async (
    next: Promise<IteratorResult<JsMsg>>,
  ): Promise<IteratorResult<JsMsg> | typeof TIMEOUT> =>
    messages.getProcessed() > taken ? await next : TIMEOUT;

  const done = (async () => {
    const iterator = messages[Symbol.asyncIterator]();
    let next = iterator.next();
    while (!stopping) {
      const first = await next;
      if (first.done) break;
      const batch: JsMsg[] = [first.value];
      taken++;
      next = iterator.next();
      const deadline = performance.now() + maxWaitMs;
      while (batch.length < maxBatch) {
        const remaining = deadline - performance.now();
        // Past the wait, only what was delivered already: no timer, no turn of the event loop.
        const result = remaining > 0 ? await raceTimeout(next, remaining) : await delivered(next);
        if (result === TIMEOUT) break;
        taken++;
        if (result.done) {
          stopping = true;
          break;
        }
        batch.push(result.value);
        next = iterator.next();
      }
      const task = processBatch(batch).finally(() => inFlight.delete(task));
      inFlight.add(task);
      if (inFlight.size >= concurrency) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    // Messages pulled but not started (the client buffer) go back now rather than after
    // ack_wait, so a replica or the restarted service picks them up at once.
    for (;;) {
      const rest = await raceTimeout(next, 50);
      if (rest === TIMEOUT || rest.done) break;
      rest.value.nak();
      next = iterator.next();
    }
  })();

  return {
    done,
    async stop() {
      stopping = true;
      await messages.close();
      await done;
    },
  };
}

async function raceTimeout<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMEOUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMEOUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMEOUT), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
