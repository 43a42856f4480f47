/**
 * Subject conventions. Every operation's subject is in `Operations` (operations.ts). The tenant
 * is always the last token of a tenant-scoped subject, so NATS permissions can enforce tenancy
 * and services take the tenant from the subject, never the payload.
 */

/** JetStream streams and the subjects each one captures. */
export const Streams = {
  store: { name: 'MEMORY_STORE', subjects: ['memory.store.*'] },
  embedded: { name: 'MEMORY_EMBEDDED', subjects: ['memory.embedded.*'] },
  events: { name: 'MEMORY_EVENTS', subjects: ['memory.stored.*', 'memory.changed.*'] },
  dlq: { name: 'MEMORY_DLQ', subjects: ['memory.dlq.*'] },
  outcomes: { name: 'MEMORY_OUTCOMES', subjects: ['memory.outcome.*'] },
  lifecycle: { name: 'MEMORY_LIFECYCLE', subjects: ['memory.session.end.*'] },
  ingest: { name: 'MEMORY_INGEST', subjects: ['memory.ingest.*'] },
} as const;

/** Each service's role name: its durable consumer, its queue group and its NATS user. */
const serviceRoles = {
  embedder: 'embedder',
  vectorStore: 'vector-store',
  patternExtractor: 'pattern-extractor',
  compactor: 'compactor',
  extractor: 'extractor',
  webhooks: 'webhooks',
} as const;

/** Durable consumer names: one per service role, shared by its replicas. */
export const Consumers = serviceRoles;

/** Queue groups for request/reply handlers, shared by a service's replicas. */
export const QueueGroups = serviceRoles;

/** Every service, in the order `membus start` runs them; each has a NATS user of its own. */
export const serviceNames: readonly (typeof serviceRoles)[keyof typeof serviceRoles][] =
  Object.values(serviceRoles);

/** Tenant names; a leading `_` is reserved for membus itself (e.g. `_unknown` in the DLQ). */
export const TENANT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** DLQ tenant token for messages whose subject named no valid tenant. */
export const UNKNOWN_TENANT = '_unknown';
export const DEFAULT_TENANT = 'default';

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
