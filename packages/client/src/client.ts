import {
  type Body,
  call,
  type JetStreamClient,
  jetstream,
  type NatsConnection,
  publishOperation,
  storeMemory,
  type TenantOf,
  validate,
} from '@membus/bus';
import {
  type AuditReply,
  type AuditRequestInput,
  type CompactReply,
  type CompactRequestInput,
  type FailurePattern,
  type HistoryEntry,
  type IngestPolicyInput,
  Limits,
  MembusError,
  type MemoryFilter,
  type MemoryRecord,
  type MetricsReply,
  Operations,
  OutcomeSchema,
  type PatternsReply,
  type PolicyGetReply,
  type PolicyHistoryReply,
  type PolicyHistoryRequestInput,
  type PolicyPutReply,
  type ReembedStatus,
  type RequestOperation,
  type StatsReply,
  StoreMemorySchema,
  type WorkflowPattern,
} from '@membus/contracts';
import { v7 as uuidv7 } from 'uuid';
import type { z } from 'zod';
import type {
  BestWorkflowOptions,
  ListInput,
  PatternsInput,
  QueryInput,
  QueryOptions,
  QueryResult,
  RecordOutcomeInput,
  StoreInput,
  StoreOptions,
  StoreResult,
  TaskMetricsInput,
  UpdateInput,
} from './client-types.ts';
import { type IngestOptions, type IngestResult, Ingests, type TurnInput } from './ingest.ts';
import { StoreNotices } from './store-notices.ts';
import { type ChangeStream, type WatchInput, type WatchOptions, watchChanges } from './watch.ts';

/**
 * A typed, tenant-bound handle on membus. Create it with `connect()` (connect.ts). One class on
 * purpose (over 400 lines): the API, a method per operation; what several methods share (store
 * notices, ingest, watch, export and import) is in modules of its own.
 */
export class MemoryClient {
  readonly tenant: string;
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #ownsConnection: boolean;
  readonly #timeoutMs: number;
  readonly #notices: StoreNotices;
  readonly #ingests: Ingests;

  constructor(
    nc: NatsConnection,
    options: { tenant: string; ownsConnection: boolean; timeoutMs: number },
  ) {
    this.#nc = nc;
    this.#js = jetstream(nc);
    this.tenant = options.tenant;
    this.#ownsConnection = options.ownsConnection;
    this.#timeoutMs = options.timeoutMs;
    this.#notices = new StoreNotices(nc, options.tenant);
    this.#ingests = new Ingests(nc, this.#js, options.tenant, options.timeoutMs);
  }

  /** The underlying NATS connection (for advanced use). */
  get connection(): NatsConnection {
    return this.#nc;
  }

  /** Stores a memory durably; see {@link StoreOptions.wait} for read-your-writes. */
  async store(input: StoreInput, options: StoreOptions = {}): Promise<StoreResult> {
    const [result] = await this.storeMany([input], options);
    return result as StoreResult;
  }

