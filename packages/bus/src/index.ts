// The NATS surface services and the client need, so only bus depends on @nats-io/*.
export type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
export { jetstream, jetstreamManager } from '@nats-io/jetstream';
export type { MsgHdrs, NatsConnection, Subscription } from '@nats-io/nats-core';
export { createInbox, headers as createHeaders } from '@nats-io/nats-core';
export { boundedBatches } from './batches.ts';
export type { Decoded } from './codec.ts';
export { decode, encode, validate, validationError } from './codec.ts';
export type { BusEnv, ConfigOf, EnvOption, EnvSpec } from './config.ts';
export {
  busConnectionFromEnv,
  busEnvSpec,
  ConfigError,
  env,
  parseEnv,
  serviceEnvSpec,
} from './config.ts';
export type { BusConnectionOptions } from './connection.ts';
export { connectBus } from './connection.ts';
export type { ConsumeOptions, ItemResult, StreamConsumer, StreamItem } from './consume.ts';
export { consumeStream, exponentialBackoff } from './consume.ts';
export type { ConsumerRef, ConsumerStatus, JetStreamStatus } from './jetstream-status.ts';
export { jetStreamStatusReader } from './jetstream-status.ts';
export type { KV } from './kv.ts';
export { openKv } from './kv.ts';
export { notifyDeadLetter, notifyStore, storeIdOf } from './notify.ts';
export type { BusObserver, HandledEvent } from './observer.ts';
export type {
  Body,
  Embeddings,
  EmbedOptions,
  ServeOperationOptions,
  StoreMemoryOptions,
  TenantOf,
} from './operations.ts';
export {
  call,
  consumeOperation,
  embedBatches,
  embedTexts,
  emitEvent,
  operationConsumer,
  publishOperation,
  serveOperation,
  storeMemory,
  storeMemoryAndWait,
} from './operations.ts';
export type { DurablePublishOptions } from './publish.ts';
export { privateMessageId, publishCore, publishDurable } from './publish.ts';
export type { RequestContext, RequestOptions, ServeOptions, Service } from './request-reply.ts';
export { isReplySubject, request, serve, transportError } from './request-reply.ts';
export type { ConsumerOptions, PrepareOptions, StreamOptions } from './streams.ts';
export {
  AGENT_STREAM_DUPLICATE_WINDOW_MS,
  ensureConsumer,
  ensureStreams,
  isUnanswered,
  prepareJetStream,
  streamConfigs,
} from './streams.ts';
export { extractTraceContext, injectTraceContext, subjectTemplate } from './tracing.ts';
