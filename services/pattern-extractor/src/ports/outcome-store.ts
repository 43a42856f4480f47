import type { OutcomeConfig } from '@membus/contracts';

/** One outcome as the pattern-extractor keeps it: the facts plus its derived signatures. */
export interface OutcomeRow {
  /** The outcome id (UUID): unique per tenant. */
  id: string;
  /** Tenant from the subject the outcome arrived on. */
  tenant: string;
  /** Namespace, `''` when the outcome had none. */
  namespace: string;
  /** Given or inferred task type. */
  taskType: string;
  /** Whether `taskType` was inferred. */
  taskTypeInferred: boolean;
  /** Whether the task succeeded. */
  success: boolean;
  /** Wall time (ms), when reported. */
  durationMs?: number;
  /** Cost, when reported. */
  cost?: number;
  /** Steps as reported. */
  steps: string[];
  /** Normalised step sequence (`''` when there were no steps). */
  stepsSignature: string;
  /** Config as reported. */
  config: OutcomeConfig;
  /** Normalised config (`''` when there was no config). */
  configSignature: string;
  /** Error text of a failure. */
  error?: string;
  /** Normalised error signature of a failure. */
  errorSignature?: string;
  /** When the task finished, ISO-8601 and ms since epoch. */
  occurredAt: string;
  occurredAtMs: number;
}

/** Which outcomes to read. */
export interface OutcomeQuery {
  /** Only this namespace (`''` selects outcomes without one); all when absent. */
  namespace?: string;
  /** Only this task type; all when absent. */
  taskType?: string;
}

/** What the extractor last wrote for a pattern memory, to know whether to store or update. */
export interface PatternMemoryState {
  /** The pattern id, which is also the memory id. */
  patternId: string;
  /** Digest of the text and metadata last sent. */
  digest: string;
  /** When it was last sent (ISO-8601). */
  sentAt: string;
}

export interface OutcomeStoreCapabilities {
  /** Adapter name for logs, e.g. `sqlite`, `mongodb`. */
  name: string;
}

/**
 * The pattern-extractor's document store: outcome rows (the source of every statistic, so
 * a replay that inserts nothing changes nothing) and the pattern memories it has written.
 * Adapters: sqlite (embedded), mongodb.
 */
export interface OutcomeStore {
  readonly capabilities: OutcomeStoreCapabilities;
  /**
   * Inserts the rows whose (tenant, id) is new; an existing id keeps its first version.
   * Returns the ids that were inserted.
   */
  insertOutcomes(rows: readonly OutcomeRow[]): Promise<Set<string>>;
  /** A tenant's outcomes matching the query, oldest first. */
  outcomes(tenant: string, query?: OutcomeQuery): Promise<OutcomeRow[]>;
  /** Executions and successes per task type across all tenants (for the metrics gauge). */
  taskTypeTotals(): Promise<{ taskType: string; executions: number; successes: number }[]>;
  /** The pattern memory state, if the pattern was ever written. */
  patternMemory(tenant: string, patternId: string): Promise<PatternMemoryState | undefined>;
  /** Records what was written for a pattern memory (replaces the previous state). */
  savePatternMemory(tenant: string, state: PatternMemoryState): Promise<void>;
  close(): Promise<void>;
}