  /** Stores many memories (pipelined); results in input order. */
  async storeMany(
    inputs: readonly StoreInput[],
    options: StoreOptions = {},
  ): Promise<StoreResult[]> {
    if (inputs.length > Limits.batchSize) {
      throw new MembusError(
        'LIMIT_EXCEEDED',
        `at most ${Limits.batchSize} memories per storeMany`,
        {
          details: { limit: Limits.batchSize, actual: inputs.length },
        },
      );
    }
    const messages = inputs.map((input) => {
      const message = { ...input, v: 1, id: input.id ?? uuidv7() };
      const checked = validate(StoreMemorySchema, message);
      if (!checked.ok) throw checked.error;
      return message;
    });
    // One id twice would be one memory with one notice: refused before anything is published.
    const ids = new Set<string>();
    for (const { id } of messages) {
      if (ids.has(id))
        throw new MembusError('INVALID_MESSAGE', `id ${id} appears twice in one storeMany`, {
          details: { id },
        });
      ids.add(id);
    }
    const waitQueryable = options.wait === 'queryable';
    const notices = waitQueryable
      ? messages.map((message) => this.#notices.wait(message.id, options.timeoutMs ?? 30_000))
      : [];
    try {
      await Promise.all(
        messages.map((message) =>
          // An agent's store: no JetStream de-duplication id (see storeMemory's policy).
          storeMemory(this.#js, this.tenant, message, {
            ...(waitQueryable ? { notifyToken: this.#notices.token } : {}),
            timeoutMs: this.#timeoutMs,
          }),
        ),
      );
    } catch (error) {
      this.#notices.forget(messages.map((message) => message.id));
      throw error;
    }
    if (!waitQueryable) return messages.map((message) => ({ id: message.id }));
    const settled = await Promise.all(notices);
    return settled.map((notice) => {
      if (notice.status === 'failed') {
        const body = notice.error;
        throw new MembusError(body?.code ?? 'INTERNAL', body?.message ?? 'store failed', {
          retryable: body?.retryable ?? false,
          ...(body?.details ? { details: body.details } : {}),
        });
      }
      return {
        id: notice.id,
        status: notice.status,
        memoryId: notice.memoryId,
        ...(notice.policy ? { policy: notice.policy } : {}),
      };
    });
  }

  /**
   * Hands conversation turns (or free text) to the extractor, which keeps their facts (ADD /
   * UPDATE / DELETE / NONE against the owner's memories; decision 010). Resolves once durable:
   * the model is never waited for, unless `wait: 'extracted'` asks for its decisions.
   */
  ingest(
    content: string | readonly TurnInput[],
    options: IngestOptions = {},
  ): Promise<IngestResult> {
    return this.#ingests.ingest(content, options);
  }

  /** Semantic search; `input` is the query text or a full query. */
  async query(input: string | QueryInput, options: QueryOptions = {}): Promise<QueryResult> {
    const query =
      typeof input === 'string' ? { ...options, text: input } : { ...input, ...options };
    const reply = await this.#call(Operations.query, query);
    return {
      hits: reply.hits,
      mode: reply.mode,
      plan: reply.plan,
      tookMs: reply.tookMs,
      ...(reply.truncated ? { truncated: true, omitted: reply.omitted ?? 0 } : {}),
    };
  }

  /** One memory, or undefined when it doesn't exist (or expired). */
  async get(id: string): Promise<MemoryRecord | undefined> {
    const reply = await this.#call(Operations.get, { ids: [id] });
    return reply.memories[0];
  }

  /**
   * Memories by id (up to `Limits.ids`): every live one, fetched in as many replies as their
   * size needs (each reply holds at most `Limits.replyBytes`); `missing` lists the rest.
   */
  async getMany(ids: readonly string[]): Promise<{ memories: MemoryRecord[]; missing: string[] }> {
    const memories: MemoryRecord[] = [];
    const missing: string[] = [];
    let asked: readonly string[] = ids;
    while (asked.length > 0) {
      const reply = await this.#call(Operations.get, { ids: [...asked] });
      memories.push(...reply.memories);
      missing.push(...reply.missing);
      const pending = reply.pending ?? [];
      // Every reply carries at least one memory when any is pending; never loop without one.
      if (pending.length > 0 && reply.memories.length === 0)
        throw new MembusError('INTERNAL', 'get returned pending ids but no memory', {
          details: { pending: pending.length },
        });
      asked = pending;
    }
    return { memories, missing };
  }

  /**
   * One page, newest first: `limit` memories, or fewer when they would pass `Limits.replyBytes`;
   * pass `nextCursor` back as `cursor` (absent on the last page).
   */
  async list(input: ListInput = {}): Promise<{ memories: MemoryRecord[]; nextCursor?: string }> {
    const reply = await this.#call(Operations.list, input);
    return {
      memories: reply.memories,
      ...(reply.nextCursor ? { nextCursor: reply.nextCursor } : {}),
    };
  }

  /**
   * Every matching memory, page by page (a page holds `pageSize` memories, or fewer when they
   * pass `Limits.replyBytes`), each once.
   */
  async *listAll(filter?: MemoryFilter, pageSize = 200): AsyncGenerator<MemoryRecord> {
    let cursor: string | undefined;
    do {
      const page = await this.list({
        ...(filter ? { filter } : {}),
        limit: pageSize,
        ...(cursor ? { cursor } : {}),
      });
      yield* page.memories;
      cursor = page.nextCursor;
    } while (cursor);
  }

  /** Changes a memory; new text is re-embedded. */
  async update(id: string, changes: UpdateInput): Promise<MemoryRecord> {
    const reply = await this.#call(Operations.update, { ...changes, id });
    return reply.memory;
  }

  /** Deletes by id(s); returns the ids that existed. */
  async delete(ids: string | readonly string[]): Promise<string[]> {
    const reply = await this.#call(Operations.delete, {
      ids: typeof ids === 'string' ? [ids] : [...ids],
    });
    return reply.ids;
  }

