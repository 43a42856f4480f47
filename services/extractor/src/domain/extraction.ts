import {
  type ExtractionDecision,
  type ExtractionNotice,
  type IngestMessage,
  MembusError,
  type MemoryRecord,
} from '@membus/contracts';
import type { z } from 'zod';
import type { NamespaceExtraction } from '../config.ts';
import type { ChatModel, ChatRequest } from '../ports/chat-model.ts';
import type { MemoryPort } from '../ports/memory-port.ts';
import {
  boundedFact,
  DecisionsAnswerSchema,
  DecisionsJsonSchema,
  FactsAnswerSchema,
  FactsJsonSchema,
  parseAnswer,
} from './answers.ts';
import {
  type Candidate,
  factId,
  factMemory,
  mergedMetadata,
  ownerFilter,
  promptTurns,
  rawMemories,
} from './ingest-memories.ts';
import type { ProviderLimiter, TokenBudget } from './limits.ts';
import {
  DECISIONS_SYSTEM_PROMPT,
  decisionsUserPrompt,
  factsSystemPrompt,
  factsUserPrompt,
  PROMPT_VERSION,
} from './prompts.ts';

/** Why an ingest was stored raw (the notice's `reason`, the fallback metric's label). */
export type FallbackReason = 'disabled' | 'not_requested' | 'budget_exhausted' | 'model_failed';

/** What happened to one ingest: its notice, and the failure it is dead-lettered with, if any. */
export interface IngestOutcome {
  notice: Omit<ExtractionNotice, 'v'>;
  deadLetter?: MembusError;
}

/** What the metrics hear about (metrics.ts implements it). */
export interface ExtractionObserver {
  call(
    outcome: 'ok' | 'garbage' | 'failed',
    usage: { input: number; output: number },
    seconds: number,
  ): void;
  decision(event: ExtractionDecision['event']): void;
  fallback(reason: FallbackReason): void;
}

export interface ExtractorOptions {
  /** Absent: extraction is off (every ingest is stored raw). */
  model?: ChatModel | undefined;
  memories: MemoryPort;
  limiter: ProviderLimiter;
  budget: TokenBudget;
  observer: ExtractionObserver;
  /** `raw`: store the text as it is when extraction is off or fails; `none`: store nothing. */
  fallback: 'raw' | 'none';
  /** Instructions and categories by namespace (`default` for any other). */
  namespaces: Readonly<Record<string, NamespaceExtraction>>;
  /** Known memories fetched per candidate fact. */
  nearest: number;
  /** Calls again after an unparsable answer this many times before giving up. */
  garbageRetries: number;
  now?: () => number;
}

/**
 * The extraction stage's domain: candidate facts from a conversation, a decision for each
 * against the owner's nearest memories (ADD / UPDATE / DELETE / NONE), carried out through the
 * vector-store's normal operations; the raw text stored instead when extraction is off, over
 * budget or fails.
 */
export class Extractor {
  readonly #options: ExtractorOptions;
  readonly #now: () => number;

  constructor(options: ExtractorOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Extracts one group of ingests (same `groupKey`); one outcome per ingest, in order. */
  async process(tenant: string, ingests: readonly IngestMessage[]): Promise<IngestOutcome[]> {
    const first = ingests[0];
    if (first === undefined) return [];
    const model = this.#options.model;
    if (!first.extract) return this.#fallback(tenant, ingests, 'not_requested');
    if (model === undefined) return this.#fallback(tenant, ingests, 'disabled');
    if (this.#options.budget.exhausted(tenant))
      return this.#fallback(tenant, ingests, 'budget_exhausted');
    try {
      const decisions = await this.#extract(tenant, ingests, model);
      return ingests.map((ingest) => ({
        notice: { id: ingest.id, status: 'extracted', decisions, model: model.model },
      }));
    } catch (thrown) {
      const error = MembusError.from(thrown);
      const outcomes = await this.#fallback(tenant, ingests, 'model_failed');
      return outcomes.map((outcome) => ({
        notice: { ...outcome.notice, error: error.toJSON() },
        deadLetter: error,
      }));
    }
  }

  async #extract(
    tenant: string,
    ingests: readonly IngestMessage[],
    model: ChatModel,
  ): Promise<ExtractionDecision[]> {
    const first = ingests[0] as IngestMessage;
    const settings =
      this.#options.namespaces[first.namespace ?? 'default'] ??
      this.#options.namespaces.default ??
      {};
    const { turns, sourceOf } = promptTurns(ingests);
    const facts = await this.#ask(tenant, model, FactsAnswerSchema, {
      system: factsSystemPrompt(settings),
      user: factsUserPrompt(turns),
      schemaName: 'facts',
      jsonSchema: FactsJsonSchema,
    });
    const allowed = new Set(settings.categories ?? []);
    const candidates: Candidate[] = facts.facts.map((fact) => ({
      text: boundedFact(fact.text),
      category: fact.category && allowed.has(fact.category) ? fact.category : undefined,
      importance: fact.importance ?? undefined,
      sources: (fact.sources ?? []).flatMap((id) => sourceOf.get(id) ?? []),
    }));
    // The tenant's ingest policy (packages/ingest-policy) applies to each fact where every store
    // meets it: in the embedder, before embedding. An added fact it drops comes back `dropped`
    // (a NONE decision saying why); categories, tags, expiry and importance it sets hold too.
    if (candidates.length === 0) return [];

