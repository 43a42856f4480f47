import {
  createHeaders,
  type JetStreamClient,
  type NatsConnection,
  publishOperation,
  validate,
} from '@membus/bus';
import {
  type ExtractionNotice,
  ExtractionNoticeSchema,
  Headers,
  type IngestMessageInput,
  IngestMessageSchema,
  MembusError,
  Operations,
} from '@membus/contracts';
import { v7 as uuidv7 } from 'uuid';
import { Notices } from './store-notices.ts';

/** A conversation turn as the caller gives it. */
export type TurnInput = NonNullable<IngestMessageInput['turns']>[number];

/** What an ingest holds besides its content (scope ids, namespace, …) and how to wait. */
export type IngestOptions = Omit<IngestMessageInput, 'v' | 'id' | 'turns' | 'text'> & {
  /** The ingest's id (UUIDv7 generated when absent): a retry with it extracts once. */
  id?: string;
  /**
   * `durable` (default): resolve once JetStream holds the ingest — the model is never waited
   * for. `extracted`: resolve once the extractor has decided, with its decisions.
   */
  wait?: 'durable' | 'extracted';
  /** How long to wait for `extracted` (ms); default 120,000. */
  timeoutMs?: number;
};

export interface IngestResult {
  /** The ingest's id. */
  id: string;
  /** With `wait: 'extracted'`: `extracted`, `raw` (stored as it is, `reason` says why) or `failed`. */
  status?: ExtractionNotice['status'];
  reason?: string;
  /** With `wait: 'extracted'`: ADD / UPDATE / DELETE / NONE, each with its memory. */
  decisions?: ExtractionNotice['decisions'];
  /** With `raw`: the memories that hold the text. */
  rawMemoryIds?: string[];
  /** The chat model that decided. */
  model?: string;
}

/**
 * A client's ingests (decision 010): published to `memory.ingest.<tenant>` (acked once durable),
 * and the extraction notices of those that wait, on `memory.extracted.<tenant>.<token>` with a
 * token of this client's, subscribed on the first wait.
 */
export class Ingests {
  readonly #js: JetStreamClient;
  readonly #tenant: string;
  readonly #timeoutMs: number;
  readonly #notices: Notices<ExtractionNotice>;

  constructor(nc: NatsConnection, js: JetStreamClient, tenant: string, timeoutMs: number) {
    this.#js = js;
    this.#tenant = tenant;
    this.#timeoutMs = timeoutMs;
    this.#notices = new Notices(nc, tenant, {
      operation: Operations.extracted,
      schema: ExtractionNoticeSchema,
      late: (id, timeoutMs) => `ingest ${id} was not extracted within ${timeoutMs} ms`,
      closed: (id, error) => ({ v: 1, id, status: 'failed', decisions: [], error }),
    });
  }

  async ingest(
    content: string | readonly TurnInput[],
    options: IngestOptions = {},
  ): Promise<IngestResult> {
    const { wait = 'durable', timeoutMs, id, ...fields } = options;
    const message = {
      ...fields,
      ...(typeof content === 'string' ? { text: content } : { turns: [...content] }),
      v: 1 as const,
      id: id ?? uuidv7(),
    };
    const checked = validate(IngestMessageSchema, message);
    if (!checked.ok) throw checked.error;
    const headers = createHeaders();
    const notice =
      wait === 'extracted' ? this.#notices.wait(message.id, timeoutMs ?? 120_000) : undefined;
    if (notice) headers.set(Headers.notify, this.#notices.token);
    try {
      // No JetStream de-duplication id: the extractor derives its memories' ids from the
      // ingest's, so a retried ingest writes the same memories (decision 006 on guessable ids).
      await publishOperation(this.#js, Operations.ingest, this.#tenant, message, {
        headers,
        timeoutMs: this.#timeoutMs,
      });
    } catch (error) {
      this.#notices.forget([message.id]);
      throw error;
    }
    if (!notice) return { id: message.id };
    const { v: _v, ...result } = await notice;
    if (result.status === 'failed' && result.error)
      throw new MembusError(result.error.code, result.error.message, {
        retryable: result.error.retryable ?? false,
        details: { ...(result.error.details ?? {}), id: message.id },
      });
    const { error: _error, ...rest } = result;
    return rest;
  }

  /** Unsubscribes; every ingest still waiting gets a retryable UNAVAILABLE failure. */
  close(): void {
    this.#notices.close();
  }
}
