import {
  type FeedMessage,
  MembusError,
  type MemoryEvent,
  type WatchFilter,
  type WatchReply,
  type WatchRequest,
  type WatchStart,
} from '@membus/contracts';
import { type CompiledFilter, compileFilter, toFilterPayload } from '@membus/vector-index';

/** One event of the event stream, as the feed reads it. */
export interface LoggedEvent {
  /** Its stream sequence. */
  seq: number;
  /** When the stream stored it (ms since the epoch). */
  time: number;
  /** The event, validated; undefined when its bytes are not a valid event (skipped). */
  event: MemoryEvent | undefined;
}

/** The event stream (`MEMORY_EVENTS`), read-only, by sequence. */
export interface EventLogPort {
  /** The first and last sequence the stream holds (first > last when it is empty). */
  bounds(): Promise<{ firstSeq: number; lastSeq: number }>;
  /** The first event of `tenant` at or after `seq`, or undefined when there is none yet. */
  nextOf(tenant: string, seq: number): Promise<LoggedEvent | undefined>;
  /** The first event of any tenant at or after `seq` (its time only matters), or undefined. */
  nextAny(seq: number): Promise<{ seq: number; time: number } | undefined>;
}

/** Where feed messages go: `memory.feed.<tenant>.<token>` (the tenant is the request's). */
export type FeedPublisher = (tenant: string, token: string, message: FeedMessage) => void;

export interface ChangeFeedOptions {
  log: EventLogPort;
  publish: FeedPublisher;
  /** A relay with no renew for this long stops. */
  leaseMs: number;
  /** A heartbeat after this long without a message. */
  heartbeatMs: number;
  /** How often an idle relay looks for events another replica published (ms). */
  pollMs: number;
  /** Events a relay sends beyond the last one its client said it consumed. */
  window: number;
  /** Relays per tenant, and in all. */
  maxPerTenant: number;
  maxTotal: number;
  /** Hears relays starting and stopping, events sent and read failures. */
  hooks?: ChangeFeedHooks;
  now?: () => number;
}

export interface ChangeFeedHooks {
  onRelays?(count: number): void;
  onSent?(kind: FeedMessage['type']): void;
  onReadError?(error: unknown): void;
}

/**
 * The change feed's relays (decision 008): per (tenant, token) one loop that reads the tenant's
 * events from the stream in order, keeps those its filter passes and publishes them to the
 * tenant's feed subject. The tenant is always the one of the request's subject; the request
 * chooses only a token within it, a start and a narrowing filter.
 */
export class ChangeFeed {
  readonly #options: ChangeFeedOptions;
  readonly #relays = new Map<string, Relay>();
  readonly #now: () => number;
  #closed = false;

  constructor(options: ChangeFeedOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#relays.size;
  }

