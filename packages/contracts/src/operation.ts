import type { z } from 'zod';
import { MembusError } from './errors.ts';
import {
  NOTICE_TOKEN_PATTERN,
  type QueueGroups,
  type Streams,
  TENANT_PATTERN,
} from './subjects.ts';

// What an operation is (the kinds of hop), how a table entry is built, and its subjects. The
// table itself is `Operations` in operations.ts.

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

/**
 * What every operation has. An entry of the `Operations` table keeps its literal types (the
 * name, whether it is tenant-scoped, its schemas), which `call` and the other bus functions read.
 */
interface OperationBase {
  /** The operation's name, e.g. `memory.query`; greppable across every hop. */
  readonly name: string;
  /** The subject base; a tenant-scoped operation appends the tenant as the last token. */
  readonly subject: string;
  /** The whole subject, e.g. `memory.query.<tenant>` or `memory.notice.<tenant>.<token>`. */
  readonly pattern: string;
  /** Whether the subject carries the tenant (services take it from there, never the payload). */
  readonly tenantScoped: boolean;
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
> extends OperationBase {
  readonly kind: 'request';
  /** The request body. */
  readonly request: Request;
  /** The reply body (an error travels as `{ error }` beside it). */
  readonly reply: Reply;
  /** The service that answers it (its queue group). */
  readonly service: ServiceName;
}

/** A message published durably into a JetStream stream. */
export interface JetStreamOperation<Message extends z.ZodType = z.ZodType> extends OperationBase {
  readonly kind: 'jetstream';
  /** The message body. */
  readonly message: Message;
  /** The stream (key of `Streams`) that captures it. */
  readonly stream: keyof typeof Streams;
  /** The service whose durable consumer processes it, if any. */
  readonly service: ServiceName | undefined;
}

/** A core NATS event: fire and forget, to whoever listens. */
export interface EventOperation<Message extends z.ZodType = z.ZodType> extends OperationBase {
  readonly kind: 'event';
  /** The event body. */
  readonly message: Message;
  /** Services that subscribe to it. */
  readonly subscribers: readonly ServiceName[];
}

export type Operation = RequestOperation | JetStreamOperation | EventOperation;

/** A table entry as written: an operation without its subjects (the builder adds them). */
export type OperationSpec = (
  | Omit<RequestOperation, 'subject' | 'pattern'>
  | Omit<JetStreamOperation, 'subject' | 'pattern'>
  | Omit<EventOperation, 'subject' | 'pattern'>
) & {
  /** The subject ends in a token the receiver chose (`<tenant>.<token>`; events only). */
  readonly token?: boolean;
};

/**
 * An entry of the operations table: its spec (literal types kept) with the subject base and
 * the whole subject pattern, e.g. `memory.notice.<tenant>.<token>`.
 */
export function operation<const Spec extends OperationSpec>(
  spec: Spec,
): Omit<Spec, 'token'> & { readonly subject: Spec['name']; readonly pattern: string } {
  const { token, kind, ...rest } = spec;
  const pattern = `${spec.name}${spec.tenantScoped ? '.<tenant>' : ''}${token ? '.<token>' : ''}`;
  return { ...rest, kind, subject: spec.name, pattern } as Omit<Spec, 'token'> & {
    readonly subject: Spec['name'];
    readonly pattern: string;
  };
}

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
