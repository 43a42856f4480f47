import { type ItemResult, type NatsConnection, publishCore, type StreamItem } from '@membus/bus';
import {
  Headers,
  type IngestMessage,
  MembusError,
  NOTICE_TOKEN_PATTERN,
  Operations,
  subjectOf,
} from '@membus/contracts';
import type { Extractor, IngestOutcome } from './domain/extraction.ts';
import { groupKey } from './domain/ingest-memories.ts';

/**
 * The ingest consumer's handler: a batch (the window's ingests) split into groups of one
 * tenant, owner, namespace and session, each extracted together; the caller's notice sent to
 * its `membus-notify` token; an ingest whose model failed is dead-lettered with the reason
 * (after its raw fallback is stored).
 */
export function createIngestHandler(
  nc: NatsConnection,
  extractor: Extractor,
  options: { maxDeliver: number },
): (items: StreamItem<IngestMessage>[]) => Promise<ItemResult[]> {
  return async (items) => {
    const groups = new Map<string, number[]>();
    items.forEach((item, index) => {
      const key = `${item.tenant}\u0000${groupKey(item.value)}`;
      groups.set(key, [...(groups.get(key) ?? []), index]);
    });
    const results: ItemResult[] = items.map(() => ({ ok: true }));
    await Promise.all(
      [...groups.values()].map(async (indexes) => {
        const group = indexes.map((index) => items[index] as StreamItem<IngestMessage>);
        const tenant = (group[0] as StreamItem<IngestMessage>).tenant;
        let outcomes: IngestOutcome[];
        try {
          outcomes = await extractor.process(
            tenant,
            group.map((item) => item.value),
          );
        } catch (thrown) {
          // The vector-store or JetStream failed under a decision: retried from JetStream.
          const error = MembusError.from(thrown);
          for (const index of indexes) results[index] = { ok: false, error };
          const last = group.filter(
            (item) => !error.retryable || item.deliveries >= options.maxDeliver,
          );
          for (const item of last)
            notify(nc, item, {
              notice: {
                id: item.value.id,
                status: 'failed',
                decisions: [],
                error: error.toJSON(),
              },
            });
          return;
        }
        outcomes.forEach((outcome, position) => {
          const item = group[position] as StreamItem<IngestMessage>;
          notify(nc, item, outcome);
          if (outcome.deadLetter)
            results[indexes[position] as number] = { ok: false, error: outcome.deadLetter };
        });
      }),
    );
    return results;
  };
}

/** The caller's notice, when it asked for one (a valid `membus-notify` token). */
function notify(nc: NatsConnection, item: StreamItem<IngestMessage>, outcome: IngestOutcome): void {
  const token = item.headers?.get(Headers.notify);
  if (!token || !NOTICE_TOKEN_PATTERN.test(token)) return;
  publishCore(nc, subjectOf(Operations.extracted, item.tenant, token), {
    ...outcome.notice,
    v: 1,
  });
}