  /** Handles one `memory.watch` request of `tenant`. */
  async handle(tenant: string, request: WatchRequest): Promise<Omit<WatchReply, 'v'>> {
    const key = `${tenant}\u0000${request.token}`;
    const existing = this.#relays.get(key);
    const reply = (active: boolean, startSeq = 0, truncated = false) => ({
      active,
      startSeq,
      truncated,
      leaseMs: this.#options.leaseMs,
      heartbeatMs: this.#options.heartbeatMs,
    });
    if (request.action === 'stop') {
      existing?.stop();
      return reply(false);
    }
    if (request.action === 'renew') {
      if (!existing) return reply(false);
      existing.renew(request.consumed);
      return reply(true, existing.startSeq);
    }
    if (this.#closed) throw new MembusError('UNAVAILABLE', 'the change feed is shutting down');
    if (!existing) this.#checkCapacity(tenant);
    const { startSeq, truncated } = await this.#resolveStart(request.from);
    existing?.stop();
    const relay = new Relay({
      ...this.#options,
      tenant,
      token: request.token,
      startSeq,
      filter: request.filter,
      now: this.#now,
      onStop: () => {
        if (this.#relays.get(key) === relay) this.#relays.delete(key);
        this.#options.hooks?.onRelays?.(this.#relays.size);
      },
    });
    this.#relays.set(key, relay);
    this.#options.hooks?.onRelays?.(this.#relays.size);
    relay.start();
    return reply(true, startSeq, truncated);
  }

  /** Events of `tenant` were just published: its relays read on at once. */
  wake(tenant: string): void {
    for (const relay of this.#relays.values()) if (relay.tenant === tenant) relay.wake();
  }

  /** Stops every relay (shutdown); later starts are refused. */
  close(): void {
    this.#closed = true;
    for (const relay of [...this.#relays.values()]) relay.stop();
  }

  #checkCapacity(tenant: string): void {
    const { maxPerTenant, maxTotal } = this.#options;
    let ofTenant = 0;
    for (const relay of this.#relays.values()) if (relay.tenant === tenant) ofTenant++;
    if (ofTenant >= maxPerTenant || this.#relays.size >= maxTotal)
      throw new MembusError(
        'LIMIT_EXCEEDED',
        ofTenant >= maxPerTenant
          ? `at most ${maxPerTenant} change feeds per tenant: stop one first`
          : 'too many change feeds on this vector-store; try again later',
        { retryable: ofTenant < maxPerTenant, details: { limit: maxPerTenant } },
      );
  }

  async #resolveStart(from: WatchStart): Promise<{ startSeq: number; truncated: boolean }> {
    const { firstSeq, lastSeq } = await this.#options.log.bounds();
    // Sequences before firstSeq existed and are gone (aged out after 24 h) when firstSeq > 1.
    const lost = firstSeq > 1;
    if (from === 'now') return { startSeq: lastSeq + 1, truncated: false };
    if ('seq' in from)
      return { startSeq: Math.max(from.seq, firstSeq), truncated: lost && from.seq < firstSeq };
    const time = Date.parse(from.time);
    const first = await this.#options.log.nextAny(firstSeq);
    if (first === undefined) return { startSeq: lastSeq + 1, truncated: false };
    if (first.time >= time) return { startSeq: first.seq, truncated: lost };
    // Binary search for the first event at or after `time` (stream times only grow).
    let low = first.seq; // time(low) < time
    let high = lastSeq + 1; // time(high) >= time, or past the end
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      const found = await this.#options.log.nextAny(middle);
      if (found === undefined || found.seq >= high) high = middle;
      else if (found.time >= time) high = found.seq;
      else low = found.seq;
    }
    return { startSeq: high, truncated: false };
  }
}

interface RelayOptions extends ChangeFeedOptions {
  tenant: string;
  token: string;
  startSeq: number;
  filter: WatchFilter | undefined;
  now: () => number;
  onStop: () => void;
}

/** One feed: reads on from `next`, sends what passes, pauses at the window, stops at its lease. */
class Relay {
  readonly tenant: string;
  readonly startSeq: number;
  readonly #options: RelayOptions;
  readonly #matches: (event: MemoryEvent) => boolean;
  /** Sequences sent and not yet reported consumed (at most `window`). */
  readonly #unconsumed: number[] = [];
  #next: number;
  #previous = 0;
  #leaseUntil: number;
  #lastSentAt: number;
  #stopped = false;
  #wake: (() => void) | undefined;
  #woken = false;
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(options: RelayOptions) {
    this.#options = options;
    this.tenant = options.tenant;
    this.startSeq = options.startSeq;
    this.#next = options.startSeq;
    this.#matches = eventMatcher(options.filter);
    this.#leaseUntil = options.now() + options.leaseMs;
    this.#lastSentAt = options.now();
  }

  start(): void {
    this.#heartbeat = setInterval(
      () => this.#tick(),
      Math.max(10, Math.min(this.#options.heartbeatMs, this.#options.leaseMs) / 2),
    );
    this.#heartbeat.unref();
    void this.#run();
  }

  renew(consumed: number | undefined): void {
    this.#leaseUntil = this.#options.now() + this.#options.leaseMs;
    if (consumed !== undefined) {
      while (this.#unconsumed.length > 0 && (this.#unconsumed[0] as number) <= consumed)
        this.#unconsumed.shift();
    }
    this.wake();
  }

  wake(): void {
    if (this.#wake) this.#wake();
    else this.#woken = true;
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#heartbeat);
    this.wake();
    this.#options.onStop();
  }

  #tick(): void {
    const now = this.#options.now();
    if (now >= this.#leaseUntil) this.stop();
    else if (now - this.#lastSentAt >= this.#options.heartbeatMs)
      this.#send({ v: 1, type: 'heartbeat', previous: this.#previous });
  }

  #send(message: FeedMessage): void {
    this.#lastSentAt = this.#options.now();
    this.#options.publish(this.tenant, this.#options.token, message);
    this.#options.hooks?.onSent?.(message.type);
  }

  /** Resolves on a wake (or one that came while reading), or after `ms`. */
  #sleep(ms: number): Promise<void> {
    if (this.#woken) {
      this.#woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      this.#wake = finish;
    });
  }

  async #run(): Promise<void> {
    const { log, window, pollMs } = this.#options;
    while (!this.#stopped) {
      if (this.#unconsumed.length >= window) {
        await this.#sleep(pollMs);
        continue;
      }
      let found: LoggedEvent | undefined;
      try {
        found = await log.nextOf(this.tenant, this.#next);
      } catch (error) {
        this.#options.hooks?.onReadError?.(error);
        await this.#sleep(pollMs);
        continue;
      }
      if (this.#stopped) return;
      if (found === undefined) {
        await this.#sleep(pollMs);
        continue;
      }
      this.#next = found.seq + 1;
      if (found.event === undefined || !this.#matches(found.event)) continue;
      this.#send({
        v: 1,
        type: 'event',
        seq: found.seq,
        previous: this.#previous,
        event: found.event,
      });
      this.#previous = found.seq;
      this.#unconsumed.push(found.seq);
    }
  }
}

/** Whether an event passes a watch filter (see `WatchFilterSchema`). */
export function eventMatcher(filter: WatchFilter | undefined): (event: MemoryEvent) => boolean {
  const changes = filter?.changes ? new Set<string>(filter.changes) : undefined;
  const memoryFilter = filter?.memory;
  const compiled: CompiledFilter | undefined = memoryFilter
    ? compileFilter(memoryFilter)
    : undefined;
  const ids = memoryFilter?.ids ? new Set(memoryFilter.ids) : undefined;
  return (event) => {
    if (changes && !changes.has(event.change)) return false;
    if (!compiled) return true;
    // A deletion carries only the id.
    if (event.memory === undefined) return ids === undefined || ids.has(event.id);
    return compiled(toFilterPayload(event.memory));
  };
}