    const filter = ownerFilter(first);
    const known = new Map<string, MemoryRecord>();
    for (const candidate of candidates)
      for (const memory of await this.#options.memories.nearest(
        tenant,
        candidate.text,
        filter,
        this.#options.nearest,
      ))
        known.set(memory.id, memory);
    // Short ids in the prompt: a model copies `3` more reliably than a UUID.
    const knownList = [...known.values()];
    const shortIds = new Map(knownList.map((memory, index) => [String(index), memory]));
    const answer = await this.#ask(tenant, model, DecisionsAnswerSchema, {
      system: DECISIONS_SYSTEM_PROMPT,
      user: decisionsUserPrompt(
        candidates.map((candidate) => candidate.text),
        knownList.map((memory, index) => ({ id: String(index), text: memory.text })),
      ),
      schemaName: 'decisions',
      jsonSchema: DecisionsJsonSchema,
    });

    const byFact = new Map<number, (typeof answer.decisions)[number]>();
    for (const decision of answer.decisions)
      if (decision.fact < candidates.length && !byFact.has(decision.fact))
        byFact.set(decision.fact, decision);
    const decisions: ExtractionDecision[] = [];
    for (const [index, candidate] of candidates.entries()) {
      const decision = byFact.get(index);
      const target = decision?.id != null ? shortIds.get(decision.id) : undefined;
      const provenance = {
        source: 'extraction',
        ingestId: first.id,
        ...(candidate.sources.length > 0 ? { sourceMessageIds: candidate.sources } : {}),
        extractionModel: model.model,
        promptVersion: PROMPT_VERSION,
        ...(first.sessionId ? { sessionId: first.sessionId } : {}),
      };
      // A decision naming no known memory: UPDATE becomes ADD, DELETE and NONE change nothing.
      const event = decision?.event ?? 'ADD';
      if (event === 'NONE' || (event === 'DELETE' && target === undefined)) {
        decisions.push({
          event: 'NONE',
          text: candidate.text,
          ...(target ? { memoryId: target.id } : {}),
        });
      } else if (event === 'UPDATE' && target !== undefined) {
        const text = boundedFact(decision?.text || candidate.text);
        await this.#options.memories.update(tenant, target.id, {
          text,
          metadata: { ...target.metadata, ...provenance },
          reason: `extraction ${PROMPT_VERSION}: ingest ${first.id}`,
        });
        decisions.push({ event: 'UPDATE', text, memoryId: target.id, previousText: target.text });
      } else {
        if (event === 'DELETE' && target !== undefined) {
          await this.#options.memories.delete(
            tenant,
            target.id,
            `extraction ${PROMPT_VERSION}: contradicted by "${candidate.text}"`.slice(0, 300),
          );
          decisions.push({
            event: 'DELETE',
            text: candidate.text,
            memoryId: target.id,
            previousText: target.text,
          });
        }
        const added = await this.#options.memories.add(tenant, {
          ...factMemory(first, ingests, candidate),
          id: factId(first, index),
          metadata: { ...mergedMetadata(ingests), ...provenance },
        });
        decisions.push(
          added.status === 'dropped'
            ? { event: 'NONE', text: candidate.text, dropped: added.dropped ?? 'ingest policy' }
            : { event: 'ADD', text: candidate.text, memoryId: added.memoryId },
        );
      }
    }
    for (const decision of decisions) this.#options.observer.decision(decision.event);
    return decisions;
  }

  /**
   * One model call whose answer must match `schema`: an unparsable answer is asked again up to
   * `garbageRetries` times, then fails (not retryable: the message is dead-lettered with why).
   */
  async #ask<S extends z.ZodType>(
    tenant: string,
    model: ChatModel,
    schema: S,
    request: ChatRequest,
  ): Promise<z.output<S>> {
    let reason = '';
    for (let attempt = 0; attempt <= this.#options.garbageRetries; attempt++) {
      const started = this.#now();
      let answer: Awaited<ReturnType<ChatModel['complete']>>;
      try {
        answer = await this.#options.limiter.run(() => model.complete(request));
      } catch (error) {
        this.#options.observer.call(
          'failed',
          { input: 0, output: 0 },
          (this.#now() - started) / 1000,
        );
        throw error;
      }
      const usage = { input: answer.inputTokens, output: answer.outputTokens };
      this.#options.budget.spend(tenant, usage.input + usage.output);
      const parsed = parseAnswer(schema, answer.content);
      this.#options.observer.call(
        parsed.ok ? 'ok' : 'garbage',
        usage,
        (this.#now() - started) / 1000,
      );
      if (parsed.ok) return parsed.value;
      reason = parsed.reason;
    }
    throw new MembusError(
      'BACKEND_FAILED',
      `the model answered garbage ${this.#options.garbageRetries + 1} times: ${reason}`,
      { retryable: false, details: { model: model.model, answer: 'garbage' } },
    );
  }

  /** Stores the ingests' text as it is (fallback `raw`), or nothing (`none`). */
  async #fallback(
    tenant: string,
    ingests: readonly IngestMessage[],
    reason: FallbackReason,
  ): Promise<IngestOutcome[]> {
    this.#options.observer.fallback(reason);
    const outcomes: IngestOutcome[] = [];
    for (const ingest of ingests) {
      if (this.#options.fallback === 'none') {
        outcomes.push({ notice: { id: ingest.id, status: 'failed', reason, decisions: [] } });
        continue;
      }
      // Waited for like an added fact: the caller told `raw` finds the text.
      const stored = await Promise.all(
        rawMemories(ingest, reason).map((memory) => this.#options.memories.add(tenant, memory)),
      );
      outcomes.push({
        notice: {
          id: ingest.id,
          status: 'raw',
          reason,
          decisions: [],
          rawMemoryIds: [
            ...new Set(
              stored
                .filter((memory) => memory.status !== 'dropped')
                .map((memory) => memory.memoryId),
            ),
          ],
        },
      });
    }
    return outcomes;
  }
}
