import { Streams, Subjects } from '@membus/contracts';
import { JetStreamApiError, type JetStreamManager } from '@nats-io/jetstream';

/** A durable consumer whose backlog a service reports. */
export interface ConsumerRef {
  stream: string;
  consumer: string;
}

/** What the server says about one durable consumer (structurally the telemetry snapshot). */
export interface ConsumerStatus extends ConsumerRef {
  /** Messages in the stream not yet delivered to the consumer: the pipeline backlog. */
  pending: number;
  /** Delivered but not yet acknowledged. */
  ackPending: number;
  /** Delivered more than once and not yet acknowledged. */
  redelivered: number;
}

/** A point-in-time view of the JetStream state a service reports as metrics. */
export interface JetStreamStatus {
  consumers: ConsumerStatus[];
  /** Dead letters held, by tenant (the last token of `memory.dlq.<tenant>`). */
  deadLetters: Record<string, number>;
}

/**
 * A reader of consumer backlogs (`jsm.consumers.info`) and dead-letter counts per tenant
 * (`jsm.streams.info` with a subject filter), for metrics collected at scrape time.
 * A consumer or stream that does not exist (yet) is left out; any other failure rejects.
 */
export function jetStreamStatusReader(
  jsm: JetStreamManager,
  consumers: readonly ConsumerRef[],
): () => Promise<JetStreamStatus> {
  const dlqPrefix = `${Subjects.dlq}.`;
  return async () => {
    const [consumerInfos, dlq] = await Promise.all([
      Promise.all(
        consumers.map((ref) => jsm.consumers.info(ref.stream, ref.consumer).catch(unlessNotFound)),
      ),
      jsm.streams
        .info(Streams.dlq.name, { subjects_filter: `${Subjects.dlq}.>` })
        .catch(unlessNotFound),
    ]);
    const statuses: ConsumerStatus[] = [];
    consumerInfos.forEach((info, index) => {
      const ref = consumers[index] as ConsumerRef;
      if (!info) return;
      statuses.push({
        ...ref,
        pending: info.num_pending,
        ackPending: info.num_ack_pending,
        redelivered: info.num_redelivered,
      });
    });
    const deadLetters: Record<string, number> = {};
    for (const [subject, count] of Object.entries(dlq?.state.subjects ?? {})) {
      if (subject.startsWith(dlqPrefix)) deadLetters[subject.slice(dlqPrefix.length)] = count;
    }
    return { consumers: statuses, deadLetters };
  };
}

/** Not found means "nothing to report yet"; anything else (NATS down, timeout) is a failure. */
function unlessNotFound(error: unknown): undefined {
  if (error instanceof JetStreamApiError && (error.code === 404 || error.status === 404)) {
    return undefined;
  }
  throw error;
}