  /** Deletes every memory matching a (non-empty) filter, e.g. `{ sessionId }`. */
  async deleteWhere(filter: MemoryFilter): Promise<string[]> {
    const reply = await this.#call(Operations.delete, { filter });
    return reply.ids;
  }

  /** A memory's whole history, oldest first (fetched in pages of `Limits.replyBytes`). */
  async history(id: string): Promise<HistoryEntry[]> {
    const entries: HistoryEntry[] = [];
    let cursor: string | undefined;
    do {
      const reply = await this.#call(Operations.history, { id, ...(cursor ? { cursor } : {}) });
      entries.push(...reply.entries);
      cursor = reply.nextCursor;
    } while (cursor);
    return entries;
  }

  async stats(filter?: MemoryFilter): Promise<Omit<StatsReply, 'v'>> {
    return this.#reply(Operations.stats, filter ? { filter } : {});
  }

  /**
   * Starts re-embedding the tenant's memories with `model` (one the embedder serves) beside the
   * current vectors; queries switch once it is complete, the old vectors go after (decision
   * 011). `dryRun`: counts and tokens, nothing written. Follow it with `reembedStatus()`.
   */
  async reembed(options: { model: string; dryRun?: boolean }): Promise<Omit<ReembedStatus, 'v'>> {
    return this.#reply(Operations.reembed, {
      action: 'start',
      model: options.model,
      ...(options.dryRun ? { dryRun: true } : {}),
    });
  }

  /** Where the tenant's re-embedding is: `running` (done of total), `cleaning` or `idle`. */
  async reembedStatus(): Promise<Omit<ReembedStatus, 'v'>> {
    return this.#reply(Operations.reembed, { action: 'status' });
  }

  /** Cancels the tenant's re-embedding: the current vectors stay, the new ones are dropped. */
  async cancelReembed(): Promise<Omit<ReembedStatus, 'v'>> {
    return this.#reply(Operations.reembed, { action: 'cancel' });
  }

  /**
   * The tenant's changes as they happen, or replayed from a time or sequence (decision 008):
   * `for await (const change of memory.watch({ memory: { namespace } }, { from: since }))`.
   */
  watch(input: WatchInput = {}, options: WatchOptions = {}): ChangeStream {
    return watchChanges(this.#nc, this.tenant, input, {
      ...options,
      timeoutMs: options.timeoutMs ?? this.#timeoutMs,
    });
  }

  /** Closes the connection (when the client opened it), after pending publishes. */
  async close(): Promise<void> {
    this.#notices.close();
    this.#ingests.close();
    if (this.#ownsConnection) await this.#nc.drain();
  }

  /** A request of this client's tenant (every operation an agent calls is tenant-scoped). */
  #call<O extends RequestOperation>(operation: O, body: Body<O['request']>, timeoutMs?: number) {
    return call(this.#nc, operation, this.tenant as TenantOf<O>, body, {
      timeoutMs: timeoutMs ?? this.#timeoutMs,
    });
  }

  /** {@link #call}, the reply without its version. */
  async #reply<O extends RequestOperation>(
    operation: O,
    body: Body<O['request']>,
    timeoutMs?: number,
  ): Promise<Omit<z.output<O['reply']>, 'v'>> {
    // Every reply schema has `v` (a version-1 message); what is left is the reply proper.
    const { v: _v, ...reply } = (await this.#call(operation, body, timeoutMs)) as { v: 1 };
    return reply as Omit<z.output<O['reply']>, 'v'>;
  }

  /** The timeout of a lifecycle run (compact, audit): the caller's, or at least a minute. */
  #longTimeout(options: { timeoutMs?: number }): number {
    return options.timeoutMs ?? Math.max(this.#timeoutMs, 60_000);
  }

  // ---------------------------------------------------------------- ingest policy (embedder)

  /** The tenant's ingest policy (version 0 and no policy while it has none), or a past version. */
  async policy(version?: number): Promise<Omit<PolicyGetReply, 'v'>> {
    return this.#reply(Operations.policyGet, version === undefined ? {} : { version });
  }

  /**
   * Replaces the ingest policy, as version `expectedVersion + 1`; CONFLICT when the current
   * version is not `expectedVersion` (someone changed it meanwhile: read, merge, retry).
   */
  async putPolicy(
    policy: IngestPolicyInput,
    options: { expectedVersion: number },
  ): Promise<Omit<PolicyPutReply, 'v'>> {
    return this.#reply(Operations.policyPut, { policy, expectedVersion: options.expectedVersion });
  }

  /** The ingest policy's versions, newest first (`before` pages back). */
  async policyHistory(
    input: Omit<PolicyHistoryRequestInput, 'v'> = {},
  ): Promise<Omit<PolicyHistoryReply, 'v'>> {
    return this.#reply(Operations.policyHistory, input);
  }

  // ---------------------------------------------------------------- lifecycle (compactor)

  /**
   * Ends a session: the compactor compacts its memories into one summary (durable; resolves
   * once JetStream holds the message). Ending a session twice compacts it once: the compactor
   * is idempotent per session. No JetStream de-duplication id is sent: a predictable one could
   * be published first by someone else and this end would be dropped (decision 006).
   */
  async endSession(sessionId: string): Promise<void> {
    await publishOperation(
      this.#js,
      Operations.sessionEnd,
      this.tenant,
      { sessionId, endedAt: new Date().toISOString() },
      { timeoutMs: this.#timeoutMs },
    );
  }

  /** Compacts a session and/or runs sweeps now; `dryRun` reports without changing anything. */
  async compact(
    input: Omit<CompactRequestInput, 'v'>,
    options: { timeoutMs?: number } = {},
  ): Promise<Omit<CompactReply, 'v'>> {
    return this.#reply(Operations.compact, input, this.#longTimeout(options));
  }

  /** Quality audit: counts, near duplicates, stale memories and recommendations. */
  async audit(
    input: Omit<AuditRequestInput, 'v'> = {},
    options: { timeoutMs?: number } = {},
  ): Promise<Omit<AuditReply, 'v'>> {
    return this.#reply(Operations.audit, input, this.#longTimeout(options));
  }

  // ---------------------------------------------------------------- outcomes and patterns (pattern-extractor)

  /**
   * Records a task outcome durably (resolves once JetStream holds it). The pattern-extractor
   * learns from it and stores it as a memory (kind `outcome`, id = outcome id). Recording the
   * same `id` again changes nothing, so a retry is safe.
   */
  async recordOutcome(input: RecordOutcomeInput): Promise<{ id: string }> {
    const message = {
      ...input,
      v: 1 as const,
      id: input.id ?? uuidv7(),
      occurredAt: input.occurredAt ?? new Date().toISOString(),
    };
    const checked = validate(OutcomeSchema, message);
    if (!checked.ok) throw checked.error;
    // No JetStream de-duplication id: the extractor is idempotent by outcome id, and a
    // deliberate re-publish (a replay) must reach it.
    await publishOperation(this.#js, Operations.outcome, this.tenant, message, {
      timeoutMs: this.#timeoutMs,
    });
    return { id: message.id };
  }

  /** Ranked workflow patterns (and failure signatures) of a task type, best first. */
  async patterns(input: PatternsInput = {}): Promise<Omit<PatternsReply, 'v'>> {
    return this.#reply(Operations.patterns, input);
  }

  /** The best workflow (step sequence, or config with `variantKind: 'config'`) for an objective. */
  async bestWorkflow(
    taskType: string,
    options: BestWorkflowOptions = {},
  ): Promise<WorkflowPattern | undefined> {
    const { variantKind = 'steps', ...rest } = options;
    const reply = await this.patterns({
      ...rest,
      taskType,
      variantKinds: [variantKind],
      limit: 1,
      includeFailures: false,
    });
    return reply.patterns[0];
  }

  /** Executions, successes, success rate, duration and cost per task type, and overall. */
  async taskMetrics(input: TaskMetricsInput = {}): Promise<Omit<MetricsReply, 'v'>> {
    return this.#reply(Operations.metrics, input);
  }

  /** Failed outcomes grouped by normalised error signature, most frequent first. */
  async failurePatterns(
    taskType?: string,
    options: { namespace?: string; limit?: number } = {},
  ): Promise<FailurePattern[]> {
    const reply = await this.patterns({
      ...options,
      ...(taskType !== undefined ? { taskType } : {}),
      variantKinds: ['steps'],
      limit: options.limit ?? 20,
    });
    return reply.failures;
  }
}
