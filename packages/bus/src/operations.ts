import { randomUUID } from 'node:crypto';
import {
  type EventOperation,
  Headers,
  type JetStreamOperation,
  Limits,
  MembusError,
  type Metadata,
  Operations,
  type RequestOperation,
  type ServiceName,
  type StoreMemoryInput,
  StoreMemorySchema,
  type StoreNotice,
  StoreNoticeSchema,
  Streams,
  subjectOf,
  subjectWildcard,
  unpackVector,
} from '@membus/contracts';
import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import { headers as createHeaders, type NatsConnection } from '@nats-io/nats-core';
import type { z } from 'zod';
import { boundedBatches } from './batches.ts';
import { decode, validate } from './codec.ts';
import { type ConsumeOptions, consumeStream, type StreamConsumer } from './consume.ts';
import {
  type DurablePublishOptions,
  privateMessageId,
  publishCore,
  publishDurable,
} from './publish.ts';
import {
  type RequestContext,
  type RequestOptions,
  request,
  type ServeOptions,
  type Service,
  serve,
} from './request-reply.ts';

/** A body without its version: `call` and `publishOperation` set `v: 1`. */
export type Body<S extends z.ZodType> = Omit<z.input<S>, 'v'> & { v?: 1 };

/** The tenant argument of an operation: a tenant when it is tenant-scoped, else none. */
export type TenantOf<O extends { tenantScoped: boolean }> = O['tenantScoped'] extends true
  ? string
  : undefined;

/**
 * Calls a request/reply operation: the subject built from the operation and tenant, the body
 * sent as version 1, the reply validated by the operation's reply schema (an `{ error }` reply
 * thrown as MembusError, a timeout or missing responder as a retryable one).
 */
export async function call<O extends RequestOperation>(
  nc: NatsConnection,
  operation: O,
  tenant: TenantOf<O>,
  body: Body<O['request']>,
  options: RequestOptions = {},
): Promise<z.output<O['reply']>> {
  return request<O['reply']>(
    nc,
    subjectOf(operation, tenant),
    { ...body, v: 1 },
    operation.reply,
    options,
  );
}

export type ServeOperationOptions = Pick<
  ServeOptions<z.ZodType, unknown>,
  'maxConcurrent' | 'observer' | 'onError'
>;

/**
 * Serves a request/reply operation for every tenant, in the queue group of the service that
 * answers it: requests decoded and validated once, the tenant taken from the subject.
 */
export function serveOperation<O extends RequestOperation>(
  nc: NatsConnection,
  operation: O,
  handler: (value: z.output<O['request']>, context: RequestContext) => Promise<z.input<O['reply']>>,
  options: ServeOperationOptions = {},
): Service {
  return serve<O['request'], z.input<O['reply']>>(nc, {
    ...options,
    subject: subjectWildcard(operation),
    queue: operation.service,
    schema: operation.request,
    tenantScoped: operation.tenantScoped,
    handler,
  });
}

/** Publishes a JetStream operation's message (version 1) and resolves once the stream has it. */
export async function publishOperation<O extends JetStreamOperation>(
  js: JetStreamClient,
  operation: O,
  tenant: TenantOf<O>,
  body: Body<O['message']>,
  options: DurablePublishOptions = {},
): Promise<PubAck> {
  return publishDurable(js, subjectOf(operation, tenant), { ...body, v: 1 }, options);
}

/**
 * The durable consumer of a JetStream operation: its stream, the consuming service's durable
 * name, and a filter when the stream captures other operations too (for `ensureConsumer`).
 */
export function operationConsumer(operation: JetStreamOperation): {
  stream: string;
  durable: string;
  filterSubject?: string;
} {
  if (operation.service === undefined)
    throw new MembusError('INTERNAL', `no service consumes ${operation.name}`);
  const stream = Streams[operation.stream];
  return {
    stream: stream.name,
    durable: operation.service,
    ...(stream.subjects.length > 1 ? { filterSubject: subjectWildcard(operation) } : {}),
  };
}

