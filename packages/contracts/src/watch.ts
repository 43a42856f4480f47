import { z } from 'zod';
import { MemoryFilterSchema } from './filter.ts';
import { TimestampSchema } from './memory.ts';
import { CountSchema, openMessage, strictMessage } from './schema-parts.ts';
import { changeValues, MemoryEventSchema } from './store-messages.ts';
import { NOTICE_TOKEN_PATTERN } from './subjects.ts';

// The change feed (decision 008): `memory.watch.<tenant>` starts, renews or stops a relay of the
// tenant's `memory.stored` / `memory.changed` events; the relay sends them to
// `memory.feed.<tenant>.<token>`, the tenant taken from the request's subject.

/** A feed's token: one subject token, so it only ever selects among its own tenant's feeds. */
export const FeedTokenSchema = z.string().regex(NOTICE_TOKEN_PATTERN);

/** A position in the event stream (`MEMORY_EVENTS`): its sequence number. */
export const EventSequenceSchema = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

/** Where a feed starts: new events only, events since a time, or from a stream sequence on. */
export const WatchStartSchema = z.union([
  /** Events stored after the request. */
  z.literal('now'),
  /** Events at or after this time (as far back as the stream keeps them: 24 h). */
  z.strictObject({
    /** ISO-8601 time. */
    time: TimestampSchema,
  }),
  /** Events from this sequence on (inclusive): resume with the last event's `seq + 1`. */
  z.strictObject({
    /** Stream sequence. */
    seq: EventSequenceSchema,
  }),
]);
export type WatchStart = z.infer<typeof WatchStartSchema>;

/** Which events a feed carries. Both parts are ANDed. */
export const WatchFilterSchema = z.strictObject({
  /** Only these changes (default: all). */
  changes: z.array(z.enum(changeValues)).min(1).optional(),
  /**
   * Only events about memories matching this filter. A deletion carries only the memory's id,
   * so it passes any filter unless `ids` is given and excludes it.
   */
  memory: MemoryFilterSchema.optional(),
});
export type WatchFilter = z.infer<typeof WatchFilterSchema>;

/** A feed's request: start (or restart) a relay, renew its lease, or stop it. */
export const WatchRequestSchema = strictMessage({
  /** Chosen by the client: the feed goes to `memory.feed.<tenant>.<token>`. */
  token: FeedTokenSchema,
  /**
   * `start`: (re)start the relay from `from`; `renew`: keep it alive and report how far the
   * client has read (a relay without a renew for its lease stops); `stop`: end it now.
   */
  action: z.enum(['start', 'renew', 'stop']).default('start'),
  /** Where a started feed begins (default `now`). */
  from: WatchStartSchema.default('now'),
  /** Which events the feed carries (start only). */
  filter: WatchFilterSchema.optional(),
  /**
   * (renew) The sequence of the last event the client has consumed: the relay sends at most a
   * window of events beyond it (flow control).
   */
  consumed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
});
export type WatchRequest = z.infer<typeof WatchRequestSchema>;
export type WatchRequestInput = z.input<typeof WatchRequestSchema>;

export const WatchReplySchema = openMessage({
  /** Whether a relay runs for the token after this request. */
  active: z.boolean(),
  /** The first sequence the feed may deliver (a start). */
  startSeq: CountSchema,
  /** True when the requested start is older than the oldest event the stream keeps. */
  truncated: z.boolean(),
  /** A relay with no renew for this long stops. */
  leaseMs: z.number().int().positive(),
  /** The relay sends a heartbeat when it has sent nothing for this long. */
  heartbeatMs: z.number().int().positive(),
});
export type WatchReply = z.infer<typeof WatchReplySchema>;

/**
 * What arrives on `memory.feed.<tenant>.<token>`: an event (with its sequence), or a heartbeat.
 * Both carry `previous`, the sequence of the event the relay sent before (0: none), so a lost
 * message (core NATS drops for slow consumers) is seen and the client restarts from where it was.
 * One object rather than a union, so every language's generated model is a plain class.
 */
export const FeedMessageSchema = openMessage({
  /** `event`, or `heartbeat` (sent after a quiet spell: the relay is alive). */
  type: z.enum(['event', 'heartbeat']),
  /** (event) The event's stream sequence. */
  seq: EventSequenceSchema.optional(),
  /** The sequence of the event sent before this message on this feed (0: none yet). */
  previous: CountSchema,
  /** (event) The event. */
  event: MemoryEventSchema.optional(),
}).refine(
  (message) =>
    (message.type === 'event') === (message.seq !== undefined && message.event !== undefined),
  'an event carries seq and event; a heartbeat neither',
);
export type FeedMessage = z.infer<typeof FeedMessageSchema>;
