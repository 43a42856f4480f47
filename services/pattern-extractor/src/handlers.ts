import {
  call,
  embedTexts,
  type ItemResult,
  type JetStreamClient,
  type NatsConnection,
  type StreamItem,
  storeMemory,
} from '@membus/bus';
import { Operations, type Outcome } from '@membus/contracts';
import type { OperationServer } from '@membus/service-runtime';
import type { PatternService } from './domain/pattern-service.ts';
import type { EmbedTexts } from './domain/task-types.ts';
import type { MemoryPort } from './ports/memory-port.ts';

/** Query vectors from the embedder (`Operations.embed`), for task-type centroids. */
export function natsEmbedTexts(nc: NatsConnection, timeoutMs: number): EmbedTexts {
  return async (texts) => (await embedTexts(nc, texts, 'query', { timeoutMs })).vectors;
}

/** Memories written through the pipeline: `Operations.store` on JetStream, `Operations.update`. */
export function natsMemoryPort(
  nc: NatsConnection,
  js: JetStreamClient,
  timeoutMs: number,
): MemoryPort {
  return {
    async store(tenant, memory) {
      // A republished store (replay, retry) is dropped by JetStream within its window (a
      // private de-duplication id: see storeMemory) and recognised by id in the vector-store.
      await storeMemory(js, tenant, memory, { service: 'pattern-extractor', timeoutMs });
    },
    async update(tenant, id, changes) {
      await call(nc, Operations.update, tenant, { id, ...changes }, { timeoutMs });
    },
  };
}

/** `Operations.outcome` batches -> the pattern service. */
export function createOutcomeHandler(service: PatternService) {
  return async (items: StreamItem<Outcome>[]): Promise<ItemResult[]> => {
    const results = await service.ingest(
      items.map((item) => ({ tenant: item.tenant, outcome: item.value })),
    );
    return results.map((result): ItemResult => (result.ok ? { ok: true } : result));
  };
}

/** `Operations.patterns` and `Operations.metrics`, in the extractor's queue group. */
export function serveRequests(serve: OperationServer, service: PatternService): void {
  serve(Operations.patterns, (patterns, { tenant }) => service.patterns(tenant, patterns));
  serve(Operations.metrics, (metrics, { tenant }) => service.metrics(tenant, metrics));
}
