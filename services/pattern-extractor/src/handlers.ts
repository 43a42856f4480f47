import {
  type ItemResult,
  type JetStreamClient,
  type NatsConnection,
  privateMessageId,
  publishDurable,
  type RequestContext,
  request,
  type Service,
  type StreamItem,
  serve,
  validate,
} from '@membus/bus';
import {
  EmbedReplySchema,
  Limits,
  MembusError,
  MetricsRequestSchema,
  type Outcome,
  PatternsRequestSchema,
  QueueGroups,
  StoreMemorySchema,
  Subjects,
  UpdateReplySchema,
  unpackVector,
} from '@membus/contracts';
import type { z } from 'zod';
import type { PatternService } from './domain/pattern-service.ts';
import type { EmbedTexts } from './domain/task-types.ts';
import type { PatternExtractorMetrics } from './metrics.ts';
import type { MemoryPort } from './ports/memory-port.ts';

/** Query vectors from the embedder over `memory.embed` (for task-type centroids). */
export function natsEmbedTexts(nc: NatsConnection, timeoutMs: number): EmbedTexts {
  return async (texts) => {
    const vectors: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += Limits.embedBatch) {
      const reply = await request(
        nc,
        Subjects.embed,
        { v: 1, texts: texts.slice(start, start + Limits.embedBatch), purpose: 'query' },
        EmbedReplySchema,
        { timeoutMs },
      );
      for (const packed of reply.vectors) {
        const vector = unpackVector(packed);
        if (!vector) {
          throw new MembusError('EMBEDDING_FAILED', 'embedder returned an undecodable vector');
        }
        vectors.push(vector);
      }
    }
    return vectors;
  };
}

/** Memories written through the pipeline: `memory.store` on JetStream, `memory.update` requests. */
export function natsMemoryPort(
  nc: NatsConnection,
  js: JetStreamClient,
  timeoutMs: number,
): MemoryPort {
  return {
    async store(tenant, memory) {
      const message = { ...memory, v: 1 };
      const checked = validate(StoreMemorySchema, message);
      if (!checked.ok) throw checked.error;
      await publishDurable(js, `${Subjects.store}.${tenant}`, message, {
        // A republished store (replay, retry) is dropped by JetStream within its window and
        // recognised by id in the vector-store after it. Private: agents publish into the
        // same stream.
        messageId: privateMessageId('pattern-extractor', tenant, memory.id),
        timeoutMs,
      });
    },
    async update(tenant, id, changes) {
      await request(
        nc,
        `${Subjects.update}.${tenant}`,
        { v: 1, id, ...changes },
        UpdateReplySchema,
        { timeoutMs },
      );
    },
  };
}

/** `memory.outcome.<tenant>` batches -> the pattern service. */
export function createOutcomeHandler(service: PatternService) {
  return async (items: StreamItem<Outcome>[]): Promise<ItemResult[]> => {
    const results = await service.ingest(
      items.map((item) => ({ tenant: item.tenant, outcome: item.value })),
    );
    return results.map((result): ItemResult => (result.ok ? { ok: true } : result));
  };
}

/** `memory.patterns.<tenant>` and `memory.metrics.<tenant>`, in the extractor's queue group. */
export function serveRequests(
  nc: NatsConnection,
  service: PatternService,
  options: {
    maxConcurrent: number;
    metrics: PatternExtractorMetrics;
    onError: (error: MembusError) => void;
  },
): Service[] {
  const common = {
    queue: QueueGroups.patternExtractor,
    tenantScoped: true,
    maxConcurrent: options.maxConcurrent,
    observer: options.metrics.observer,
    onError: options.onError,
  } as const;
  const route = <S extends z.ZodType, R>(
    base: string,
    schema: S,
    handler: (value: z.output<S>, context: RequestContext) => Promise<R>,
  ) => serve(nc, { ...common, subject: `${base}.*`, schema, handler });
  return [
    route(Subjects.patterns, PatternsRequestSchema, (patterns, { tenant }) =>
      service.patterns(tenant, patterns),
    ),
    route(Subjects.metrics, MetricsRequestSchema, (metrics, { tenant }) =>
      service.metrics(tenant, metrics),
    ),
  ];
}
