import { randomUUID } from 'node:crypto';
import { call, decode, type NatsConnection, type Subscription } from '@membus/bus';
import {
  type FeedMessage,
  FeedMessageSchema,
  MembusError,
  type MemoryEvent,
  type MemoryFilter,
  Operations,
  subjectOf,
  type WatchFilter,
  type WatchReply,
  type WatchStart,
} from '@membus/contracts';

/** What `watch()` follows: the changes, and the memories they are about. Both are ANDed. */
export interface WatchInput {
  /** Only these changes (`created`, `duplicate`, `updated`, `deleted`, `expired`, `merged`). */
  changes?: WatchFilter['changes'];
  /**
   * Only events about memories matching this filter. A deletion carries only the id, so it
   * passes unless `ids` excludes it.
   */
  memory?: MemoryFilter;
}

export interface WatchOptions {
  /**
   * Where the feed starts: `'now'` (default), a `Date` (replay from then; the event stream keeps
   * 24 h), or a sequence (inclusive: resume with the last event's `seq + 1`).
   */
  from?: 'now' | Date | number;
  /** Ends the iteration (as `break` does). */
  signal?: AbortSignal;
  /** Timeout of each control request (ms); default the client's. */
  timeoutMs?: number;
}

/** One change of a memory, in the order the stream recorded it. */
export interface ChangeEvent extends Omit<MemoryEvent, 'v'> {
  /** Its position in the event stream: pass `seq + 1` as `from` to resume after it. */
  seq: number;
}

/** How a watch runs (what the relay said when it started). */
export interface WatchState {
  /** The first sequence the feed may deliver. */
  startSeq: number;
  /** True when the start asked for was older than the stream keeps (24 h): events were lost. */
  truncated: boolean;
}

/** The change feed as an async iterable; `await using` (or `break`) stops the relay. */
export interface ChangeStream extends AsyncIterableIterator<ChangeEvent>, AsyncDisposable {
  /** Resolves once the relay runs (the first `next()` waits for it too). */
  readonly started: Promise<WatchState>;
  /** Stops the relay and ends the iteration. */
  close(): Promise<void>;
}

/** Events consumed between two renews that report them (flow control of the relay). */
const RENEW_EVERY_EVENTS = 256;

/**
 * Follows a tenant's changes (decision 008): a relay in the vector-store reads the tenant's
 * events from JetStream in order and sends them to `memory.feed.<tenant>.<token>`, a subject
 * only this tenant's account imports. A message lost on the way (each carries the sequence of the
 * one before) or a relay gone silent restarts the relay, under a new token, from the last event
 * delivered: events arrive once each, in stream order.
 */
export function watchChanges(
  nc: NatsConnection,
  tenant: string,
  input: WatchInput,
  options: WatchOptions & { timeoutMs: number },
): ChangeStream {
  return new Watch(nc, tenant, input, options);
}

class Watch implements ChangeStream {
  readonly started: Promise<WatchState>;
  readonly #nc: NatsConnection;
  readonly #tenant: string;
  readonly #filter: WatchFilter;
  readonly #timeoutMs: number;
  readonly #queue: FeedMessage[] = [];
  #notify: (() => void) | undefined;
  #token = '';
  #subscription: Subscription | undefined;
  /** The next sequence to ask for on a restart. */
  #resumeSeq = 0;
  /** The last sequence delivered to the caller (0: none). */
  #last = 0;
  #consumedSinceRenew = 0;
  #lastHeardAt = Date.now();
  #reply: Omit<WatchReply, 'v'> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastRenewAt = Date.now();
  #closed = false;
  #failure: unknown;
  #restarting: Promise<void> | undefined;
  readonly #signal: AbortSignal | undefined;

