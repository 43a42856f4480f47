import { MembusError, type MemoryRecord } from '@membus/contracts';
import type { VectorIndex } from '@membus/vector-index';
import type { DocumentStore } from '../../ports/document-store.ts';
import type { EmbeddedDocument, EmbedPort, EventPort } from '../../ports/memory-ports.ts';
import type { AccessTracker } from '../access-tracker.ts';
import { dedupKey } from '../dedup-key.ts';

/** What every memory operation works with: the ports, the clock and the access tracker. */
export interface MemoryContext {
  index: VectorIndex;
  documents: DocumentStore;
  embed: EmbedPort;
  events: EventPort;
  clock: () => number;
  access: AccessTracker;
  /** Near-duplicate merge thresholds (see MemoryServiceOptions.nearDuplicates). */
  nearDuplicates: { default: number; byNamespace?: Readonly<Record<string, number>> };
}

export const iso = (ms: number) => new Date(ms).toISOString();
export const ms = (timestamp: string) => Date.parse(timestamp);

export function isLive(record: MemoryRecord, now: number): boolean {
  return record.expiresAt === undefined || ms(record.expiresAt) > now;
}

export function checkDimension(context: MemoryContext, length: number): void {
  if (length !== context.index.dimension) {
    throw new MembusError(
      'DIMENSION_MISMATCH',
      `vector has ${length} dimensions; this index holds ${context.index.dimension}`,
      {
        details: { expected: context.index.dimension, actual: length },
      },
    );
  }
}

export function checkedVector(context: MemoryContext, vector: Float32Array): Float32Array {
  checkDimension(context, vector.length);
  return vector;
}

/**
 * Writes `record` to the index and returns what was written. With `document` (its text embedded
 * anew) the record takes the document's text, content hash and model, and the index its vector.
 */
export async function writeRecord(
  context: MemoryContext,
  record: MemoryRecord,
  document?: EmbeddedDocument,
): Promise<MemoryRecord> {
  if (!document) {
    await context.index.upsert([{ record, dedupKey: dedupKey(record) }]);
    return record;
  }
  const vector = checkedVector(context, document.vector);
  const next: MemoryRecord = {
    ...record,
    text: document.text,
    contentHash: document.contentHash,
    embeddingModel: document.model,
  };
  await context.index.upsert([{ record: next, dedupKey: dedupKey(next), vector }]);
  return next;
}

/** The owner ids and namespace that are set, in a record's order (the absent ones left out). */
export function ownerIdsOf(owner: {
  userId?: string | undefined;
  agentId?: string | undefined;
  sessionId?: string | undefined;
  namespace?: string | undefined;
}) {
  return {
    ...(owner.userId !== undefined ? { userId: owner.userId } : {}),
    ...(owner.agentId !== undefined ? { agentId: owner.agentId } : {}),
    ...(owner.sessionId !== undefined ? { sessionId: owner.sessionId } : {}),
    ...(owner.namespace !== undefined ? { namespace: owner.namespace } : {}),
  };
}
