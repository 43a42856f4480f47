import { decode, type JetStreamManager, type NatsConnection, publishCore } from '@membus/bus';
import { MemoryEventSchema, Operations, Streams, subjectOf } from '@membus/contracts';
import type { EventLogPort, FeedPublisher, LoggedEvent } from '../domain/change-feed.ts';

const stream = Streams.events.name;

/**
 * `STREAM.MSG.GET` with `next_by_subj`: the first message of a subject (wildcards allowed) at or
 * after `seq`. nats-server answers it since 2.9; nats.js types it for direct gets only, and sends
 * the request as given.
 */
type NextMessageRequest = Parameters<JetStreamManager['streams']['getMessage']>[1];
const nextMessage = (seq: number, subject: string) =>
  ({ seq, next_by_subj: subject }) as NextMessageRequest;

/**
 * The event stream read by sequence (`$JS.API.STREAM.MSG.GET.MEMORY_EVENTS`, read-only: no
 * consumer is created, so a watch costs the stream nothing). A tenant's events are
 * `memory.*.<tenant>` inside `MEMORY_EVENTS` (`memory.stored.<tenant>`, `memory.changed.<tenant>`).
 */
export function jetStreamEventLog(jsm: JetStreamManager): EventLogPort {
  return {
    async bounds() {
      const { state } = await jsm.streams.info(stream);
      return { firstSeq: state.first_seq, lastSeq: state.last_seq };
    },
    async nextOf(tenant, seq): Promise<LoggedEvent | undefined> {
      const message = await jsm.streams.getMessage(stream, nextMessage(seq, `memory.*.${tenant}`));
      if (message === null) return undefined;
      const decoded = decode(MemoryEventSchema, message.data);
      return {
        seq: message.seq,
        time: message.time.getTime(),
        event: decoded.ok ? decoded.value : undefined,
      };
    },
    async nextAny(seq) {
      const message = await jsm.streams.getMessage(stream, nextMessage(seq, 'memory.>'));
      return message === null ? undefined : { seq: message.seq, time: message.time.getTime() };
    },
  };
}

/** Feed messages to `memory.feed.<tenant>.<token>` (core NATS; exported to that tenant only). */
export function natsFeedPublisher(nc: NatsConnection): FeedPublisher {
  return (tenant, token, message) =>
    publishCore(nc, subjectOf(Operations.feed, tenant, token), message);
}
