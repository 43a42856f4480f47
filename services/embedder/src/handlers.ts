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
import type { PolicyDecision } from '@membus/ingest-policy';
import type { OperationServer } from '@membus/service-runtime';
import type { Embedder } from './domain/embedder.ts';
import { ServedModels } from './domain/served-models.ts';
import type { PolicyGate } from './policy.ts';

/**
 * `Operations.store` batch -> `Operations.embedded`: embeds the batch, publishes each
 * result durably (de-duplicated by memory id, so a redelivery publishes once), then the
 * consumer acks. The notify header travels on so the vector-store can tell the waiting client.
 */
export function createStoreHandler(js: JetStreamClient, embedder: Embedder, policy?: PolicyGate) {
  const embedStores = createEmbedHandler(js, embedder);
  if (!policy) return embedStores;
  // The tenant's ingest policy first (decision 009): a dropped store is told `dropped` and
  // acked, never embedded; the rest go on with the policy's labels and expiry.
  return async (items: StreamItem<StoreMemory>[]): Promise<ItemResult[]> => {
    let decisions: PolicyDecision<StoreMemory>[];
    try {
      decisions = await Promise.all(items.map((item) => policy.decide(item.tenant, item.value)));
    } catch (error) {
      const failure = MembusError.from(error);
      return items.map(() => ({ ok: false, error: failure }));
    }
    const kept: StreamItem<StoreMemory>[] = [];
    decisions.forEach((decision, index) => {
      const item = items[index] as StreamItem<StoreMemory>;
      if (decision.action === 'drop') policy.dropped(item, decision);
      else kept.push(decision.item === item.value ? item : { ...item, value: decision.item });
    });
    const keptResults = kept.length > 0 ? await embedStores(kept) : [];
    let next = 0;
    return decisions.map((decision) =>
      decision.action === 'drop' ? { ok: true } : (keptResults[next++] as ItemResult),
    );
  };
}

function createEmbedHandler(js: JetStreamClient, embedder: Embedder) {
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

/**
 * Serves `Operations.embed` (query and document vectors for the services), with the model the
 * request names when the embedder serves it (re-embedding, decision 011).
 */
export function serveEmbed(serve: OperationServer, embedder: Embedder | ServedModels): void {
  const models = embedder instanceof ServedModels ? embedder : new ServedModels(embedder);
  serve(
    Operations.embed,
    async (request: EmbedRequest): Promise<EmbedReply> =>
      models.embedder(request.model).embedRequest(request),
  );
}
