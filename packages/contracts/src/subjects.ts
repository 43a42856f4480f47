/**
 * NATS subjects. The tenant is always the last token, so NATS permissions can
 * enforce tenancy and services take the tenant from the subject, never the payload.
 */
export const Subjects = {
  store: 'memory.store',
  embedded: 'memory.embedded',
  stored: 'memory.stored',
  changed: 'memory.changed',
  query: 'memory.query',
  get: 'memory.get',
  list: 'memory.list',
  update: 'memory.update',
  delete: 'memory.delete',
  history: 'memory.history',
  stats: 'memory.stats',
  dlq: 'memory.dlq',
  /** Task outcomes (JetStream): the pattern-extractor learns from them. */
  outcome: 'memory.outcome',
  /** Ranked workflow patterns (request/reply, pattern-extractor). */
  patterns: 'memory.patterns',
  /** Per-task-type and overall learning metrics (request/reply, pattern-extractor). */
  metrics: 'memory.metrics',
  /** A session ended (JetStream): the compactor compacts it. */
  sessionEnd: 'memory.session.end',
  /** Compact on demand (request/reply, compactor). */
  compact: 'memory.compact',
  /** Quality audit (request/reply, compactor). */
  audit: 'memory.audit',
  /** Delete expired memories, recording EXPIRE (request/reply, vector-store; used by the compactor). */
  expire: 'memory.expire',
  /** Merge memories into one, recording MERGE (request/reply, vector-store; used by the compactor). */
  merge: 'memory.merge',
  /** Not tenant-scoped: query vectors for the vector-store (no tenant data is kept). */
  embed: 'memory.embed',
  /**
   * Store notices (core NATS): `memory.notice.<tenant>.<token>`, the token chosen by the
   * waiting client (`membus-notify` header). The tenant comes from the store's subject, so a
   * notice can only ever reach the tenant that stored.
   */
  notice: 'memory.notice',
} as const;

export type SubjectName = keyof typeof Subjects;

/** JetStream streams and the subjects each one captures. */
export const Streams = {
  store: { name: 'MEMORY_STORE', subjects: ['memory.store.*'] },
  embedded: { name: 'MEMORY_EMBEDDED', subjects: ['memory.embedded.*'] },
  events: { name: 'MEMORY_EVENTS', subjects: ['memory.stored.*', 'memory.changed.*'] },
  dlq: { name: 'MEMORY_DLQ', subjects: ['memory.dlq.*'] },
  outcomes: { name: 'MEMORY_OUTCOMES', subjects: ['memory.outcome.*'] },
  lifecycle: { name: 'MEMORY_LIFECYCLE', subjects: ['memory.session.end.*'] },
} as const;

/** Durable consumer names: one per service role, shared by its replicas. */
export const Consumers = {
  embedder: 'embedder',
  vectorStore: 'vector-store',
  patternExtractor: 'pattern-extractor',
  compactor: 'compactor',
} as const;

/** Queue groups for request/reply handlers, shared by a service's replicas. */
export const QueueGroups = {
  embedder: 'embedder',
  vectorStore: 'vector-store',
  patternExtractor: 'pattern-extractor',
  compactor: 'compactor',
} as const;

/** Tenant names; a leading `_` is reserved for membus itself (e.g. `_unknown` in the DLQ). */
export const TENANT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** DLQ tenant token for messages whose subject named no valid tenant. */
export const UNKNOWN_TENANT = '_unknown';
export const DEFAULT_TENANT = 'default';

/** `memory.query` + `acme` -> `memory.query.acme`. */
export function tenantSubject(base: string, tenant: string): string {
  if (!TENANT_PATTERN.test(tenant)) {
    throw new RangeError(`invalid tenant "${tenant}": expected ${TENANT_PATTERN}`);
  }
  return `${base}.${tenant}`;
}

/** The tenant token of a tenant-scoped subject, or undefined when it is not a valid tenant. */
export function tenantOf(subject: string): string | undefined {
  const tenant = subject.slice(subject.lastIndexOf('.') + 1);
  return TENANT_PATTERN.test(tenant) ? tenant : undefined;
}

/** Headers membus sets on messages (besides the W3C `traceparent`/`tracestate`). */
export const Headers = {
  /** JetStream de-duplication id; retries of one store publish carry the same value. */
  messageId: 'Nats-Msg-Id',
  /**
   * A token ({@link NOTICE_TOKEN_PATTERN}) naming where the {@link StoreNotice} goes once the
   * memory is queryable or has failed: `memory.notice.<tenant>.<token>`.
   */
  notify: 'membus-notify',
  errorCode: 'x-error-code',
  errorMessage: 'x-error-message',
  /** Subject the dead-lettered message was originally published to. */
  originalSubject: 'x-original-subject',
  deliveries: 'x-deliveries',
} as const;

/** A store-notice token: one subject token, so it can only select within its tenant's notices. */
export const NOTICE_TOKEN_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Where the store notice of a message on `storeSubject` goes, given its `membus-notify`
 * token: `memory.notice.<tenant>.<token>`, or undefined when either is not valid.
 */
export function noticeSubject(storeSubject: string, token: string | undefined): string | undefined {
  const tenant = tenantOf(storeSubject);
  if (!tenant || !token || !NOTICE_TOKEN_PATTERN.test(token)) return undefined;
  return `${Subjects.notice}.${tenant}.${token}`;
}
