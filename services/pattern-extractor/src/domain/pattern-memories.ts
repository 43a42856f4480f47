import { createHash } from 'node:crypto';
import { MembusError } from '@membus/contracts';
import type { MemoryPort } from '../ports/memory-port.ts';
import type { OutcomeStore } from '../ports/outcome-store.ts';
import {
  failurePatternContent,
  type PatternMemoryContent,
  workflowPatternContent,
} from './memory-text.ts';
import { computeFailures, computeVariants } from './variants.ts';

/** When a pattern is worth a memory. */
export interface PatternThresholds {
  /** Executions a workflow/config variant needs. */
  minSupport: number;
  /** Wilson lower bound of its success rate it needs. */
  minConfidence: number;
  /** Occurrences a failure signature needs. */
  failureMinCount: number;
}

/** (tenant, namespace, task type): the unit of statistics and pattern memories. */
export interface PatternKey {
  tenant: string;
  namespace: string;
  taskType: string;
}

export interface PatternMemoriesOptions {
  /** Where the outcomes (and what was last sent of each pattern memory) are kept. */
  store: OutcomeStore;
  /** Where pattern memories are stored and updated. */
  memories: MemoryPort;
  thresholds: PatternThresholds;
  /** ms since epoch. */
  clock: () => number;
  /** A pattern memory was stored or updated. */
  onPatternMemory?: (patternType: string, action: 'stored' | 'updated') => void;
  /** Pattern-memory work that failed in the background (it is retried). */
  onBackgroundError: (error: unknown) => void;
}

const keyString = (key: PatternKey): string =>
  `${key.tenant}\u001f${key.namespace}\u001f${key.taskType}`;

/**
 * The pattern memories of every key, kept as computed from its stored outcomes: a key whose
 * outcomes changed is pending until its memories are written; a failed write stays pending
 * and is retried. The work is serialised, so two evaluations never race on one memory.
 */
export class PatternMemories {
  readonly #options: PatternMemoriesOptions;
  /** Keys whose pattern memories may be out of date (a write failed or is pending). */
  readonly #pending = new Map<string, PatternKey>();
  #chain: Promise<void> = Promise.resolve();
  #syncTimer: NodeJS.Timeout | undefined;

  constructor(options: PatternMemoriesOptions) {
    this.#options = options;
  }

  /** Marks keys whose outcomes changed: their memories are written on the next sync. */
  changed(keys: Iterable<PatternKey>): void {
    for (const key of keys) this.#pending.set(keyString(key), key);
  }

  /** Keys whose pattern memories are not yet written as computed. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Brings the pattern memories of every pending key up to date; failures stay pending. */
  sync(): Promise<void> {
    const run = this.#chain.then(async () => {
      const keys = [...this.#pending.entries()];
      for (const [id, key] of keys) {
        this.#pending.delete(id);
        try {
          const complete = await this.#refresh(key);
          if (!complete) this.#pending.set(id, key);
        } catch (error) {
          this.#pending.set(id, key);
          this.#options.onBackgroundError(error);
        }
      }
    });
    this.#chain = run.catch(() => {});
    return run;
  }

  /** Retries pending pattern memories every `intervalMs` until {@link close}. */
  startBackgroundSync(intervalMs: number): void {
    this.#syncTimer ??= setInterval(() => {
      if (this.#pending.size > 0) this.sync().catch(this.#options.onBackgroundError);
    }, intervalMs);
    this.#syncTimer.unref();
  }

  async close(): Promise<void> {
    if (this.#syncTimer) clearInterval(this.#syncTimer);
    this.#syncTimer = undefined;
    await this.#chain;
  }

  /** Writes the key's pattern memories as computed now; false when some must be retried. */
  async #refresh(key: PatternKey): Promise<boolean> {
    const rows = await this.#options.store.outcomes(key.tenant, {
      namespace: key.namespace,
      taskType: key.taskType,
    });
    const scope = { tenant: key.tenant, namespace: key.namespace };
    const variants = computeVariants(rows, scope);
    const failures = computeFailures(rows, scope, variants);
    let complete = true;
    const { minSupport, minConfidence, failureMinCount } = this.#options.thresholds;
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
    const { store, memories, onPatternMemory } = this.#options;
    const state = await store.patternMemory(key.tenant, id);
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
      await memories.store(key.tenant, {
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
      onPatternMemory?.(patternType, 'stored');
    } else {
      try {
        await memories.update(key.tenant, id, content);
      } catch (error) {
        // The first store is still on its way through the pipeline: try again later.
        if (MembusError.is(error) && error.code === 'NOT_FOUND') return false;
        throw error;
      }
      onPatternMemory?.(patternType, 'updated');
    }
    await store.savePatternMemory(key.tenant, {
      patternId: id,
      digest,
      sentAt: new Date(this.#options.clock()).toISOString(),
    });
    return true;
  }
}
