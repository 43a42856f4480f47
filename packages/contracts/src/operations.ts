import {
  DeleteReplySchema,
  DeleteRequestSchema,
  UpdateReplySchema,
  UpdateRequestSchema,
} from './change-messages.ts';
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
import { type Operation, operation, subjectOf } from './operation.ts';
import {
  MetricsReplySchema,
  MetricsRequestSchema,
  OutcomeSchema,
  PatternsReplySchema,
  PatternsRequestSchema,
} from './outcomes.ts';
import {
  GetReplySchema,
  GetRequestSchema,
  HistoryReplySchema,
  HistoryRequestSchema,
  ListReplySchema,
  ListRequestSchema,
  QueryReplySchema,
  QueryRequestSchema,
  StatsReplySchema,
  StatsRequestSchema,
} from './read-messages.ts';
import {
  DeadLetterSchema,
  EmbeddedMemorySchema,
  EmbedReplySchema,
  EmbedRequestSchema,
  MemoryEventSchema,
  StoreMemorySchema,
  StoreNoticeSchema,
} from './store-messages.ts';
import { NOTICE_TOKEN_PATTERN, tenantOf } from './subjects.ts';
import { FeedMessageSchema, WatchReplySchema, WatchRequestSchema } from './watch.ts';

export type {
  AgentAccess,
  EventOperation,
  JetStreamOperation,
  Operation,
  RequestOperation,
  ServiceName,
} from './operation.ts';
export { subjectOf, subjectWildcard } from './operation.ts';

/**
 * Every hop of membus, by name: its subject, kind, schemas, who serves or consumes it, who may
 * call it (one entry per operation, made by `operation()` of operation.ts). Services serve and call operations from this table (`serveOperation`, `call`,
 * `publishOperation` in `@membus/bus`), the tenancy permissions are derived from it, and
 * `operationJsonSchemas()` exports its schemas for other languages.
 *
 * A store, followed to the index: `store` (agent -> JetStream) -> the embedder consumes it and
 * publishes `embedded` -> the vector-store consumes that and emits `stored` / `changed` (JetStream)
 * and `notice` (to the waiting caller).
 */
