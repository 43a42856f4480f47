import { randomUUID } from 'node:crypto';
import { decode, type NatsConnection, type Subscription } from '@membus/bus';
import {
  type ErrorBody,
  MembusError,
  Operations,
  type StoreNotice,
  StoreNoticeSchema,
  subjectOf,
} from '@membus/contracts';
import type { z } from 'zod';

/** What every message still waiting is answered with when the client closes. */
const CLIENT_CLOSED: ErrorBody = { code: 'UNAVAILABLE', message: 'client closed', retryable: true };

/** What tells one kind of notice apart: its subject, its schema and its two failures. */
export interface NoticeKind<N extends { id: string }> {
  /** `memory.notice.<tenant>.<token>` (stores) or `memory.extracted.<tenant>.<token>` (ingests). */
  readonly operation: typeof Operations.notice | typeof Operations.extracted;
  readonly schema: z.ZodType<N>;
  /** The TIMEOUT message for `id`, unanswered after `timeoutMs`. */
  late(id: string, timeoutMs: number): string;
  /** The failed notice a message still waiting gets when the client closes: `error` says so. */
  closed(id: string, error: ErrorBody): N;
}

/**
 * The notices of one client on one notice subject with a token of its own (the services take
 * the tenant from the message's subject, so only this tenant can ever receive them), subscribed
 * on the first wait, each matched to the message that waits for it by id.
 */
export class Notices<N extends { id: string }> {
  /** The `membus-notify` token messages that wait are published with. */
  readonly token = randomUUID();
  readonly #nc: NatsConnection;
  readonly #tenant: string;
  readonly #kind: NoticeKind<N>;
  readonly #waiting = new Map<string, (notice: N) => void>();
  #subscription: Subscription | undefined;

  constructor(nc: NatsConnection, tenant: string, kind: NoticeKind<N>) {
    this.#nc = nc;
    this.#tenant = tenant;
    this.#kind = kind;
  }

  /** The notice of message `id`, or TIMEOUT after `timeoutMs`. */
  wait(id: string, timeoutMs: number): Promise<N> {
    this.#listen();
    return new Promise<N>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new MembusError('TIMEOUT', this.#kind.late(id, timeoutMs), { details: { id } }));
      }, timeoutMs);
      this.#waiting.set(id, (notice) => {
        clearTimeout(timer);
        this.#waiting.delete(id);
        resolve(notice);
      });
    });
  }

  /** Stops waiting for these messages (their publish failed). */
  forget(ids: Iterable<string>): void {
    for (const id of ids) this.#waiting.delete(id);
  }

  /** Unsubscribes; every message still waiting gets its kind's `closed` failure. */
  close(): void {
    this.#subscription?.unsubscribe();
    for (const [id, resolve] of this.#waiting) resolve(this.#kind.closed(id, CLIENT_CLOSED));
    this.#waiting.clear();
  }

  #listen(): void {
    if (this.#subscription) return;
    this.#subscription = this.#nc.subscribe(
      subjectOf(this.#kind.operation, this.#tenant, this.token),
      {
        callback: (error, message) => {
          if (error) return;
          const decoded = decode(this.#kind.schema, message.data);
          if (decoded.ok) this.#waiting.get(decoded.value.id)?.(decoded.value);
        },
      },
    );
  }
}

/** A client's store notices: `memory.notice.<tenant>.<token>`, one a store that waits. */
export class StoreNotices extends Notices<StoreNotice> {
  constructor(nc: NatsConnection, tenant: string) {
    super(nc, tenant, {
      operation: Operations.notice,
      schema: StoreNoticeSchema,
      late: (id, timeoutMs) => `memory ${id} was not queryable within ${timeoutMs} ms`,
      closed: (id, error) => ({ v: 1, id, memoryId: id, status: 'failed', error }),
    });
  }
}
