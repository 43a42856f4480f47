import {
  createHeaders,
  type ItemResult,
  type JetStreamClient,
  publishOperation,
  type StreamItem,
} from '@membus/bus';
import {
  type EmbedReply,
  type EmbedRequest,
  Headers,
  MembusError,
  Operations,
  type StoreMemory,
} from '@membus/contracts';
import type { OperationServer } from '@membus/service-runtime';
import type { Embedder } from './domain/embedder.ts';

/**
 * `Operations.store` batch -> `Operations.embedded`: embeds the batch, publishes each
 * result durably (de-duplicated by memory id, so a redelivery publishes once), then the
 * consumer acks. The notify header travels on so the vector-store can tell the waiting client.
 */
export function createStoreHandler(js: JetStreamClient, embedder: Embedder) {
  return async (items: StreamItem<StoreMemory>[]): Promise<ItemResult[]> => {
    let outcomes: Awaited<ReturnType<Embedder['embedStores']>>;
    try {
      outcomes = await embedder.embedStores(items.map((item) => item.value));
    } catch (error) {
      const failure = MembusError.from(error);
      // Provider trouble waits in JetStream (nak with backoff), it is not the message's fault.
      const retryable = failure.code === 'INTERNAL' ? false : failure.retryable;
      return items.map(() => ({ ok: false, error: retryable ? failure : asFinal(failure) }));
    }
    return Promise.all(
      items.map(async (item, index): Promise<ItemResult> => {
        const outcome = outcomes[index];
        if (!outcome?.ok)
          return { ok: false, error: outcome?.error ?? new MembusError('INTERNAL', 'no outcome') };
        const headers = createHeaders();
        const notify = item.headers?.get(Headers.notify);
        if (notify) headers.set(Headers.notify, notify);
        try {
          await publishOperation(js, Operations.embedded, item.tenant, outcome.embedded, {
            // Per store message, not per memory: a redelivery publishes once, a client's retry
            // flows through so the vector-store can answer it (it is idempotent by id).
            messageId: `embedded:${item.sequence}`,
            headers,
            trace: item.trace,
          });
          return { ok: true };
        } catch (error) {
          return { ok: false, error: MembusError.from(error) };
        }
      }),
    );
  };
}

function asFinal(error: MembusError): MembusError {
  return new MembusError(error.code, error.message, { retryable: false, cause: error });
}

/** Serves `Operations.embed` (query and document vectors for the services). */
export function serveEmbed(serve: OperationServer, embedder: Embedder): void {
  serve(
    Operations.embed,
    (request: EmbedRequest): Promise<EmbedReply> => embedder.embedRequest(request),
  );
}
