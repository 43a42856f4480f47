import type { z } from 'zod';
import { MembusError } from './errors.ts';
import {
  AuditReplySchema,
  AuditRequestSchema,
  CompactedEventSchema,
  CompactReplySchema,
  CompactRequestSchema,
  ExpireReplySchema,
  ExpireRequestSchema,
  MergeReplySchema,
  MergeRequestSchema,
  SessionEndSchema,
} from './lifecycle.ts';
import {
  DeadLetterSchema,
  DeleteReplySchema,
  DeleteRequestSchema,
  EmbeddedMemorySchema,
  EmbedReplySchema,
  EmbedRequestSchema,
  GetReplySchema,
  GetRequestSchema,
  HistoryReplySchema,
  HistoryRequestSchema,
  ListReplySchema,
  ListRequestSchema,
  MemoryEventSchema,
  QueryReplySchema,
  QueryRequestSchema,
  StatsReplySchema,
  StatsRequestSchema,
  StoreMemorySchema,
  StoreNoticeSchema,
  UpdateReplySchema,
  UpdateRequestSchema,
} from './messages.ts';
import {
  MetricsReplySchema,
  MetricsRequestSchema,
  OutcomeSchema,
  PatternsReplySchema,
  PatternsRequestSchema,
} from './outcomes.ts';
import {
  NOTICE_TOKEN_PATTERN,
  type QueueGroups,
  type Streams,
  TENANT_PATTERN,
  tenantOf,
} from './subjects.ts';

/** A membus service: its queue group and durable consumer name. */
export type ServiceName = (typeof QueueGroups)[keyof typeof QueueGroups];

/** What agents (tenant accounts) may do with an operation. */
export type AgentAccess =
  /** Request it, or publish it into its stream. */
  | 'call'
  /** Receive it (an event of their own tenant). */
  | 'receive'
  /** Nothing: membus-internal. */
  | 'none';

interface OperationBase<Name extends string, Scoped extends boolean> {
  /** The operation's name, e.g. `memory.query`; greppable across every hop. */
  readonly name: Name;
  /** The subject base; a tenant-scoped operation appends the tenant as the last token. */
  readonly subject: Name;
  /** The whole subject, e.g. `memory.query.<tenant>` or `memory.notice.<tenant>.<token>`. */
  readonly pattern: string;
  /** Whether the subject carries the tenant (services take it from there, never the payload). */
  readonly tenantScoped: Scoped;
  /** What agents may do with it (the tenant-facing surface, decision 006). */
  readonly agents: AgentAccess;
  /** Services that call or publish it (their NATS users may publish its subjects). */
  readonly publishers: readonly ServiceName[];
  /** One line: what it does. */
  readonly description: string;
}

/** Request/reply over core NATS, answered by one service's queue group. */
export interface RequestOperation<
  Request extends z.ZodType = z.ZodType,
  Reply extends z.ZodType = z.ZodType,
  Name extends string = string,
  Scoped extends boolean = boolean,
> extends OperationBase<Name, Scoped> {
  readonly kind: 'request';
  /** The request body. */
  readonly request: Request;
  /** The reply body (an error travels as `{ error }` beside it). */
  readonly reply: Reply;
  /** The service that answers it (its queue group). */
  readonly service: ServiceName;
}

/** A message published durably into a JetStream stream. */
export interface JetStreamOperation<
  Message extends z.ZodType = z.ZodType,
  Name extends string = string,
  Scoped extends boolean = boolean,
> extends OperationBase<Name, Scoped> {
  readonly kind: 'jetstream';
  /** The message body. */
  readonly message: Message;
  /** The stream (key of `Streams`) that captures it. */
  readonly stream: keyof typeof Streams;
  /** The service whose durable consumer processes it, if any. */
  readonly service: ServiceName | undefined;
}

/** A core NATS event: fire and forget, to whoever listens. */
export interface EventOperation<
  Message extends z.ZodType = z.ZodType,
  Name extends string = string,
  Scoped extends boolean = boolean,
