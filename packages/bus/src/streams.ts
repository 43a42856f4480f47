import { Streams } from '@membus/contracts';
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiError,
  type JetStreamManager,
  type JetStreamManagerOptions,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import { type NatsConnection, nanos, TimeoutError } from '@nats-io/nats-core';

export interface StreamOptions {
  /** Stream replicas (1 on one server, 3 in a cluster). */
  replicas?: number;
  /** Window in which a repeated Nats-Msg-Id is dropped (ms). */
  duplicateWindowMs?: number;
  /** How long pipeline messages are kept at most (ms). */
  maxAgeMs?: number;
  /** `memory` only for tests that don't need durability. */
  storage?: 'file' | 'memory';
}

const DAY = 86_400_000;

/**
 * nats-server's shortest de-duplication window. The streams agents publish into
 * (`MEMORY_STORE`, `MEMORY_OUTCOMES`, `MEMORY_LIFECYCLE`, `MEMORY_INGEST`) are shared by every tenant, and
 * JetStream drops a repeated `Nats-Msg-Id` per stream whoever sent the first: there the window
 * is as short as the server allows, and membus de-duplicates in its services by (tenant, id)
 * instead (decision 006). Its own publishes there carry unguessable ids (`privateMessageId`).
 */
export const AGENT_STREAM_DUPLICATE_WINDOW_MS = 100;

/** Stream configs of the pipeline. Work streams hold messages until consumed (work queue). */
export function streamConfigs(options: StreamOptions = {}): Partial<StreamConfig>[] {
  const storage = options.storage === 'memory' ? StorageType.Memory : StorageType.File;
  const num_replicas = options.replicas ?? 1;
  const duplicate_window = nanos(options.duplicateWindowMs ?? 10 * 60_000);
  const agentDuplicateWindow = nanos(AGENT_STREAM_DUPLICATE_WINDOW_MS);
  const workMaxAge = nanos(options.maxAgeMs ?? 7 * DAY);
  return [
    {
      name: Streams.store.name,
      subjects: [...Streams.store.subjects],
      retention: RetentionPolicy.Workqueue,
      storage,
      num_replicas,
      duplicate_window: agentDuplicateWindow,
      max_age: workMaxAge,
    },
    {
      name: Streams.embedded.name,
      subjects: [...Streams.embedded.subjects],
      retention: RetentionPolicy.Workqueue,
      storage,
      num_replicas,
      duplicate_window,
      max_age: workMaxAge,
    },
    {
      name: Streams.events.name,
      subjects: [...Streams.events.subjects],
      retention: RetentionPolicy.Limits,
      storage,
      num_replicas,
      max_age: nanos(DAY),
    },
    {
      // Kept (not a work queue) so the pattern-extractor can replay every outcome.
      name: Streams.outcomes.name,
      subjects: [...Streams.outcomes.subjects],
      retention: RetentionPolicy.Limits,
      storage,
      num_replicas,
      duplicate_window: agentDuplicateWindow,
      max_age: nanos(365 * DAY),
    },
    {
      name: Streams.lifecycle.name,
      subjects: [...Streams.lifecycle.subjects],
      retention: RetentionPolicy.Workqueue,
      storage,
      num_replicas,
      duplicate_window: agentDuplicateWindow,
      max_age: workMaxAge,
    },
    {
      // Agents publish ingests (decision 010): the extractor's work queue.
      name: Streams.ingest.name,
      subjects: [...Streams.ingest.subjects],
      retention: RetentionPolicy.Workqueue,
      storage,
      num_replicas,
      duplicate_window: agentDuplicateWindow,
      max_age: workMaxAge,
    },
    {
      name: Streams.dlq.name,
      subjects: [...Streams.dlq.subjects],
      retention: RetentionPolicy.Limits,
      storage,
      num_replicas,
      max_age: nanos(30 * DAY),
    },
  ];
}

/** Creates or updates the pipeline streams; safe to run from every service at startup. */
export async function ensureStreams(
  jsm: JetStreamManager,
  options: StreamOptions = {},
): Promise<void> {
  for (const config of streamConfigs(options)) {
    const name = config.name as string;
    try {
      await jsm.streams.info(name);
      await jsm.streams.update(name, config);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      try {
        await jsm.streams.add({ ...config, name });
      } catch (addError) {
        // Another service created it between our info and add. nats-server says so as "name
        // in use" (10058) or, when the other add registered first, as "subjects overlap"
        // (10065): either way the stream exists now, so bring it to this config. A real
        // overlap with some other stream leaves no stream by this name: that error stands.
        if (!(addError instanceof JetStreamApiError)) throw addError;
        const created = await jsm.streams.info(name).then(
          () => true,
          (infoError: unknown) => {
            if (isNotFound(infoError)) return false;
            throw infoError;
          },
        );
        if (!created) throw addError;
        await jsm.streams.update(name, config);
      }
    }
  }
}

export interface PrepareOptions {
  streams?: StreamOptions;
  consumers?: ConsumerOptions[];
  /** Passed to `jetstreamManager` (API prefix, request timeout). */
  manager?: JetStreamManagerOptions;
}

/**
 * A service's JetStream start: the manager, the pipeline's streams and its consumers. Every step
 * is idempotent, so a start that failed part-way may be run again from the start (the service
 * runtime does so when a request got no answer: `isUnanswered`).
 */
export async function prepareJetStream(
  nc: NatsConnection,
  options: PrepareOptions = {},
): Promise<JetStreamManager> {
  const jsm = await jetstreamManager(nc, options.manager);
  await ensureStreams(jsm, options.streams);
  for (const consumer of options.consumers ?? []) await ensureConsumer(jsm, consumer);
  return jsm;
}

/**
 * Whether a NATS request failed for want of an answer (no reply before its timeout), as opposed
 * to an answer that refused it. nats-server 2.9 can leave JetStream API requests that arrive
 * together on a fresh server unanswered (a stack starting: four of five `$JS.API.INFO` replies
 * never sent, seen in its trace log).
 */
export function isUnanswered(error: unknown): error is TimeoutError {
  return error instanceof TimeoutError;
}

export interface ConsumerOptions {
  stream: string;
  durable: string;
  filterSubject?: string;
  /** Redelivery after this long without ack (ms). */
  ackWaitMs?: number;
  /** Deliveries before the consumer gives up (the handler dead-letters at this count). */
  maxDeliver?: number;
  /** Unacked messages in flight across all replicas: the backpressure bound. */
  maxAckPending?: number;
}

/** Creates or updates a durable pull consumer (explicit ack). */
export async function ensureConsumer(
  jsm: JetStreamManager,
  options: ConsumerOptions,
): Promise<void> {
  const config = {
    durable_name: options.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(options.ackWaitMs ?? 30_000),
    max_deliver: options.maxDeliver ?? 5,
    max_ack_pending: options.maxAckPending ?? 2_048,
    ...(options.filterSubject ? { filter_subject: options.filterSubject } : {}),
  };
  try {
    await jsm.consumers.info(options.stream, options.durable);
    await jsm.consumers.update(options.stream, options.durable, config);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await jsm.consumers.add(options.stream, config);
  }
}

function isNotFound(error: unknown): boolean {
  return error instanceof JetStreamApiError && (error.code === 404 || error.status === 404);
}
