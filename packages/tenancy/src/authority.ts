import {
  Consumers,
  NOTICE_TOKEN_PATTERN,
  type Operation,
  Operations,
  Streams,
  serviceNames,
  subjectWildcard,
  TENANT_PATTERN,
} from '@membus/contracts';

/**
 * Who may do what on the bus (decision 006). One table, rendered both as a static
 * nats-server config and as decentralised JWTs, so the two cannot drift.
 *
 * - The `MEMBUS` account holds JetStream, the streams and the service users.
 * - Each tenant is an account of its own, without JetStream: its agents reach membus only
 *   through the service imports below, so every reply they cause is routed back to them by
 *   the server (an import's reply subject is rewritten), and nothing they name as a reply
 *   subject can land inside the membus account.
 */

/** The membus account's name in the static config (JWT mode names it by its public key). */
export const MEMBUS_ACCOUNT = 'MEMBUS';
export const SYSTEM_ACCOUNT = 'SYS';

const operations = Object.values(Operations) as Operation[];

/**
 * What an agent may call (`agents: 'call'` in the operations table): one service export of the
 * membus account each (`<subject>.*`), imported by every tenant account as `<subject>.<tenant>`.
 * JetStream publishes are service imports too: the stream's ack is the reply, so it can only go
 * back to the publisher. `memory.expire` and `memory.merge` are the compactor's, not the agents'.
 */
export const tenantOperations: readonly string[] = operations
  .filter((operation) => operation.agents === 'call')
  .map((operation) => operation.subject);

/** The events agents receive (`agents: 'receive'`), by subject pattern. */
const receivedEvents = operations.filter((operation) => operation.agents === 'receive');

/** An event's subject for `tenant` (`*`: every tenant), any receiver-chosen token as `>`. */
const eventSubject = (operation: Operation, tenant: string) =>
  operation.pattern.replace('<tenant>', tenant).replace('<token>', '>');

/**
 * What an agent may receive from membus besides replies: store notices
 * (`memory.notice.<tenant>.<token>`) and compaction events, as stream exports of the membus
 * account imported by each tenant for its own token only.
 */
export const tenantEvents: readonly string[] = receivedEvents.map((operation) =>
  eventSubject(operation, '*'),
);

export interface Permissions {
  publish: string[];
  subscribe: string[];
}

/**
 * Where a service's replies go: a requester's inbox in the membus account (another service),
 * or the reply subject nats-server wrote for a request that came through a service import
 * (`_R_.…`, routed back to the requesting tenant's account only). No agent can name a reply
 * subject in the membus account, so only membus itself creates these.
 *
 * Not `allow_responses`: nats-server then remembers every reply subject delivered to the
 * connection for its whole TTL, JetStream deliveries' `$JS.ACK.…` subjects included, and past
 * 4,096 of them scans the list on every message: at 100k stores it spent 1.4 → 28 ms of CPU per
 * memory until stores timed out (bench, 2026-12-06).
 */
export const REPLY_SUBJECTS = ['_INBOX.>', '_R_.>'] as const;

export function assertTenant(tenant: string): void {
  if (!TENANT_PATTERN.test(tenant)) {
    throw new RangeError(`invalid tenant "${tenant}": expected ${TENANT_PATTERN}`);
  }
}

/** The imports of one tenant's account: its own subject of every operation, its own events. */
export function tenantImports(tenant: string): {
  services: string[];
  streams: string[];
} {
  assertTenant(tenant);
  return {
    services: tenantOperations.map((subject) => `${subject}.${tenant}`),
    streams: receivedEvents.map((operation) => eventSubject(operation, tenant)),
  };
}

/**
 * An agent of `tenant`: publishes only its own operations (another tenant's subject is a
 * permission error, not a silent timeout) and subscribes only to its own inboxes and events.
 * Its account is its own, so `_INBOX.>` is private to the tenant.
 */
export function agentPermissions(tenant: string): Permissions {
  const imports = tenantImports(tenant);
  return {
    publish: imports.services,
    subscribe: ['_INBOX.>', ...imports.streams],
  };
}

/** One NATS user a service: every service of the pipeline. */
export const serviceUsers = serviceNames;
export type ServiceUser = (typeof serviceUsers)[number];

const streamNames = Object.values(Streams).map((stream) => stream.name);

