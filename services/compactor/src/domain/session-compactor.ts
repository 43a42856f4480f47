import {
  type Kind,
  Limits,
  type MemoryRecord,
  type SessionCompactionReport,
} from '@membus/contracts';
import { v5 as uuidv5 } from 'uuid';
import type { EmbedPort } from '../ports/embed-port.ts';
import type { CompactionPlan, LifecycleStore } from '../ports/lifecycle-store.ts';
import { collect, type MemoryPort } from '../ports/memory-port.ts';
import type { OutcomePort } from '../ports/outcome-port.ts';
import type { Summarizer, SummaryRequest } from '../ports/summarizer.ts';
import { outcomesToHandOver } from './outcomes.ts';
import { describePattern, extractPatterns } from './patterns.ts';
import {
  createExtractiveSummarizer,
  defaultSummariseOptions,
  embedAll,
  PATTERN_PREFIX,
  type SummariseOptions,
  splitSentences,
  uniqueSentences,
} from './summarise.ts';
import { memoryBytes, normaliseText, similarityClusters } from './vectors.ts';

/** UUIDv5 namespace of summary ids: summary id = uuidv5(`<tenant>/<sessionId>`, this). */
export const SUMMARY_ID_NAMESPACE = '6f1c3e2a-5b7d-4c8e-9a10-2b3c4d5e6f70';

export function summaryIdOf(tenant: string, sessionId: string): string {
  return uuidv5(`${tenant}/${sessionId}`, SUMMARY_ID_NAMESPACE);
}

export type OriginalsPolicy = 'delete' | 'archive' | 'keep';

export interface SessionCompactorOptions {
  memories: MemoryPort;
  embed: EmbedPort;
  store: LifecycleStore;
  /** What happens to compacted originals once the summary is queryable. */
  originals: OriginalsPolicy;
  /** Near-duplicate threshold by namespace (`undefined` = no namespace). */
  duplicateThreshold: (namespace: string | undefined) => number;
  /** Kinds never folded into a summary (lasting knowledge). */
  keepKinds?: readonly Kind[];
  /** Sessions with fewer compactable memories are left alone. */
  minMemories?: number;
  /** Options of the extractive summariser (the default, and the fallback of a remote one). */
  summarise?: SummariseOptions;
  /** Writes the summary text; extractive unless given. A remote one falls back to extractive. */
  summarizer?: Summarizer;
  /** Called once per summary written: which provider, and whether it fell back. */
  onSummary?: (summary: SummaryOutcome) => void;
  /** Where the session's outcomes go (the pattern-extractor); none are handed over without it. */
  outcomes?: OutcomePort;
  clock?: () => number;
}

/** How one summary was written. */
export interface SummaryOutcome {
  /** The configured summariser's name, e.g. `extractive`, `openai`. */
  provider: string;
  /** `ok`: it wrote the summary; `fallback`: it failed and the extractive summary was used. */
  result: 'ok' | 'fallback';
  /** Why it fell back. */
  error?: unknown;
}

/** Originals per archive + delete step (bounded by the filter's id list). */
const DELETE_BATCH = 200;

/**
 * Compacts one session into one `summary` memory. Crash-safe: the decision (summary text,
 * originals) is saved as a plan before anything changes; the summary is stored under a
 * deterministic id and must be queryable before any original is archived or deleted; a
 * rerun finishes a pending plan exactly, so nothing is lost or doubled.
 */
export class SessionCompactor {
  readonly #options: SessionCompactorOptions;
  readonly #clock: () => number;
  readonly #running = new Map<string, Promise<SessionCompactionReport>>();
  readonly #extractive: Summarizer;
  readonly #summarizer: Summarizer;

