import { randomUUID } from 'node:crypto';
import type { KV } from '@membus/bus';
import { z } from 'zod';

/** The key of the live replicas in the re-embedding bucket (one key: listing keys needs a consumer). */
const REPLICAS_KEY = 'replicas';
const ReplicasSchema = z.record(z.string(), z.number());

export interface ReplicaPresence {
  /** How many other vector-store replicas have said they are alive within the last three beats. */
  others(): Promise<number>;
  /** Stops beating and takes this replica off the list. */
  close(): Promise<void>;
}

/**
 * Each vector-store replica writes its id and the time into one key of the re-embedding bucket
 * every `intervalMs` (compare-and-set on the key's revision, so concurrent beats never lose one
 * another's entries) and prunes entries older than three beats. A re-embedding run is refused
 * while another replica is alive (decision 011): the tenant's routing and its lock live in the
 * process that runs it.
 */
export async function kvReplicaPresence(
  kv: KV,
  options: { intervalMs: number; clock?: () => number; onError?: (error: unknown) => void },
): Promise<ReplicaPresence> {
  const id = randomUUID();
  const clock = options.clock ?? Date.now;
  const staleAfter = 3 * options.intervalMs;

  const change = async (edit: (replicas: Record<string, number>) => void): Promise<void> => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const entry = await kv.get(REPLICAS_KEY);
      const present = entry?.operation === 'PUT' && entry.length > 0;
      const parsed = present ? ReplicasSchema.safeParse(entry.json()) : undefined;
      const replicas: Record<string, number> = parsed?.success ? parsed.data : {};
      const now = clock();
      for (const [other, seen] of Object.entries(replicas))
        if (now - seen > staleAfter) delete replicas[other];
      edit(replicas);
      const bytes = JSON.stringify(replicas);
      try {
        if (entry) await kv.update(REPLICAS_KEY, bytes, entry.revision);
        else await kv.create(REPLICAS_KEY, bytes);
        return;
      } catch {
        // Another replica beat in between: read again.
      }
    }
    throw new Error('replica presence: the key kept changing under five attempts');
  };
  const beat = () =>
    change((replicas) => {
      replicas[id] = clock();
    });

  await beat();
  const timer = setInterval(() => {
    beat().catch((error: unknown) => options.onError?.(error));
  }, options.intervalMs);
  timer.unref();

  return {
    async others() {
      const entry = await kv.get(REPLICAS_KEY);
      if (entry?.operation !== 'PUT' || entry.length === 0) return 0;
      const parsed = ReplicasSchema.safeParse(entry.json());
      if (!parsed.success) return 0;
      const now = clock();
      return Object.entries(parsed.data).filter(
        ([other, seen]) => other !== id && now - seen <= staleAfter,
      ).length;
    },
    async close() {
      clearInterval(timer);
      await change((replicas) => {
        delete replicas[id];
      }).catch((error: unknown) => options.onError?.(error));
    },
  };
}