export const Operations = {
  store: operation({
    kind: 'jetstream',
    name: 'memory.store',
    tenantScoped: true,
    message: StoreMemorySchema,
    stream: 'store',
    service: 'embedder',
    publishers: ['pattern-extractor', 'compactor'],
    agents: 'call',
    description: 'Store a memory (durable); the embedder embeds it.',
  }),
  embedded: operation({
    kind: 'jetstream',
    name: 'memory.embedded',
    tenantScoped: true,
    message: EmbeddedMemorySchema,
    stream: 'embedded',
    service: 'vector-store',
    publishers: ['embedder'],
    agents: 'none',
    description: 'A store with its vector; the vector-store indexes it.',
  }),
  stored: operation({
    kind: 'jetstream',
    name: 'memory.stored',
    tenantScoped: true,
    message: MemoryEventSchema,
    stream: 'events',
    service: 'compactor',
    publishers: ['vector-store'],
    agents: 'none',
    description: 'A memory was created (or a duplicate recognised), once durable.',
  }),
  changed: operation({
    kind: 'jetstream',
    name: 'memory.changed',
    tenantScoped: true,
    message: MemoryEventSchema,
    stream: 'events',
    service: undefined,
    publishers: ['vector-store'],
    agents: 'none',
    description: 'A memory was updated, deleted, expired or merged, once durable.',
  }),
  query: operation({
    kind: 'request',
    name: 'memory.query',
    tenantScoped: true,
    request: QueryRequestSchema,
    reply: QueryReplySchema,
    service: 'vector-store',
    publishers: [],
    agents: 'call',
    description: 'Semantic, keyword or hybrid search, ranked.',
  }),
  get: operation({
    kind: 'request',
    name: 'memory.get',
    tenantScoped: true,
    request: GetRequestSchema,
    reply: GetReplySchema,
    service: 'vector-store',
    publishers: [],
    agents: 'call',
    description: 'Memories by id.',
  }),
  list: operation({
    kind: 'request',
    name: 'memory.list',
    tenantScoped: true,
    request: ListRequestSchema,
    reply: ListReplySchema,
    service: 'vector-store',
    publishers: ['compactor'],
    agents: 'call',
    description: 'One page of memories matching a filter, newest first.',
  }),
  update: operation({
    kind: 'request',
    name: 'memory.update',
    tenantScoped: true,
    request: UpdateRequestSchema,
    reply: UpdateReplySchema,
    service: 'vector-store',
    publishers: ['pattern-extractor', 'compactor'],
    agents: 'call',
    description: 'Change a memory; new text is re-embedded.',
  }),
  delete: operation({
    kind: 'request',
    name: 'memory.delete',
    tenantScoped: true,
    request: DeleteRequestSchema,
    reply: DeleteReplySchema,
    service: 'vector-store',
    publishers: ['compactor'],
    agents: 'call',
    description: 'Delete memories by id or by a non-empty filter.',
  }),
  history: operation({
    kind: 'request',
    name: 'memory.history',
    tenantScoped: true,
    request: HistoryRequestSchema,
    reply: HistoryReplySchema,
    service: 'vector-store',
    publishers: [],
    agents: 'call',
    description: "A memory's history, oldest first, page by page.",
  }),
  stats: operation({
    kind: 'request',
    name: 'memory.stats',
    tenantScoped: true,
    request: StatsRequestSchema,
    reply: StatsReplySchema,
    service: 'vector-store',
    publishers: ['compactor'],
    agents: 'call',
    description: 'Counts of live memories matching a filter.',
  }),
  dlq: operation({
    kind: 'jetstream',
    name: 'memory.dlq',
    tenantScoped: true,
    message: DeadLetterSchema,
    stream: 'dlq',
    service: undefined,
    publishers: ['embedder', 'vector-store', 'pattern-extractor', 'compactor'],
    agents: 'none',
    description: 'A message that could not be processed, and why (for operators).',
  }),
  outcome: operation({
    kind: 'jetstream',
    name: 'memory.outcome',
    tenantScoped: true,
    message: OutcomeSchema,
    stream: 'outcomes',
    service: 'pattern-extractor',
    publishers: ['compactor'],
    agents: 'call',
    description: 'Record a task outcome (durable); the pattern-extractor learns from it.',
  }),
  patterns: operation({
    kind: 'request',
    name: 'memory.patterns',
    tenantScoped: true,
    request: PatternsRequestSchema,
    reply: PatternsReplySchema,
    service: 'pattern-extractor',
    publishers: [],
    agents: 'call',
    description: 'Ranked workflow patterns and failure signatures of a task type.',
  }),
  metrics: operation({
    kind: 'request',
    name: 'memory.metrics',
    tenantScoped: true,
    request: MetricsRequestSchema,
    reply: MetricsReplySchema,
    service: 'pattern-extractor',
    publishers: [],
    agents: 'call',
    description: 'Learning metrics per task type and overall.',
  }),
  sessionEnd: operation({
    kind: 'jetstream',
    name: 'memory.session.end',
    tenantScoped: true,
    message: SessionEndSchema,
    stream: 'lifecycle',
    service: 'compactor',
    publishers: [],
    agents: 'call',
    description: 'A session ended (durable); the compactor compacts it.',
  }),
  compact: operation({
    kind: 'request',
    name: 'memory.compact',
    tenantScoped: true,
    request: CompactRequestSchema,
    reply: CompactReplySchema,
    service: 'compactor',
    publishers: [],
    agents: 'call',
    description: 'Compact a session and/or run maintenance sweeps now.',
  }),
  audit: operation({
    kind: 'request',
    name: 'memory.audit',
    tenantScoped: true,
    request: AuditRequestSchema,
    reply: AuditReplySchema,
    service: 'compactor',
    publishers: [],
    agents: 'call',
    description: 'Quality audit: counts, near duplicates, stale memories, advice.',
  }),
  expire: operation({
    kind: 'request',
    name: 'memory.expire',
    tenantScoped: true,
    request: ExpireRequestSchema,
    reply: ExpireReplySchema,
    service: 'vector-store',
    publishers: ['compactor'],
    agents: 'none',
    description: 'Delete expired memories, recording EXPIRE (the compactor calls it).',
  }),
  merge: operation({
    kind: 'request',
    name: 'memory.merge',
    tenantScoped: true,
    request: MergeRequestSchema,
    reply: MergeReplySchema,
    service: 'vector-store',
    publishers: ['compactor'],
    agents: 'none',
    description: 'Fold memories into one, recording MERGE (the compactor calls it).',
  }),
  embed: operation({
    kind: 'request',
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
  notice: operation({
    kind: 'event',
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
  compacted: operation({
    kind: 'event',
    name: 'memory.compacted',
    tenantScoped: true,
    message: CompactedEventSchema,
    subscribers: [],
    publishers: ['compactor'],
    agents: 'receive',
    description: 'A session compaction finished, with its report.',
  }),
  watch: operation({
    kind: 'request',
    name: 'memory.watch',
    tenantScoped: true,
    request: WatchRequestSchema,
    reply: WatchReplySchema,
    service: 'vector-store',
    publishers: [],
    agents: 'call',
    description:
      "Start, renew or stop a relay of the tenant's change events to its feed (decision 008).",
  }),
  feed: operation({
    kind: 'event',
    name: 'memory.feed',
    tenantScoped: true,
    token: true,
    message: FeedMessageSchema,
    subscribers: [],
    publishers: ['vector-store'],
    agents: 'receive',
    description:
      "A tenant's change events, in stream order, to the token its watcher chose (`memory.watch`).",
  }),
} as const satisfies Record<string, Operation>;

export type Operations = typeof Operations;
export type OperationKey = keyof Operations;

/** The subject base of every operation, by key (`Subjects.query` is `memory.query`). */
export const Subjects = Object.fromEntries(
  Object.entries(Operations).map(([key, operation]) => [key, operation.subject]),
) as { readonly [K in OperationKey]: Operations[K]['subject'] };
export type SubjectName = OperationKey;

/**
 * Where the store notice of a message on `storeSubject` goes, given its `membus-notify`
 * token: `memory.notice.<tenant>.<token>`, or undefined when either is not valid.
 */
export function noticeSubject(storeSubject: string, token: string | undefined): string | undefined {
  const tenant = tenantOf(storeSubject);
  if (!tenant || !token || !NOTICE_TOKEN_PATTERN.test(token)) return undefined;
  return subjectOf(Operations.notice, tenant, token);
}
