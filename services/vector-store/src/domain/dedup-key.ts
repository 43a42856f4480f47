import { hash } from 'node:crypto';
import type { MemoryRecord } from '@membus/contracts';

/**
 * Exact duplicates: same scope, owner ids, namespace and content hash. One-shot `hash` (see the
 * embedder's contentHash: a `createHash` object per call burdens every scavenge).
 */
export function dedupKey(
  memory: Pick<
    MemoryRecord,
    'scope' | 'userId' | 'agentId' | 'sessionId' | 'namespace' | 'contentHash'
  >,
): string {
  return hash(
    'sha256',
    JSON.stringify([
      memory.scope,
      memory.userId ?? null,
      memory.agentId ?? null,
      memory.sessionId ?? null,
      memory.namespace ?? null,
      memory.contentHash,
    ]),
    'hex',
  );
}
