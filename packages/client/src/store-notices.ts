import { randomUUID } from 'node:crypto';
import { decode, type NatsConnection, type Subscription } from '@membus/bus';
import {
  MembusError,
  Operations,
  type StoreNotice,
  StoreNoticeSchema,
  subjectOf,
} from '@membus/contracts';

/**
 * The store notices of one client: `memory.notice.<tenant>.<token>` with a token of its own (the
 * services take the tenant from the store's subject, so only this tenant can ever receive
 * them), subscribed on the first wait, each matched to the store that waits for it by id.
 */
export class StoreNotices {
  /** The `membus-notify` token stores that wait are published with. */
  readonly token = randomUUID();
  readonly #nc: NatsConnection;
  readonly #tenant: string;
  readonly #waiting = new Map<string, (notice: StoreNotice) => void>();
  #subscription: Subscription | undefined;

  constructor(nc: NatsConnection, tenant: string) {
    this.#nc = nc;
    this.#tenant = tenant;
  }

  /** The notice of store `id`, or TIMEOUT after `timeoutMs`. */
  wait(id: string, timeoutMs: number): Promise<StoreNotice> {
    this.#listen();
    return new Promise<StoreNotice>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(
          new MembusError('TIMEOUT', `memory ${id} was not queryable within ${timeoutMs} ms`, {
            details: { id },
          }),
        );
      }, timeoutMs);
      this.#waiting.set(id, (notice) => {
        clearTimeout(timer);
        this.#waiting.delete(id);
        resolve(notice);
      });
    });
  }

  /** Stops waiting for these stores (their publish failed). */
  forget(ids: Iterable<string>): void {
    for (const id of ids) this.#waiting.delete(id);
  }

  /** Unsubscribes; every store still waiting gets a retryable UNAVAILABLE failure. */
  close(): void {
    this.#subscription?.unsubscribe();
    for (const [id, resolve] of this.#waiting) {
      resolve({
        v: 1,
        id,
        memoryId: id,
        status: 'failed',
        error: { code: 'UNAVAILABLE', message: 'client closed', retryable: true },
      });
    }
    this.#waiting.clear();
  }

  #listen(): void {
    if (this.#subscription) return;
    this.#subscription = this.#nc.subscribe(
      subjectOf(Operations.notice, this.#tenant, this.token),
      {
        callback: (error, message) => {
          if (error) return;
          const decoded = decode(StoreNoticeSchema, message.data);
          if (decoded.ok) this.#waiting.get(decoded.value.id)?.(decoded.value);
        },
      },
    );
  }
}