  constructor(
    nc: NatsConnection,
    tenant: string,
    input: WatchInput,
    options: WatchOptions & { timeoutMs: number },
  ) {
    this.#nc = nc;
    this.#tenant = tenant;
    this.#timeoutMs = options.timeoutMs;
    this.#filter = {
      ...(input.changes ? { changes: input.changes } : {}),
      ...(input.memory ? { memory: input.memory } : {}),
    };
    this.#signal = options.signal;
    this.#signal?.addEventListener('abort', () => void this.close(), { once: true });
    this.started = this.#start(startOf(options.from ?? 'now')).then((reply) => {
      this.#resumeSeq = reply.startSeq;
      this.#timer = setInterval(() => this.#tick(), Math.max(20, reply.heartbeatMs / 2));
      this.#timer.unref();
      return { startSeq: reply.startSeq, truncated: reply.truncated };
    });
    // A failed start rejects `started` and the first `next()`; nobody has to await `started`.
    this.started.catch((error: unknown) => {
      this.#failure = error;
      this.#wake();
    });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ChangeEvent> {
    return this;
  }

  async next(): Promise<IteratorResult<ChangeEvent>> {
    await this.started;
    for (;;) {
      if (this.#failure !== undefined) {
        const failure = this.#failure;
        await this.close();
        throw failure;
      }
      if (this.#closed) return { done: true, value: undefined };
      const message = this.#queue.shift();
      if (message === undefined) {
        await new Promise<void>((resolve) => {
          this.#notify = resolve;
        });
        continue;
      }
      // Something was sent that never came: restart from the last event delivered.
      if (message.previous > this.#last) {
        await this.#restart();
        continue;
      }
      const { seq, event: changed } = message;
      if (seq === undefined || changed === undefined || seq <= this.#last) continue;
      this.#last = seq;
      this.#resumeSeq = seq + 1;
      if (++this.#consumedSinceRenew >= RENEW_EVERY_EVENTS) void this.#renew();
      const { v: _v, ...event } = changed;
      return { done: false, value: { ...event, seq } };
    }
  }

  async return(): Promise<IteratorResult<ChangeEvent>> {
    await this.close();
    return { done: true, value: undefined };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#subscription?.unsubscribe();
    this.#wake();
    await this.#control('stop', this.#token).catch(() => {});
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #wake(): void {
    const notify = this.#notify;
    this.#notify = undefined;
    notify?.();
  }

  /** Subscribes under a new token, then starts its relay (so nothing it sends is missed). */
  async #start(from: WatchStart): Promise<Omit<WatchReply, 'v'>> {
    const token = randomUUID();
    this.#subscription?.unsubscribe();
    this.#queue.length = 0;
    this.#token = token;
    this.#subscription = this.#nc.subscribe(subjectOf(Operations.feed, this.#tenant, token), {
      callback: (error, message) => {
        if (error || this.#token !== token) return;
        const decoded = decode(FeedMessageSchema, message.data);
        if (!decoded.ok) return;
        this.#lastHeardAt = Date.now();
        this.#queue.push(decoded.value);
        this.#wake();
      },
    });
    const { v: _v, ...reply } = await call(
      this.#nc,
      Operations.watch,
      this.#tenant,
      { token, action: 'start', from, ...(this.#hasFilter() ? { filter: this.#filter } : {}) },
      { timeoutMs: this.#timeoutMs },
    );
    this.#reply = reply;
    this.#lastHeardAt = Date.now();
    this.#lastRenewAt = Date.now();
    this.#consumedSinceRenew = 0;
    return reply;
  }

  #hasFilter(): boolean {
    return this.#filter.changes !== undefined || this.#filter.memory !== undefined;
  }

  /** A new relay from the last event delivered; the old one is told to stop. */
  #restart(): Promise<void> {
    if (this.#restarting) return this.#restarting;
    const old = this.#token;
    this.#restarting = this.#start({ seq: Math.max(1, this.#resumeSeq) })
      .then(() => {
        void this.#control('stop', old).catch(() => {});
      })
      .catch((error: unknown) => {
        this.#failure = error;
      })
      .finally(() => {
        this.#restarting = undefined;
        this.#wake();
      });
    return this.#restarting;
  }

  async #renew(): Promise<void> {
    this.#consumedSinceRenew = 0;
    this.#lastRenewAt = Date.now();
    try {
      const reply = await this.#control('renew', this.#token);
      // The relay is gone (lease ran out, another replica answered): start one where we are.
      if (!reply.active && !this.#closed) await this.#restart();
    } catch (error) {
      if (!MembusError.is(error) || !error.retryable) this.#failure = error;
      this.#wake();
    }
  }

  #control(action: 'renew' | 'stop', token: string) {
    return call(
      this.#nc,
      Operations.watch,
      this.#tenant,
      { token, action, consumed: this.#last },
      { timeoutMs: this.#timeoutMs },
    );
  }

  #tick(): void {
    const reply = this.#reply;
    if (this.#closed || reply === undefined || this.#restarting) return;
    const now = Date.now();
    // Three heartbeats missed: the relay (or its replica) is gone.
    if (now - this.#lastHeardAt > 3 * reply.heartbeatMs) void this.#restart();
    else if (now - this.#lastRenewAt >= reply.leaseMs / 3) void this.#renew();
  }
}

function startOf(from: 'now' | Date | number): WatchStart {
  if (from === 'now') return 'now';
  if (from instanceof Date) return { time: from.toISOString() };
  if (!Number.isSafeInteger(from) || from < 1)
    throw new MembusError('INVALID_MESSAGE', `from: a sequence is an integer ≥ 1, not ${from}`);
  return { seq: from };
}
