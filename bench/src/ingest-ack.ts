/**
 * The ingest-ack stage (`pnpm bench --ingest-ack`): an ingest through the extraction stage
 * (decision 010) must be acked as fast as a plain store, because both are one JetStream publish
 * and its ack; the model runs later. Stores and ingests alternate, one at a time, so both see
 * the same load; only the ack is timed (no extractor needs to run).
 */
import type { MemoryClient } from '@membus/client';
import { summarize } from './stats.ts';

export interface IngestAckResult {
  count: number;
  /** Ack of `store()` (accepted): p50 / p95 / p99 ms. */
  store: ReturnType<typeof summarize>;
  /** Ack of `ingest()` (durable): p50 / p95 / p99 ms. */
  ingest: ReturnType<typeof summarize>;
}

export async function benchIngestAck(
  client: MemoryClient,
  count: number,
): Promise<IngestAckResult> {
  const store: number[] = [];
  const ingest: number[] = [];
  for (let index = 0; index < count; index++) {
    let started = performance.now();
    await client.store({ text: `ingest-ack store ${index}`, userId: 'ingest-ack' });
    store.push(performance.now() - started);
    started = performance.now();
    await client.ingest(
      [{ id: `turn-${index}`, role: 'user', content: `ingest-ack turn ${index}` }],
      { userId: 'ingest-ack', sessionId: 'ingest-ack', extract: false },
    );
    ingest.push(performance.now() - started);
  }
  return { count, store: summarize(store), ingest: summarize(ingest) };
}
