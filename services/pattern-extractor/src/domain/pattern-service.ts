import {
  MembusError,
  type MetricsReply,
  type MetricsRequest,
  type Outcome,
  type PatternsReply,
  type PatternsRequest,
} from '@membus/contracts';
import type { MemoryPort } from '../ports/memory-port.ts';
import type { OutcomeRow, OutcomeStore } from '../ports/outcome-store.ts';
import { outcomeFacts, outcomeMemory } from './memory-text.ts';
import { configSignature, errorSignature, stepsSignature } from './normalise.ts';
import { type PatternKey, PatternMemories, type PatternThresholds } from './pattern-memories.ts';
import { metricsReply, patternsReply } from './pattern-reports.ts';
import type { Classification, TaskTypeClassifier } from './task-types.ts';

const DAY_MS = 86_400_000;

/** What the service reports as it works (metrics). */
export interface PatternServiceHooks {
  /** An outcome was processed: `inserted` false for a replay. */
  onOutcome?(taskType: string, success: boolean, inserted: boolean): void;
  /** How a missing task type was inferred. */
  onInference?(method: Classification['method']): void;
  /** A pattern memory was stored or updated. */
  onPatternMemory?(patternType: string, action: 'stored' | 'updated'): void;
}

export interface PatternServiceOptions {
  store: OutcomeStore;
  memories: MemoryPort;
  classifier: TaskTypeClassifier;
  thresholds: PatternThresholds;
  /** Length of the "recent" statistics window. */
  recentWindowDays: number;
  /** ms since epoch. */
  clock?: () => number;
  hooks?: PatternServiceHooks;
  /** Pattern-memory work that failed in the background (it is retried). */
  onBackgroundError?: (error: unknown) => void;
}

/** One outcome to ingest, with the tenant from its subject. */
export interface OutcomeItem {
  tenant: string;
  outcome: Outcome;
}

export type IngestResult =
  | { ok: true; inserted: boolean; taskType: string }
  | { ok: false; error: MembusError };

/**
 * Learns from outcomes: keeps them (idempotent by id), stores each as a memory, derives
 * workflow/config variants and failure signatures, writes pattern memories, and answers
 * patterns and metrics requests. Every number is derived from the stored outcome rows, so a
 * replay, which inserts nothing, changes nothing.
 */
export class PatternService {
  readonly #store: OutcomeStore;
  readonly #memories: MemoryPort;
  readonly #classifier: TaskTypeClassifier;
  readonly #recentWindowDays: number;
  readonly #clock: () => number;
  readonly #hooks: PatternServiceHooks;
  readonly #patternMemories: PatternMemories;