/** JetStream API calls every service makes: stream setup at start and status reads. */
function jetStreamBasics(): string[] {
  return [
    '$JS.API.INFO',
    ...streamNames.flatMap((name) => [
      `$JS.API.STREAM.INFO.${name}`,
      `$JS.API.STREAM.CREATE.${name}`,
      `$JS.API.STREAM.UPDATE.${name}`,
    ]),
  ];
}

/** A durable pull consumer's calls: create/update/info, pull, ack (nothing else on the stream). */
function consumerCalls(stream: string, durable: string): string[] {
  return [
    `$JS.API.CONSUMER.INFO.${stream}.${durable}`,
    `$JS.API.CONSUMER.CREATE.${stream}.${durable}`,
    `$JS.API.CONSUMER.CREATE.${stream}.${durable}.>`,
    `$JS.API.CONSUMER.DURABLE.CREATE.${stream}.${durable}`,
    `$JS.API.CONSUMER.MSG.NEXT.${stream}.${durable}`,
    `$JS.ACK.${stream}.${durable}.>`,
  ];
}

/** The embedder's embedding cache bucket (NATS KV is a stream named `KV_<bucket>`). */
export const EMBEDDING_CACHE_BUCKET = 'membus-embeddings';
/** The ingest policies' bucket (decision 009; `@membus/ingest-policy`'s `POLICY_BUCKET`). */
export const INGEST_POLICY_BUCKET = 'membus-policies';
/** The vector-store's re-embedding state per tenant (decision 011). */
export const REEMBED_BUCKET = 'membus-reembed';

function kvCalls(bucket: string): string[] {
  const stream = `KV_${bucket}`;
  return [
    `$KV.${bucket}.>`,
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.STREAM.CREATE.${stream}`,
    `$JS.API.STREAM.UPDATE.${stream}`,
    `$JS.API.STREAM.MSG.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}.>`,
  ];
}

/**
 * The operation subjects a service may use, from the operations table: it publishes what it
 * calls or publishes (`publishers`), and subscribes to the requests it answers and the events
 * it listens to. Its JetStream consumers are API calls, not subscriptions (`consumerCalls`).
 */
function operationSubjects(service: ServiceUser): { publish: string[]; subscribe: string[] } {
  return {
    publish: operations
      .filter((operation) => operation.publishers.includes(service))
      .map(subjectWildcard),
    subscribe: operations
      .filter((operation) =>
        operation.kind === 'request'
          ? operation.service === service
          : operation.kind === 'event' && operation.subscribers.includes(service),
      )
      .map(subjectWildcard),
  };
}

/**
 * Least privilege per service: the subjects it serves, publishes and consumes, and the
 * JetStream API calls of its own consumers. No service may purge or delete a stream, read
 * another service's consumer, or publish into a tenant's account (its replies go to
 * {@link REPLY_SUBJECTS}, which only membus creates in its account).
 */
export function servicePermissions(service: ServiceUser): Permissions {
  const subjects = operationSubjects(service);
  const jetStream = {
    embedder: [
      ...consumerCalls(Streams.store.name, Consumers.embedder),
      ...kvCalls(EMBEDDING_CACHE_BUCKET),
      ...kvCalls(INGEST_POLICY_BUCKET),
    ],
    'vector-store': [
      ...consumerCalls(Streams.embedded.name, Consumers.vectorStore),
      // The change feed reads the event stream by sequence (decision 008): no consumer.
      `$JS.API.STREAM.MSG.GET.${Streams.events.name}`,
      ...kvCalls(REEMBED_BUCKET),
    ],
    'pattern-extractor': consumerCalls(Streams.outcomes.name, Consumers.patternExtractor),
    compactor: [
      ...consumerCalls(Streams.lifecycle.name, Consumers.compactor),
      ...consumerCalls(Streams.events.name, Consumers.compactor),
    ],
    extractor: consumerCalls(Streams.ingest.name, Consumers.extractor),
    // Reads every tenant's events to POST them to the tenant's endpoints (decision 008).
    webhooks: consumerCalls(Streams.events.name, Consumers.webhooks),
  }[service];
  return {
    publish: [...jetStreamBasics(), ...jetStream, ...subjects.publish, ...REPLY_SUBJECTS],
    subscribe: ['_INBOX.>', ...subjects.subscribe],
  };
}

/**
 * The operators' user of the membus account: every subject and JetStream call (the DLQ, stream
 * maintenance, `nats stream view`). Never given to an agent.
 */
export const adminPermissions: Permissions = {
  publish: ['>'],
  subscribe: ['>'],
};

/** Store-notice tokens a client may choose (one subject token). */
export { NOTICE_TOKEN_PATTERN };
