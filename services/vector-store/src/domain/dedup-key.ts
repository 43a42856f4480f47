import { createHash } from 'node:crypto';
import type { MemoryRecord } from '@membus/contracts';

/** Exact duplicates: same scope, owner ids, namespace and content hash. */
export function dedupKey(
  memory: Pick<
    MemoryRecord,
    'scope' | 'userId' | 'agentId' | 'sessionId' | 'namespace' | 'contentHash'
  >,
): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        memory.scope,
        memory.userId ?? null,
        memory.agentId ?? null,
        memory.sessionId ?? null,
        memory.namespace ?? null,
        memory.contentHash,
      ]),
    )
    .digest('hex');
}