> extends OperationBase<Name, Scoped> {
  readonly kind: 'event';
  /** The event body. */
  readonly message: Message;
  /** Services that subscribe to it. */
  readonly subscribers: readonly ServiceName[];
}

export type Operation = RequestOperation | JetStreamOperation | EventOperation;

type Common<Name extends string, Scoped extends boolean> = {
  name: Name;
  tenantScoped: Scoped;
  agents: AgentAccess;
  publishers: readonly ServiceName[];
  description: string;
};

function patternOf(name: string, tenantScoped: boolean, token = false): string {
  return `${name}${tenantScoped ? '.<tenant>' : ''}${token ? '.<token>' : ''}`;
}

function requestOperation<
  const Name extends string,
  Request extends z.ZodType,
  Reply extends z.ZodType,
  const Scoped extends boolean,
>(
  spec: Common<Name, Scoped> & { request: Request; reply: Reply; service: ServiceName },
): RequestOperation<Request, Reply, Name, Scoped> {
  return {
    ...spec,
    kind: 'request',
    subject: spec.name,
    pattern: patternOf(spec.name, spec.tenantScoped),
  };
}

function jetStreamOperation<
  const Name extends string,
  Message extends z.ZodType,
  const Scoped extends boolean,
>(
  spec: Common<Name, Scoped> & {
    message: Message;
    stream: keyof typeof Streams;
    service: ServiceName | undefined;
  },
): JetStreamOperation<Message, Name, Scoped> {
  return {
    ...spec,
    kind: 'jetstream',
    subject: spec.name,
    pattern: patternOf(spec.name, spec.tenantScoped),
  };
}

function eventOperation<
  const Name extends string,
  Message extends z.ZodType,
  const Scoped extends boolean,
>(
  spec: Common<Name, Scoped> & {
    message: Message;
    subscribers: readonly ServiceName[];
    /** The subject ends in a token the receiver chose (`<tenant>.<token>`). */
    token?: boolean;
  },
): EventOperation<Message, Name, Scoped> {
  const { token, ...rest } = spec;
  return {
    ...rest,
    kind: 'event',
    subject: spec.name,
    pattern: patternOf(spec.name, spec.tenantScoped, token),
  };
}

/**
 * Every hop of membus, by name (one entry per operation: this file is long because the table is): its subject, kind, schemas, who serves or consumes it, who may
 * call it. Services serve and call operations from this table (`serveOperation`, `call`,
 * `publishOperation` in `@membus/bus`), the tenancy permissions are derived from it, and
 * `operationJsonSchemas()` exports its schemas for other languages.
 *
 * A store, followed to the index: `store` (agent -> JetStream) -> the embedder consumes it and
 * publishes `embedded` -> the vector-store consumes that and emits `stored` / `changed` (JetStream)
 * and `notice` (to the waiting caller).
 */
