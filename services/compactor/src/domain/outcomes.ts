import {
  type MemoryRecord,
  type OutcomeInput,
  OutcomeLimits,
  OutcomeSchema,
} from '@membus/contracts';
import { v5 as uuidv5 } from 'uuid';

/** UUIDv5 namespace of handed-over outcome ids: outcome id = uuidv5(memory id, this). */
export const HANDED_OVER_OUTCOME_NAMESPACE = 'b8e1f0d2-3c4a-4e6b-9f7d-1a2b3c4d5e6f';

/**
 * The outcome id of an outcome memory: stable (a second compaction hands over the same ids, which
 * the pattern-extractor ignores) but not the memory id itself, because the pattern-extractor
 * stores each outcome as a memory under the outcome id, and the original memory may still exist
 * then: one id for two different memories made that store wait on a memory it could never create.
 */
export function handedOverOutcomeId(memoryId: string): string {
  return uuidv5(memoryId, HANDED_OVER_OUTCOME_NAMESPACE);
}

/** Metadata keys read into an outcome; the rest travels on as the outcome's metadata. */
const OUTCOME_FIELDS = [
  'success',
  'taskType',
  'request',
  'durationMs',
  'cost',
  'steps',
  'config',
  'error',
  'occurredAt',
] as const;
type OutcomeField = (typeof OUTCOME_FIELDS)[number];

/** What to hand the pattern-extractor from a session's memories. */
export interface OutcomeHandover {
  /** One outcome per handed-over memory; `id` is the memory id (a re-publish is a no-op). */
  outcomes: OutcomeInput[];
  /** Outcome memories left out because their metadata has no boolean `success`. */
  skipped: number;
}

/**
 * True for an outcome memory the pattern-extractor stored itself (its metadata carries the
 * `outcomeId` it was made from): it has seen that outcome already.
 */
export function isPatternExtractorOutcome(record: MemoryRecord): boolean {
  return typeof record.metadata.outcomeId === 'string';
}

/**
 * The outcomes in a session's memories that the pattern-extractor has not seen: every
 * memory of kind `outcome` it did not store itself, whose metadata says `success`. The other
 * facts (task type, duration, cost, steps, config, error, request, occurredAt) are taken when
 * present and valid, and dropped one by one when not, so a stray field never loses the
 * outcome; without a task type or request the memory text is the request to infer one from. `sessionId` goes into the outcome's metadata, not its owner fields: the
 * pattern-extractor's own memory of the outcome then stays out of the compacted session.
 */
export function outcomesToHandOver(records: readonly MemoryRecord[]): OutcomeHandover {
  const outcomes: OutcomeInput[] = [];
  let skipped = 0;
  for (const record of records) {
    if (record.kind !== 'outcome' || isPatternExtractorOutcome(record)) continue;
    const outcome = toOutcome(record);
    if (outcome) outcomes.push(outcome);
    else skipped++;
  }
  return { outcomes, skipped };
}

function toOutcome(record: MemoryRecord): OutcomeInput | undefined {
  const { metadata } = record;
  if (typeof metadata.success !== 'boolean') return undefined;
  const shape = OutcomeSchema.shape;
  const facts: Partial<Record<OutcomeField, unknown>> = {};
  for (const field of OUTCOME_FIELDS) {
    const value = metadata[field];
    if (value !== undefined && shape[field].safeParse(value).success) facts[field] = value;
  }
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(metadata))
    if (!(OUTCOME_FIELDS as readonly string[]).includes(key)) rest[key] = value;
  if (record.sessionId !== undefined) rest.sessionId = record.sessionId;
  const candidate = {
    v: 1 as const,
    id: handedOverOutcomeId(record.id),
    ...facts,
    success: metadata.success,
    // Without a task type the pattern-extractor infers one from the request: the memory text.
    ...(facts.taskType === undefined && facts.request === undefined
      ? { request: record.text.slice(0, OutcomeLimits.requestLength) }
      : {}),
    occurredAt: facts.occurredAt ?? record.createdAt,
    ...(record.namespace !== undefined ? { namespace: record.namespace } : {}),
    ...(record.agentId !== undefined ? { agentId: record.agentId } : {}),
    ...(record.userId !== undefined ? { userId: record.userId } : {}),
    metadata: rest,
  };
  const parsed = OutcomeSchema.safeParse(candidate);
  if (parsed.success) return parsed.data;
  // The caller's extra metadata may break the outcome's limits: the facts matter, not it.
  const bare = OutcomeSchema.safeParse({
    ...candidate,
    metadata: record.sessionId !== undefined ? { sessionId: record.sessionId } : {},
  });
  return bare.success ? bare.data : undefined;
}
