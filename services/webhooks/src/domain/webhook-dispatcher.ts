import { randomUUID } from 'node:crypto';
import {
  type DeadLetter,
  Limits,
  MembusError,
  type MemoryEvent,
  type WebhookEndpoint,
  type WebhookPayload,
  type WebhooksReply,
  type WebhooksRequest,
} from '@membus/contracts';
import type { ResolveTarget } from './address-guard.ts';
import type { HttpPost } from './http-post.ts';
import { newWebhookSecret, signWebhook } from './signature.ts';

/** An endpoint as kept: what is listed, plus its tenant and secret. */
export interface EndpointRecord extends WebhookEndpoint {
  tenant: string;
  secret: string;
  /** The event stream's last sequence when it was added: it receives only later events. */
  afterSeq: number;
}

/** Where endpoints are kept (the service's SQLite file). */
export interface EndpointStore {
  add(record: EndpointRecord): void;
  list(tenant: string): EndpointRecord[];
  /** True when it existed. */
  remove(tenant: string, id: string): boolean;
}

/** What the dispatcher reports (the metrics). */
export interface DeliveryHooks {
  delivered(seconds: number): void;
  failed(reason: 'status' | 'network' | 'refused'): void;
  retried(): void;
  deadLettered(): void;
}

export interface DispatcherOptions {
  store: EndpointStore;
  resolveTarget: ResolveTarget;
  post: HttpPost;
  /** The event stream's last sequence now (a new endpoint receives what comes after it). */
  eventsLastSequence: () => Promise<number>;
  /** Publishes a dead letter to `memory.dlq.<tenant>` with the reason. */
  deadLetter: (tenant: string, letter: DeadLetter) => Promise<void>;
  /** Attempts per delivery, the first included. */
  attempts: number;
  /** First retry delay (ms), doubled per attempt, full jitter; and the longest. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Timeout of one POST (ms). */
  timeoutMs: number;
  /** Endpoints per tenant. */
  maxEndpoints: number;
  hooks?: DeliveryHooks;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** One event, as read from `MEMORY_EVENTS`. */
export interface EventDelivery {
  tenant: string;
  /** Its stream sequence: with the endpoint, the delivery's `webhook-id`. */
  seq: number;
  /** Its subject (`memory.stored.<tenant>` / `memory.changed.<tenant>`), for dead letters. */
  subject: string;
  event: MemoryEvent;
}

/**
 * Webhooks (decision 008): a tenant's endpoints, and each event POSTed to those that want it,
 * signed, retried with exponential backoff and full jitter, dead-lettered to
 * `memory.dlq.<tenant>` with the reason after the last attempt.
 */
export class WebhookDispatcher {
  readonly #options: DispatcherOptions;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;

  constructor(options: DispatcherOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#random = options.random ?? Math.random;
  }

