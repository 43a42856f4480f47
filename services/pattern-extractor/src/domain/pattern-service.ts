import { createHash } from 'node:crypto';
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
import {
  failurePatternContent,
  outcomeFacts,
  outcomeMemory,
  type PatternMemoryContent,
  workflowPatternContent,
} from './memory-text.ts';
import { configSignature, errorSignature, stepsSignature } from './normalise.ts';
import { computeStats } from './statistics.ts';
import type { Classification, TaskTypeClassifier } from './task-types.ts';
import { ALL_NAMESPACES, computeFailures, computeVariants, rankPatterns } from './variants.ts';

const DAY_MS = 86_400_000;

/** When a pattern is worth a memory. */
export interface PatternThresholds {
  /** Executions a workflow/config variant needs. */
  minSupport: number;
  /** Wilson lower bound of its success rate it needs. */
  minConfidence: number;
  /** Occurrences a failure signature needs. */
  failureMinCount: number;
}

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

/** (tenant, namespace, task type): the unit of statistics and pattern memories. */
interface PatternKey {
  tenant: string;
  namespace: string;
  taskType: string;
}

const keyString = (key: PatternKey): string =>
  `${key.tenant}\u001f${key.namespace}\u001f${key.taskType}`;

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
  readonly #thresholds: PatternThresholds;
  readonly #recentWindowMs: number;
  readonly #recentWindowDays: number;
  readonly #clock: () => number;
  readonly #hooks: PatternServiceHooks;
  readonly #onBackgroundError: (error: unknown) => void;
  /** Keys whose pattern memories may be out of date (a write failed or is pending). */
  readonly #pending = new Map<string, PatternKey>();
  /** Serialises pattern-memory work so two evaluations never race on one memory. */
  #chain: Promise<void> = Promise.resolve();
  #syncTimer: NodeJS.Timeout | undefined;

  constructor(options: PatternServiceOptions) {
    this.#store = options.store;
    this.#memories = options.memories;
    this.#classifier = options.classifier;
    this.#thresholds = options.thresholds;
    this.#recentWindowDays = options.recentWindowDays;
    this.#recentWindowMs = options.recentWindowDays * DAY_MS;
    this.#clock = options.clock ?? Date.now;
    this.#hooks = options.hooks ?? {};
    this.#onBackgroundError = options.onBackgroundError ?? (() => {});
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
    const changed = new Map<string, PatternKey>();
    const results = prepared.map((entry): IngestResult => {
      if (!entry.ok) return entry;
      const isNew = inserted.has(entry.row.id);
      this.#hooks.onOutcome?.(entry.row.taskType, entry.row.success, isNew);
      if (isNew) {
        const key = {
          tenant: entry.row.tenant,
          namespace: entry.row.namespace,
          taskType: entry.row.taskType,
        };
        changed.set(keyString(key), key);
      }
      return { ok: true, inserted: isNew, taskType: entry.row.taskType };
    });
    // The outcomes are durable now; pattern memories follow (and are retried on failure).
    for (const [id, key] of changed) this.#pending.set(id, key);
    await this.syncPatternMemories();
    return results;
  }

  /** Brings the pattern memories of every pending key up to date; failures stay pending. */
  syncPatternMemories(): Promise<void> {
    const run = this.#chain.then(async () => {
      const keys = [...this.#pending.entries()];
      for (const [id, key] of keys) {
        this.#pending.delete(id);
        try {
          const complete = await this.#refresh(key);
          if (!complete) this.#pending.set(id, key);
        } catch (error) {
          this.#pending.set(id, key);
          this.#onBackgroundError(error);
        }
      }
    });
    this.#chain = run.catch(() => {});
    return run;
  }

  /** Retries pending pattern memories every `intervalMs` until {@link close}. */
  startBackgroundSync(intervalMs: number): void {
    this.#syncTimer ??= setInterval(() => {
      if (this.#pending.size > 0) this.syncPatternMemories().catch(this.#onBackgroundError);
    }, intervalMs);
    this.#syncTimer.unref();
  }

  /** Keys whose pattern memories are not yet written as computed. */
  get pendingPatternKeys(): number {
    return this.#pending.size;
  }

  async close(): Promise<void> {
    if (this.#syncTimer) clearInterval(this.#syncTimer);
    this.#syncTimer = undefined;
    await this.#chain;
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
    const scope = { tenant, namespace: request.namespace ?? ALL_NAMESPACES };
    const variants = computeVariants(rows, scope);
    const patterns = rankPatterns(
      variants
        .map((variant) => variant.pattern)
        .filter((pattern) => request.variantKinds.includes(pattern.kind)),
      request,
    ).slice(0, request.limit);
    const failures = request.includeFailures
      ? computeFailures(rows, scope, variants).slice(0, request.limit)
      : [];
    return {
      v: 1,
      ...(taskType !== undefined ? { taskType } : {}),
      inferred,
      patterns,
      failures,
    };
  }

  async metrics(tenant: string, request: MetricsRequest): Promise<MetricsReply> {
    const rows = await this.#read(tenant, {
      ...(request.namespace !== undefined ? { namespace: request.namespace } : {}),
      ...(request.taskType !== undefined ? { taskType: request.taskType } : {}),
    });
    const since = this.#clock() - this.#recentWindowMs;
    const recentOf = (list: readonly OutcomeRow[]) =>
      list.filter((row) => row.occurredAtMs >= since);
    const byType = new Map<string, OutcomeRow[]>();
    for (const row of rows) {
      const list = byType.get(row.taskType);
      if (list) list.push(row);
      else byType.set(row.taskType, [row]);
    }
    const taskTypes = [...byType]
      .map(([taskType, list]) => ({
        taskType,
        allTime: computeStats(list),
        recent: computeStats(recentOf(list)),
        workflows: new Set(list.map((row) => row.stepsSignature).filter(Boolean)).size,
      }))
      .sort(
        (a, b) =>
          b.allTime.executions - a.allTime.executions || a.taskType.localeCompare(b.taskType),
      );
    return {
      v: 1,
      taskTypes,
      overall: {
        allTime: computeStats(rows),
        recent: computeStats(recentOf(rows)),
        taskTypeCount: taskTypes.length,
      },
      recentWindowDays: this.#recentWindowDays,
    };
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

  /** Writes the key's pattern memories as computed now; false when some must be retried. */
  async #refresh(key: PatternKey): Promise<boolean> {
    const rows = await this.#store.outcomes(key.tenant, {
      namespace: key.namespace,
      taskType: key.taskType,
    });
    const scope = { tenant: key.tenant, namespace: key.namespace };
    const variants = computeVariants(rows, scope);
    const failures = computeFailures(rows, scope, variants);
    let complete = true;
    const { minSupport, minConfidence, failureMinCount } = this.#thresholds;
    for (const { pattern } of variants) {
      const recommended =
        pattern.support >= minSupport && pattern.wilsonLowerBound >= minConfidence;
      const written = await this.#writePattern(key, pattern.id, recommended, () =>
        workflowPatternContent(pattern, recommended),
      );
      complete &&= written;
    }
    for (const failure of failures) {
      const written = await this.#writePattern(
        key,
        failure.id,
        failure.count >= failureMinCount,
        () => failurePatternContent(failure),
      );
      complete &&= written;
    }
    return complete;
  }

  /**
   * Stores a pattern memory the first time it qualifies, then updates it whenever its content
   * changes (even after it stops qualifying, so its numbers stay true). False: retry later.
   */
  async #writePattern(
    key: PatternKey,
    id: string,
    qualifies: boolean,
    render: () => PatternMemoryContent,
  ): Promise<boolean> {
    const state = await this.#store.patternMemory(key.tenant, id);
    if (!state && !qualifies) return true;
    const content = render();
    const digest = createHash('sha256')
      .update(content.text)
      .update('\u0000')
      .update(JSON.stringify(content.metadata))
      .digest('hex');
    if (state?.digest === digest) return true;
    const patternType = String(content.metadata.patternType);
    if (!state) {
      await this.#memories.store(key.tenant, {
        id,
        scope: 'app',
        ...(key.namespace ? { namespace: key.namespace } : {}),
        kind: 'pattern',
        tier: 'long',
        text: content.text,
        metadata: content.metadata,
        importance: content.importance,
        categories: ['patterns'],
        tags: [key.taskType, patternType],
      });
      this.#hooks.onPatternMemory?.(patternType, 'stored');
    } else {
      try {
        await this.#memories.update(key.tenant, id, content);
      } catch (error) {
        // The first store is still on its way through the pipeline: try again later.
        if (MembusError.is(error) && error.code === 'NOT_FOUND') return false;
        throw error;
      }
      this.#hooks.onPatternMemory?.(patternType, 'updated');
    }
    await this.#store.savePatternMemory(key.tenant, {
      patternId: id,
      digest,
      sentAt: new Date(this.#clock()).toISOString(),
    });
    return true;
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