export const Operations = {
  store: jetStreamOperation({
    name: 'memory.store',
    tenantScoped: true,
    message: StoreMemorySchema,
    stream: 'store',
    service: 'embedder',
    publishers: ['pattern-extractor', 'compactor'],
    agents: 'call',
    description: 'Store a memory (durable); the embedder embeds it.',
  }),
  embedded: jetStreamOperation({
    name: 'memory.embedded',
    tenantScoped: true,
    message: EmbeddedMemorySchema,
    stream: 'embedded',
    service: 'vector-store',
    publishers: ['embedder'],
    agents: 'none',
    description: 'A store with its vector; the vector-store indexes it.',
  }),
  stored: jetStreamOperation({
    name: 'memory.stored',
    tenantScoped: true,
    message: MemoryEventSchema,
    stream: 'events',
    service: 'compactor',
    publishers: ['vector-store'],
    agents: 'none',
    description: 'A memory was created (or a duplicate recognised), once durable.',
  }),
  changed: jetStreamOperation({
    name: 'memory.changed',
    tenantScoped: true,
    message: MemoryEventSchema,
    stream: 'events',
    service: undefined,
    publishers: ['vector-store'],
    agents: 'none',
    description: 'A memory was updated, deleted, expired or merged, once durable.',
  }),
  query: requestOperation({
    name: 'memory.query',
    tenantScoped: true,
    request: QueryRequestSchema,
    reply: QueryReplySchema,
    service: 'vector-store',
    publishers: [],
    agents: 'call',
    description: 'Semantic, keyword or hybrid search, ranked.',
  }),
  get: requestOperation({
    name: 'memory.get',
    tenantScoped: true,
    request: GetRequestSchema,
    reply: GetReplySchema,
    service: 'vector-store',
    publishers: [],
    agents: 'call',
    description: 'Memories by id.',
  }),
  list: requestOperation({
    name: 'memory.list',
    tenantScoped: true,
    request: ListRequestSchema,
    reply: ListReplySchema,
    service: 'vector-store',
    publishers: ['compactor'],
    agents: 'call',
    description: 'One page of memories matching a filter, newest first.',
  }),
  update: requestOperation({
    name: 'memory.update',
    tenantScoped: true,
    request: UpdateRequestSchema,
    reply: UpdateReplySchema,
    service: 'vector-store',
    publishers: ['pattern-extractor', 'compactor'],
    agents: 'call',
    description: 'Change a memory; new text is re-embedded.',
  }),
  delete: requestOperation({
    name: 'memory.delete',
    tenantScoped: true,
    request: DeleteRequestSchema,
    reply: DeleteReplySchema,
    service: 'vector-store',
    publishers: ['compactor'],
    agents: 'call',
    description: 'Delete memories by id or by a non-empty filter.',
  }),
  history: requestOperation({
    name: 'memory.history',
    tenantScoped: true,
    request: HistoryRequestSchema,
    reply: HistoryReplySchema,
    service: 'vector-store',
    publishers: [],
    agents: 'call',
    description: "A memory's history, oldest first, page by page.",
  }),
  stats: requestOperation({
    name: 'memory.stats',
    tenantScoped: true,
    request: StatsRequestSchema,
    reply: StatsReplySchema,
    service: 'vector-store',
    publishers: ['compactor'],
    agents: 'call',
    description: 'Counts of live memories matching a filter.',
  }),
  dlq: jetStreamOperation({
    name: 'memory.dlq',
    tenantScoped: true,
    message: DeadLetterSchema,
    stream: 'dlq',
    service: undefined,
    publishers: ['embedder', 'vector-store', 'pattern-extractor', 'compactor'],
    agents: 'none',
    description: 'A message that could not be processed, and why (for operators).',
  }),
  outcome: jetStreamOperation({
    name: 'memory.outcome',
    tenantScoped: true,
    message: OutcomeSchema,
    stream: 'outcomes',
    service: 'pattern-extractor',
    publishers: ['compactor'],
    agents: 'call',
    description: 'Record a task outcome (durable); the pattern-extractor learns from it.',
  }),
  patterns: requestOperation({
    name: 'memory.patterns',
    tenantScoped: true,
    request: PatternsRequestSchema,
    reply: PatternsReplySchema,
    service: 'pattern-extractor',
    publishers: [],
    agents: 'call',
    description: 'Ranked workflow patterns and failure signatures of a task type.',
  }),
  metrics: requestOperation({
    name: 'memory.metrics',
    tenantScoped: true,
    request: MetricsRequestSchema,
    reply: MetricsReplySchema,
    service: 'pattern-extractor',
    publishers: [],
    agents: 'call',
    description: 'Learning metrics per task type and overall.',
  }),
  sessionEnd: jetStreamOperation({
    name: 'memory.session.end',
    tenantScoped: true,
    message: SessionEndSchema,
    stream: 'lifecycle',
    service: 'compactor',
    publishers: [],
    agents: 'call',
    description: 'A session ended (durable); the compactor compacts it.',
  }),
  compact: requestOperation({
    name: 'memory.compact',
    tenantScoped: true,
    request: CompactRequestSchema,
    reply: CompactReplySchema,
    service: 'compactor',
    publishers: [],
    agents: 'call',
    description: 'Compact a session and/or run maintenance sweeps now.',
  }),
  audit: requestOperation({
    name: 'memory.audit',
    tenantScoped: true,
    request: AuditRequestSchema,
    reply: AuditReplySchema,
    service: 'compactor',
    publishers: [],
    agents: 'call',
    description: 'Quality audit: counts, near duplicates, stale memories, advice.',
  }),
  expire: requestOperation({
    name: 'memory.expire',
    tenantScoped: true,
    request: ExpireRequestSchema,
    reply: ExpireReplySchema,
    service: 'vector-store',
    publishers: ['compactor'],
    agents: 'none',
    description: 'Delete expired memories, recording EXPIRE (the compactor calls it).',
  }),
  merge: requestOperation({
    name: 'memory.merge',
    tenantScoped: true,
    request: MergeRequestSchema,
    reply: MergeReplySchema,
    service: 'vector-store',
    publishers: ['compactor'],
    agents: 'none',
    description: 'Fold memories into one, recording MERGE (the compactor calls it).',
  }),
  embed: requestOperation({
    name: 'memory.embed',
    // No tenant data is kept: query and document vectors for the services.
    tenantScoped: false,
    request: EmbedRequestSchema,
    reply: EmbedReplySchema,
    service: 'embedder',
    publishers: ['vector-store', 'pattern-extractor', 'compactor'],
    agents: 'none',
    description: 'Vectors (and the redacted stored form) of texts, for the services.',
  }),
  notice: eventOperation({
    name: 'memory.notice',
    tenantScoped: true,
    token: true,
    message: StoreNoticeSchema,
    subscribers: ['compactor'],
    publishers: ['embedder', 'vector-store'],
    agents: 'receive',
    description:
      'A store took effect (or failed): to the token its caller chose (`membus-notify` header).',
  }),
  compacted: eventOperation({
    name: 'memory.compacted',
    tenantScoped: true,
    message: CompactedEventSchema,
    subscribers: [],
    publishers: ['compactor'],
    agents: 'receive',
    description: 'A session compaction finished, with its report.',
  }),
} as const;