/**
 * Consumes a JetStream operation with its service's durable consumer (made beforehand with
 * `ensureConsumer(jsm, { ...operationConsumer(operation), ... })`): messages decoded and
 * validated by the operation's schema, the JetStream decision table of `consumeStream`.
 */
export function consumeOperation<O extends JetStreamOperation>(
  js: JetStreamClient,
  operation: O,
  options: Omit<ConsumeOptions<O['message']>, 'js' | 'stream' | 'consumer' | 'schema'>,
): Promise<StreamConsumer> {
  const { stream, durable } = operationConsumer(operation);
  return consumeStream<O['message']>({
    ...options,
    js,
    stream,
    consumer: durable,
    schema: operation.message,
  });
}

/** Emits a core NATS event operation (version 1) to whoever listens: fire and forget. */
export function emitEvent<O extends EventOperation>(
  nc: NatsConnection,
  operation: O,
  tenant: TenantOf<O>,
  body: Body<O['message']>,
): void {
  publishCore(nc, subjectOf(operation, tenant), { ...body, v: 1 });
}

// ---------------------------------------------------------------- memory.store

export interface StoreMemoryOptions {
  /** Ask for a store notice on `memory.notice.<tenant>.<token>` once queryable (or failed). */
  notifyToken?: string;
  /** The service that stores (unset for an agent): see {@link storeMemory} for what it changes. */
  service?: ServiceName;
  timeoutMs?: number;
}

/**
 * Stores a memory: validated, then published to `Operations.store` (durable). The one
 * de-duplication policy of stores:
 * - a store that waits for its notice carries no JetStream de-duplication id: a retry must
 *   flow through to be answered (the vector-store is idempotent by id);
 * - an agent's store carries none either (nothing to gain: the vector-store recognises the id);
 * - any other store of a service carries a private one (`privateMessageId`), so a replay
 *   within the window is dropped before it is embedded again, and no agent can predict it and
 *   have it dropped (decision 006).
 */