  /** One `memory.webhooks` request of `tenant` (operators). */
  async handle(tenant: string, request: WebhooksRequest): Promise<Omit<WebhooksReply, 'v'>> {
    const { store } = this.#options;
    const listed = () =>
      store.list(tenant).map(({ id, url, events, createdAt }) => ({ id, url, events, createdAt }));
    if (request.action === 'list') return { endpoints: listed() };
    if (request.action === 'remove') {
      const removed = store.remove(tenant, request.id);
      return { endpoints: listed(), removed };
    }
    if (store.list(tenant).length >= this.#options.maxEndpoints)
      throw new MembusError(
        'LIMIT_EXCEEDED',
        `at most ${this.#options.maxEndpoints} webhook endpoints per tenant`,
        { details: { limit: this.#options.maxEndpoints } },
      );
    // A private address is refused now, not at the first delivery.
    await this.#options.resolveTarget(new URL(request.url));
    const record: EndpointRecord = {
      id: randomUUID(),
      tenant,
      url: request.url,
      events: request.events ?? ['created', 'duplicate', 'updated', 'deleted', 'expired', 'merged'],
      createdAt: new Date(this.#now()).toISOString(),
      secret: newWebhookSecret(),
      afterSeq: await this.#options.eventsLastSequence(),
    };
    store.add(record);
    return { endpoints: listed(), id: record.id, secret: record.secret };
  }

  /** Delivers one event to every endpoint of its tenant that wants it; never throws for one. */
  async dispatch(delivery: EventDelivery): Promise<void> {
    const endpoints = this.#options.store.list(delivery.tenant).filter(
      (endpoint) =>
        endpoint.events.includes(delivery.event.change) &&
        // Events from before the endpoint existed are not its (by stream position: an
        // event's `at` can be a backdated memory's time).
        delivery.seq > endpoint.afterSeq,
    );
    await Promise.all(endpoints.map((endpoint) => this.#deliver(endpoint, delivery)));
  }

  async #deliver(endpoint: EndpointRecord, delivery: EventDelivery): Promise<void> {
    const { event } = delivery;
    const payload: WebhookPayload = {
      type: `memory.${event.change}`,
      timestamp: event.at,
      data: {
        tenant: delivery.tenant,
        seq: delivery.seq,
        change: event.change,
        id: event.id,
        ...(event.memory ? { memory: event.memory } : {}),
      },
    };
    const body = JSON.stringify(payload);
    // The same for every attempt (and a redelivery of the event): receivers de-duplicate on it.
    const webhookId = `msg_${delivery.seq}_${endpoint.id}`;
    const { attempts, hooks } = this.#options;
    let lastError: MembusError | undefined;
    let tried = 0;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      tried = attempt;
      const started = this.#now();
      let retryAfterMs: number | undefined;
      try {
        const url = new URL(endpoint.url);
        const target = await this.#options.resolveTarget(url);
        const headers = signWebhook(
          endpoint.secret,
          webhookId,
          Math.floor(this.#now() / 1000),
          body,
        );
        const result = await this.#options.post(
          url,
          target,
          { ...headers },
          body,
          this.#options.timeoutMs,
        );
        if (result.status >= 200 && result.status < 300) {
          hooks?.delivered((this.#now() - started) / 1000);
          return;
        }
        retryAfterMs = result.retryAfterMs;
        lastError = new MembusError('BACKEND_FAILED', `${endpoint.url} answered ${result.status}`, {
          retryable: true,
          details: { endpoint: endpoint.id, status: result.status },
        });
        hooks?.failed('status');
      } catch (error) {
        lastError = MembusError.is(error)
          ? error
          : new MembusError('BACKEND_FAILED', `${endpoint.url}: ${(error as Error).message}`, {
              retryable: true,
              cause: error,
              details: { endpoint: endpoint.id },
            });
        hooks?.failed(lastError.retryable ? 'network' : 'refused');
        if (!lastError.retryable) break;
      }
      if (attempt < attempts) {
        hooks?.retried();
        const cap = Math.min(
          this.#options.backoffMaxMs,
          this.#options.backoffBaseMs * 2 ** (attempt - 1),
        );
        await this.#sleep(
          Math.min(this.#options.backoffMaxMs, retryAfterMs ?? this.#random() * cap),
        );
      } else {
        lastError = new MembusError(
          lastError?.code ?? 'BACKEND_FAILED',
          `webhook ${endpoint.id} (${endpoint.url}) failed ${attempts} times; last: ${lastError?.message}`,
          { retryable: false, details: { endpoint: endpoint.id, url: endpoint.url, attempts } },
        );
      }
    }
    hooks?.deadLettered();
    const error = lastError ?? new MembusError('INTERNAL', 'webhook failed');
    await this.#options.deadLetter(delivery.tenant, {
      v: 1,
      subject: delivery.subject,
      stream: 'webhooks',
      deliveries: tried,
      error: error.toJSON(),
      payload: body.slice(0, Limits.deadLetterPayloadBytes),
      payloadBytes: Buffer.byteLength(body),
      truncated: Buffer.byteLength(body) > Limits.deadLetterPayloadBytes,
      at: new Date(this.#now()).toISOString(),
    });
  }
}