export type Operations = typeof Operations;
export type OperationKey = keyof Operations;

/** The subject base of every operation, by key (`Subjects.query` is `memory.query`). */
export const Subjects = Object.fromEntries(
  Object.entries(Operations).map(([key, operation]) => [key, operation.subject]),
) as { readonly [K in OperationKey]: Operations[K]['subject'] };
export type SubjectName = OperationKey;

/**
 * The subject of an operation for a tenant: `memory.query` + `acme` -> `memory.query.acme`;
 * the store notice adds the caller's token. A tenant or token that could widen the subject
 * (`a.>`) is refused with INVALID_TENANT.
 */
export function subjectOf(operation: Operation, tenant?: string, token?: string): string {
  if (!operation.tenantScoped) return operation.subject;
  if (tenant === undefined || !TENANT_PATTERN.test(tenant))
    throw new MembusError(
      'INVALID_TENANT',
      `invalid tenant "${tenant}" for ${operation.name}: expected ${TENANT_PATTERN}`,
    );
  if (!operation.pattern.endsWith('<token>')) return `${operation.subject}.${tenant}`;
  if (token === undefined || !NOTICE_TOKEN_PATTERN.test(token))
    throw new MembusError(
      'INVALID_MESSAGE',
      `invalid token "${token}" for ${operation.name}: expected ${NOTICE_TOKEN_PATTERN}`,
    );
  return `${operation.subject}.${tenant}.${token}`;
}

/** The subject an operation is served or subscribed on: every tenant (and token) as `*`. */
export function subjectWildcard(operation: Operation): string {
  return operation.pattern.replace('<tenant>', '*').replace('<token>', '*');
}

/**
 * Where the store notice of a message on `storeSubject` goes, given its `membus-notify`
 * token: `memory.notice.<tenant>.<token>`, or undefined when either is not valid.
 */
export function noticeSubject(storeSubject: string, token: string | undefined): string | undefined {
  const tenant = tenantOf(storeSubject);
  if (!tenant || !token || !NOTICE_TOKEN_PATTERN.test(token)) return undefined;
  return subjectOf(Operations.notice, tenant, token);
}