  constructor(options: PatternServiceOptions) {
    this.#store = options.store;
    this.#memories = options.memories;
    this.#classifier = options.classifier;
    this.#recentWindowDays = options.recentWindowDays;
    this.#clock = options.clock ?? Date.now;
    const hooks = options.hooks ?? {};
    this.#hooks = hooks;
    this.#patternMemories = new PatternMemories({
      store: options.store,
      memories: options.memories,
      thresholds: options.thresholds,
      clock: this.#clock,
      onPatternMemory: (patternType, action) => hooks.onPatternMemory?.(patternType, action),
      onBackgroundError: options.onBackgroundError ?? (() => {}),
    });
  }

  /** Task types the classifier chooses from (the metrics label set). */
  get taskTypes(): readonly string[] {
    return this.#classifier.taskTypes;
  }

  /**
   * Ingests outcomes: stores each as a memory (every delivery: the vector-store is idempotent
   * by id, so a crash between the two writes loses nothing), inserts the new rows, then
   * refreshes the pattern memories of the keys that changed.
   */
  async ingest(items: readonly OutcomeItem[]): Promise<IngestResult[]> {
    const prepared = await Promise.all(
      items.map(async (item) => {
        try {
          const resolved = await this.#resolveTaskType(item.outcome);
          const row = toRow(item.tenant, item.outcome, resolved);
          await this.#memories.store(item.tenant, outcomeMemory(item.outcome, resolved));
          return { ok: true as const, row };
        } catch (error) {
          return { ok: false as const, error: MembusError.from(error) };
        }
      }),
    );
    const rows = prepared.flatMap((entry) => (entry.ok ? [entry.row] : []));
    let inserted: Set<string>;
    try {
      inserted = await this.#store.insertOutcomes(rows);
    } catch (error) {
      const failure = storageError(error);
      return items.map(() => ({ ok: false, error: failure }));
    }
    const changed: PatternKey[] = [];
    const results = prepared.map((entry): IngestResult => {
      if (!entry.ok) return entry;
      const isNew = inserted.has(entry.row.id);
      this.#hooks.onOutcome?.(entry.row.taskType, entry.row.success, isNew);
      if (isNew) {
        const { tenant, namespace, taskType } = entry.row;
        changed.push({ tenant, namespace, taskType });
      }
      return { ok: true, inserted: isNew, taskType: entry.row.taskType };
    });
    // The outcomes are durable now; pattern memories follow (and are retried on failure).
    this.#patternMemories.changed(changed);
    await this.syncPatternMemories();
    return results;
  }

  /** Brings the pattern memories of every pending key up to date; failures stay pending. */
  syncPatternMemories(): Promise<void> {
    return this.#patternMemories.sync();
  }

  /** Retries pending pattern memories every `intervalMs` until {@link close}. */
  startBackgroundSync(intervalMs: number): void {
    this.#patternMemories.startBackgroundSync(intervalMs);
  }

  /** Keys whose pattern memories are not yet written as computed. */
  get pendingPatternKeys(): number {
    return this.#patternMemories.pending;
  }

  close(): Promise<void> {
    return this.#patternMemories.close();
  }

  async patterns(tenant: string, request: PatternsRequest): Promise<PatternsReply> {
    let taskType = request.taskType;
    let inferred = false;
    if (taskType === undefined && request.request !== undefined) {
      taskType = (await this.#classifier.classify(request.request)).taskType;
      inferred = true;
    }
    const rows = await this.#read(tenant, {
      ...(request.namespace !== undefined ? { namespace: request.namespace } : {}),
      ...(taskType !== undefined ? { taskType } : {}),
    });
    return patternsReply(rows, tenant, request, { taskType, inferred });
  }

  async metrics(tenant: string, request: MetricsRequest): Promise<MetricsReply> {
    const rows = await this.#read(tenant, {
      ...(request.namespace !== undefined ? { namespace: request.namespace } : {}),
      ...(request.taskType !== undefined ? { taskType: request.taskType } : {}),
    });
    return metricsReply(rows, {
      since: this.#clock() - this.#recentWindowDays * DAY_MS,
      windowDays: this.#recentWindowDays,
    });
  }

  async #read(tenant: string, query: { namespace?: string; taskType?: string }) {
    try {
      return await this.#store.outcomes(tenant, query);
    } catch (error) {
      throw storageError(error);
    }
  }

  async #resolveTaskType(outcome: Outcome): Promise<{ taskType: string; inferred: boolean }> {
    if (outcome.taskType !== undefined) return { taskType: outcome.taskType, inferred: false };
    const text =
      outcome.request ??
      [outcome.namespace, outcome.steps.join(', '), configSignature(outcome.config), outcome.error]
        .filter(Boolean)
        .join('. ');
    if (!text) {
      this.#hooks.onInference?.('fallback');
      return { taskType: this.#classifier.fallback, inferred: true };
    }
    const classification = await this.#classifier.classify(text);
    this.#hooks.onInference?.(classification.method);
    return { taskType: classification.taskType, inferred: true };
  }
}

function toRow(
  tenant: string,
  outcome: Outcome,
  resolved: { taskType: string; inferred: boolean },
): OutcomeRow {
  const occurredAtMs = Date.parse(outcome.occurredAt);
  return {
    id: outcome.id,
    tenant,
    namespace: outcome.namespace ?? '',
    ...outcomeFacts(outcome, resolved),
    stepsSignature: stepsSignature(outcome.steps),
    configSignature: configSignature(outcome.config),
    ...(outcome.error && !outcome.success ? { errorSignature: errorSignature(outcome.error) } : {}),
    occurredAt: new Date(occurredAtMs).toISOString(),
    occurredAtMs,
  };
}

function storageError(error: unknown): MembusError {
  if (MembusError.is(error)) return error;
  return new MembusError('BACKEND_FAILED', `outcome store failed: ${(error as Error).message}`, {
    cause: error,
  });
}