export async function storeMemory(
  js: JetStreamClient,
  tenant: string,
  memory: Omit<StoreMemoryInput, 'v'>,
  options: StoreMemoryOptions = {},
): Promise<PubAck> {
  const message = { ...memory, v: 1 as const };
  const checked = validate(StoreMemorySchema, message);
  if (!checked.ok) throw checked.error;
  const headers = createHeaders();
  if (options.notifyToken !== undefined) headers.set(Headers.notify, options.notifyToken);
  const messageId =
    options.service !== undefined && options.notifyToken === undefined
      ? privateMessageId(options.service, tenant, memory.id)
      : undefined;
  return publishOperation(js, Operations.store, tenant, message, {
    headers,
    ...(messageId !== undefined ? { messageId } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });
}

/**
 * Stores a memory as a service and waits for its notice (read-your-writes, as the client
 * does): the notice once the memory is queryable (also for a replayed id) or dropped by the
 * ingest policy. A failed store throws its error; no notice within `timeoutMs`, TIMEOUT naming
 * the memory as `noun` (`memory`, `fact`).
 */
export async function storeMemoryAndWait(
  nc: NatsConnection,
  js: JetStreamClient,
  tenant: string,
  memory: Omit<StoreMemoryInput, 'v'>,
  options: { service: ServiceName; timeoutMs: number; noun: string },
): Promise<StoreNotice & { status: Exclude<StoreNotice['status'], 'failed'> }> {
  const token = randomUUID();
  const subscription = nc.subscribe(subjectOf(Operations.notice, tenant, token), {
    max: 1,
    timeout: options.timeoutMs,
  });
  await storeMemory(js, tenant, memory, { notifyToken: token, service: options.service });
  const late = `${options.noun} ${memory.id} was not queryable in time`;
  try {
    for await (const message of subscription) {
      const notice = decode(StoreNoticeSchema, message.data);
      if (!notice.ok) throw notice.error;
      if (notice.value.status === 'failed')
        throw new MembusError(
          notice.value.error?.code ?? 'INTERNAL',
          notice.value.error?.message ?? 'store failed',
        );
      return { ...notice.value, status: notice.value.status };
    }
  } catch (error) {
    if (MembusError.is(error)) throw error;
    throw new MembusError('TIMEOUT', late, { cause: error });
  }
  throw new MembusError('TIMEOUT', late);
}

// ---------------------------------------------------------------- memory.embed

export interface EmbedOptions {
  timeoutMs?: number;
  /**
   * Metadata a memory will be stored with (`document` purpose only): the embedder redacts it as
   * the store path does and it comes back as `metadata`.
   */
  metadata?: Metadata;
  /** Hears the model and dimension of every reply. */
  onModel?: (model: string, dimension: number) => void;
}

export interface Embeddings {
  /** One vector per text, in order. */
  vectors: Float32Array[];
  /** `document` purpose: each text as it will be stored (secrets redacted) and its hash. */
  documents: { text: string; contentHash: string }[];
  /** The request's metadata as it will be stored (present exactly when metadata was sent). */
  metadata?: Record<string, unknown>;
  /** The model and its dimension (absent when nothing was asked). */
  model?: string;
  dimension?: number;
}

/** Dimension assumed until an embedder reply on a connection tells the model's. */
const ASSUMED_DIMENSION = 1_536;
const dimensions = new WeakMap<NatsConnection, number>();

/**
 * The one `memory.embed` client: vectors (and, for `document` purpose, the stored form of each
 * text) in requests bounded by count and bytes ({@link embedBatches}). A reply that does not
 * match its texts fails with EMBEDDING_FAILED: no fallback to the text sent, so an embedder
 * that did not say how it redacted a text never gets the unredacted text stored.
 */
export async function embedTexts(
  nc: NatsConnection,
  texts: readonly string[],
  purpose: 'query' | 'document',
  options: EmbedOptions = {},
): Promise<Embeddings> {
  const batches = embedBatches(texts, dimensions.get(nc) ?? ASSUMED_DIMENSION);
  // Metadata alone (no new text) is still one request.
  if (batches.length === 0 && options.metadata !== undefined) batches.push([]);
  const result: Embeddings = { vectors: [], documents: [] };
  for (const [index, batch] of batches.entries()) {
    const metadata = index === 0 ? options.metadata : undefined;
    const reply = await call(
      nc,
      Operations.embed,
      undefined,
      { texts: batch, purpose, ...(metadata !== undefined ? { metadata } : {}) },
      options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {},
    );
    dimensions.set(nc, reply.dimension);
    options.onModel?.(reply.model, reply.dimension);
    const documents = reply.documents ?? [];
    if (
      reply.vectors.length !== batch.length ||
      (purpose === 'document' && documents.length !== batch.length)
    )
      throw new MembusError(
        'EMBEDDING_FAILED',
        `embedder answered ${reply.vectors.length} vectors and ${documents.length} documents for ${batch.length} texts`,
      );
    for (const packed of reply.vectors) {
      const vector = unpackVector(packed);
      if (!vector)
        throw new MembusError('EMBEDDING_FAILED', 'embedder returned an undecodable vector');
      result.vectors.push(vector);
    }
    if (purpose === 'document') result.documents.push(...documents);
    if (reply.metadata !== undefined) result.metadata = reply.metadata;
    result.model = reply.model;
    result.dimension = reply.dimension;
  }
  return result;
}

/**
 * Bytes one embed exchange may use for texts: each text travels in the request and again in
 * the reply (as stored, for `document` purpose), beside its vector. Well under
 * `Limits.messageBytes`, so neither message passes it.
 */
const EMBED_EXCHANGE_BYTES = 160 * 1024;

/**
 * Splits texts into embed requests bounded by count (`Limits.embedBatch`) and by bytes: the
 * request and the reply (texts once more, plus one base64 vector of `dimension` floats each)
 * stay under the message limit. A single text always goes alone if it must.
 */
export function embedBatches(texts: readonly string[], dimension: number): string[][] {
  const vectorBytes = Math.ceil((dimension * 4) / 3) + 8;
  const cost = (text: string) => 2 * Buffer.byteLength(JSON.stringify(text)) + vectorBytes + 64;
  return [
    ...boundedBatches(texts, cost, { maxBytes: EMBED_EXCHANGE_BYTES, maxCount: Limits.embedBatch }),
  ];
}