  constructor(options: SessionCompactorOptions) {
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
    this.#extractive = createExtractiveSummarizer({
      embed: options.embed,
      ...(options.summarise ? { summarise: options.summarise } : {}),
    });
    this.#summarizer = options.summarizer ?? this.#extractive;
  }

  /** Compacts a session; concurrent calls for the same session share one run. */
  compact(
    tenant: string,
    sessionId: string,
    options: { dryRun?: boolean } = {},
  ): Promise<SessionCompactionReport> {
    if (options.dryRun) return this.#compact(tenant, sessionId, true);
    const key = `${tenant}/${sessionId}`;
    const running = this.#running.get(key);
    if (running) return running;
    const run = this.#compact(tenant, sessionId, false).finally(() => this.#running.delete(key));
    this.#running.set(key, run);
    return run;
  }

  /** Finishes every plan a crash left pending. */
  async resumePending(): Promise<SessionCompactionReport[]> {
    const reports: SessionCompactionReport[] = [];
    for (const plan of await this.#options.store.pendingPlans())
      reports.push(await this.compact(plan.tenant, plan.sessionId));
    return reports;
  }

  async #compact(
    tenant: string,
    sessionId: string,
    dryRun: boolean,
  ): Promise<SessionCompactionReport> {
    const started = this.#clock();
    const { store } = this.#options;
    const previous = await store.plan(tenant, sessionId);
    const resumed = previous?.state === 'pending' && !dryRun;
    if (previous && resumed) {
      await this.#execute(previous);
      previous.report.durationMs = this.#clock() - started;
      previous.state = 'done';
      await store.savePlan(previous);
    }
    const summaryId = summaryIdOf(tenant, sessionId);
    const records = await collect(this.#options.memories, tenant, { sessionId });
    const existingSummary = records.find((record) => record.id === summaryId);
    const covered = new Set(previous?.sourceIds ?? []);
    const keepKinds = new Set<Kind>(this.#options.keepKinds ?? ['preference', 'pattern']);
    const inputs = records
      .filter(
        (record) =>
          record.id !== summaryId && !keepKinds.has(record.kind) && !covered.has(record.id),
      )
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    const kept = records.filter((record) => record.id !== summaryId && keepKinds.has(record.kind));
    if (inputs.length < (this.#options.minMemories ?? 2)) {
      if (previous) return { ...previous.report, dryRun, alreadyCompacted: !resumed };
      return emptyReport(sessionId, inputs.length, dryRun, this.#clock() - started);
    }
    const plan = await this.#plan(
      tenant,
      sessionId,
      summaryId,
      inputs,
      existingSummary,
      kept.length,
    );
    plan.report.dryRun = dryRun;
    const handover = this.#options.outcomes ? outcomesToHandOver(inputs) : undefined;
    if (handover) {
      plan.report.outcomesHandedOver = handover.outcomes.length;
      plan.report.outcomesSkipped = handover.skipped;
    }
    if (dryRun) {
      plan.report.durationMs = this.#clock() - started;
      return plan.report;
    }
    // Before the plan is saved: the originals may be gone once it is, and a crash before the
    // save recomputes the plan and publishes again, which the pattern-extractor ignores (same ids).
    if (handover && this.#options.outcomes) {
      for (const outcome of handover.outcomes)
        await this.#options.outcomes.publish(tenant, outcome);
    }
    await store.savePlan(plan);
    await this.#execute(plan);
    plan.report.durationMs = this.#clock() - started;
    plan.state = 'done';
    await store.savePlan(plan);
    // Memories stored while this ran are newer than `started`: they keep the session tracked.
    await store.forgetSession(tenant, sessionId, started);
    return plan.report;
  }

  async #plan(
    tenant: string,
    sessionId: string,
    summaryId: string,
    inputs: MemoryRecord[],
    existingSummary: MemoryRecord | undefined,
    keptCount: number,
  ): Promise<CompactionPlan> {
    // Exact duplicates first (cheap), then near duplicates by embedding.
    const byText = new Map<string, MemoryRecord>();
    for (const record of inputs) {
      const key = `${record.namespace ?? ''}\u0000${normaliseText(record.text)}`;
      if (!byText.has(key)) byText.set(key, record);
    }
    let unique = [...byText.values()];
    const memoryVectors = await embedAll(
      this.#options.embed,
      unique.map((record) => record.text),
    );
    const dropped = new Set<number>();
    for (const cluster of similarityClusters(
      memoryVectors,
      Math.min(...unique.map((record) => this.#options.duplicateThreshold(record.namespace))),
    )) {
      for (const index of cluster.slice(1)) dropped.add(index);
    }
    unique = unique.filter((_, index) => !dropped.has(index));
    const duplicatesRemoved = inputs.length - unique.length;

    const patterns = extractPatterns(inputs);
    const previousSentences = existingSummary ? splitSentences(existingSummary.text) : [];
    const previousSummary = previousSentences
      .filter((sentence) => !sentence.startsWith(PATTERN_PREFIX))
      .join(' ');
    const body = await this.#summarize({
      tenant,
      sessionId,
      memories: unique,
      ...(previousSummary ? { previousSummary } : {}),
      maxChars: (this.#options.summarise ?? defaultSummariseOptions).maxChars,
    });
    const previousPatterns = previousSentences.filter((sentence) =>
      sentence.startsWith(PATTERN_PREFIX),
    );
    const text = [
      ...uniqueSentences([...previousPatterns, ...patterns.map(describePattern)]),
      ...(body ? [body] : []),
    ]
      .join(' ')
      .slice(0, Limits.textLength);

    const owners = shared(inputs, ['agentId', 'userId', 'namespace'] as const);
    const scope = owners.agentId ? 'agent' : owners.userId ? 'user' : 'app';
    const labels = (pick: (record: MemoryRecord) => string[], extra: string[] = []) =>
      [...new Set([...extra, ...inputs.flatMap(pick)])].slice(0, Limits.labelCount);
    const compactedMemories =
      inputs.length +
      (typeof existingSummary?.metadata.compactedMemories === 'number'
        ? existingSummary.metadata.compactedMemories
        : 0);
    const metadata = { sessionId, compactedMemories };
    const summary = {
      id: summaryId,
      scope,
      sessionId,
      ...(owners.agentId ? { agentId: owners.agentId } : {}),
      ...(owners.userId ? { userId: owners.userId } : {}),
      ...(owners.namespace ? { namespace: owners.namespace } : {}),
      kind: 'summary' as const,
      tier: 'mid' as const,
      text,
      metadata,
      categories: labels((record) => record.categories),
      tags: labels((record) => record.tags, ['session-summary']),
      importance: Math.max(...inputs.map((record) => record.importance)),
    } satisfies CompactionPlan['summary'];
    const originalBytes =
      inputs.reduce((sum, record) => sum + memoryBytes(record), 0) +
      (existingSummary ? memoryBytes(existingSummary) : 0);
    const compactedBytes = memoryBytes({ text, metadata });
    const originals = this.#options.originals;
    return {
      tenant,
      sessionId,
      summary,
      updateSummary: existingSummary !== undefined,
      sourceIds: inputs.map((record) => record.id),
      state: 'pending',
      report: {
        sessionId,
        summaryId,
        summary: text,
        memoriesIn: inputs.length,
        memoriesOut: 1 + keptCount + (originals === 'keep' ? inputs.length : 0),
        duplicatesRemoved,
        patternsExtracted: patterns.length,
        originalBytes,
        compactedBytes,
        compressionRatio: originalBytes === 0 ? 0 : 1 - compactedBytes / originalBytes,
        originals:
          originals === 'delete' ? 'deleted' : originals === 'archive' ? 'archived' : 'kept',
        durationMs: 0,
        dryRun: false,
        alreadyCompacted: false,
      },
    };
  }

  /** Applies a plan; every step is idempotent, so a rerun after a crash is safe. */
  async #execute(plan: CompactionPlan): Promise<void> {
    const { memories, store } = this.#options;
    const { tenant } = plan;
    if (plan.updateSummary) {
      await memories.update(tenant, plan.summary.id, {
        text: plan.summary.text,
        metadata: plan.summary.metadata ?? {},
        ...(plan.summary.categories ? { categories: plan.summary.categories } : {}),
        ...(plan.summary.tags ? { tags: plan.summary.tags } : {}),
        ...(plan.summary.importance !== undefined ? { importance: plan.summary.importance } : {}),
      });
    } else {
      // Resolves only once the summary is queryable: originals go after that, never before.
      await memories.store(tenant, plan.summary);
    }
    if (this.#options.originals === 'keep') return;
    const reason =
      this.#options.originals === 'archive'
        ? `session compaction: folded into summary ${plan.summary.id}; archived by the compactor (COMPACT_ORIGINALS=archive)`
        : `session compaction: folded into summary ${plan.summary.id} (COMPACT_ORIGINALS=delete)`;
    for (let start = 0; start < plan.sourceIds.length; start += DELETE_BATCH) {
      const ids = plan.sourceIds.slice(start, start + DELETE_BATCH);
      // Every page, not the first: a page is bounded by bytes and may hold fewer than asked.
      if (this.#options.originals === 'archive')
        await store.archive(tenant, await collect(memories, tenant, { ids }));
      await memories.delete(tenant, ids, reason);
    }
  }

  /** The configured summary; a failing remote summariser falls back to the extractive one. */
  async #summarize(request: SummaryRequest): Promise<string> {
    const provider = this.#summarizer.capabilities.name;
    if (this.#summarizer === this.#extractive) {
      const text = await this.#extractive.summarize(request);
      this.#options.onSummary?.({ provider, result: 'ok' });
      return text;
    }
    try {
      const text = (await this.#summarizer.summarize(request)).slice(0, request.maxChars);
      this.#options.onSummary?.({ provider, result: 'ok' });
      return text;
    } catch (error) {
      this.#options.onSummary?.({ provider, result: 'fallback', error });
      return this.#extractive.summarize(request);
    }
  }
}

/** The report of a session left as it was: `memories` kept, nothing compacted. */
export function emptyReport(
  sessionId: string,
  memories: number,
  dryRun: boolean,
  durationMs: number,
): SessionCompactionReport {
  return {
    sessionId,
    memoriesIn: 0,
    memoriesOut: memories,
    duplicatesRemoved: 0,
    patternsExtracted: 0,
    originalBytes: 0,
    compactedBytes: 0,
    compressionRatio: 0,
    originals: 'kept',
    durationMs,
    dryRun,
    alreadyCompacted: false,
  };
}

/** The owner fields every record shares (absent when they differ or are missing). */
function shared<const K extends keyof MemoryRecord>(
  records: readonly MemoryRecord[],
  keys: readonly K[],
): Partial<Pick<MemoryRecord, K>> {
  const result: Partial<Pick<MemoryRecord, K>> = {};
  for (const key of keys) {
    const values = new Set(records.map((record) => record[key]));
    const [only] = values;
    if (values.size === 1 && only !== undefined) result[key] = only;
  }
  return result;
}
