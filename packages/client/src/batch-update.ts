import { call, type TenantOf } from '@membus/bus';
import { type BatchChanges, Limits, type MemoryFilter, Operations } from '@membus/contracts';
import type { MemoryClient } from './client.ts';

// Many memories changed at once (memory.batch.update), by ids or by a filter, page by page.

/** What a batch update did, over every page. */
export interface BatchUpdateResult {
  /** Memories changed (each has an UPDATE entry in its history). */
  updated: number;
  /** Memories that already had the values (nothing written). */
  unchanged: number;
  /** Asked-for ids with no live memory. */
  missing: string[];
}

export interface BatchUpdateOptions {
  /** Why: recorded in each UPDATE history entry. */
  reason?: string;
  /** Called after each page of a filter update. */
  onProgress?: (result: Readonly<BatchUpdateResult>) => void;
  /** Per request (ms); default 60,000. */
  timeoutMs?: number;
}

/**
 * Changes many memories at once: by ids (any number, sent `Limits.ids` a request) or by a
 * non-empty filter (a page a request, following the cursor). Idempotent: memories that already
 * have the values are left alone, so running it again changes nothing.
 */
export async function updateMany(
  client: MemoryClient,
  target: { ids: readonly string[] } | { filter: MemoryFilter },
  changes: BatchChanges,
  options: BatchUpdateOptions = {},
): Promise<BatchUpdateResult> {
  const result: BatchUpdateResult = { updated: 0, unchanged: 0, missing: [] };
  const send = async (body: Record<string, unknown>) => {
    const reply = await call(
      client.connection,
      Operations.batchUpdate,
      client.tenant as TenantOf<typeof Operations.batchUpdate>,
      {
        ...body,
        changes,
        ...(options.reason !== undefined ? { reason: options.reason } : {}),
      } as never,
      { timeoutMs: options.timeoutMs ?? 60_000 },
    );
    result.updated += reply.updated;
    result.unchanged += reply.unchanged;
    result.missing.push(...reply.missing);
    options.onProgress?.({ ...result, missing: [...result.missing] });
    return reply.nextCursor;
  };
  if ('ids' in target) {
    for (let start = 0; start < target.ids.length; start += Limits.ids)
      await send({ ids: target.ids.slice(start, start + Limits.ids) });
    return result;
  }
  let cursor: string | undefined;
  do {
    cursor = await send({ filter: target.filter, ...(cursor !== undefined ? { cursor } : {}) });
  } while (cursor !== undefined);
  return result;
}
