/**
 * The MCP tools: each one a contract operation seen through `@membus/client`. A tool's input is
 * a pick of its operation's request (or message) schema in `@membus/contracts`, never a copy:
 * the zod fields validate the arguments, and the published JSON Schema is the contract's own
 * (`operationJsonSchemas()`) for the same fields, so a change of the contract is a change here.
 */
import {
  DeleteRequestSchema,
  HistoryRequestSchema,
  ListRequestSchema,
  OutcomeSchema,
  PatternsRequestSchema,
  QueryRequestSchema,
  StatsRequestSchema,
  StoreMemorySchema,
} from '@membus/contracts';
import { z } from 'zod';
import {
  contractFields,
  defineTool,
  describeMemory,
  type MembusTool,
  numberedList,
  percent,
  readOnly,
  writes,
} from './tool.ts';

const searchMemory = defineTool({
  name: 'search_memory',
  title: 'Search memory',
  description:
    'Find memories relevant to a text (hybrid semantic + keyword search), best first. Narrow ' +
    'with filter: userId, agentId, sessionId, namespace, kinds, tiers, categories/tags ' +
    '({any}/{all}), a metadata condition ({field, op, value} with and/or/not), createdAt range.',
  operation: 'query',
  input: z.strictObject({
    // Required here: a model searches by text (the contract also takes a vector instead).
    text: QueryRequestSchema.shape.text.unwrap(),
    ...contractFields(QueryRequestSchema, [
      'filter',
      'topK',
      'minScore',
      'mode',
      'weights',
      'recencyHalfLifeHours',
    ]),
  }),
  annotations: readOnly,
  async run(client, args) {
    const result = await client.query(args);
    const omitted = result.truncated ? `\n(${result.omitted} more hits left out: reply size)` : '';
    return {
      text: numberedList(
        result.hits.map(
          (hit) =>
            `[score ${hit.score.toFixed(3)}] ${hit.memory.text}\n   ${describeMemory(hit.memory)}`,
        ),
        {
          empty: 'No memories found.',
          heading: `Found ${result.hits.length} memories`,
          after: omitted,
        },
      ),
      structured: { ...result },
    };
  },
});

const saveToMemory = defineTool({
  name: 'save_to_memory',
  title: 'Save to memory',
  description:
    'Remember a fact, episode, preference or outcome. Returns once the memory can be found by ' +
    'search_memory. Scope defaults to the most specific owner given (sessionId, agentId, ' +
    'userId), else app-wide; an exact duplicate is merged into the memory that has it.',
  operation: 'store',
  input: z.strictObject(
    contractFields(StoreMemorySchema, [
      'text',
      'kind',
      'scope',
      'userId',
      'agentId',
      'sessionId',
      'namespace',
      'metadata',
      'categories',
      'tags',
      'importance',
      'tier',
      'expiresAt',
      'ttlSeconds',
      'createdAt',
      'mergeSimilar',
    ]),
  ),
  annotations: writes({ destructive: false, idempotent: false }),
  async run(client, args) {
    // Read-your-writes: a model that saves and then searches finds what it saved.
    const result = await client.store(args, { wait: 'queryable' });
    const text =
      result.status === 'stored'
        ? `Saved memory ${result.id}.`
        : `Already remembered: ${result.status} into memory ${result.memoryId}.`;
    return { text, structured: { ...result } };
  },
});

const getMemoryStats = defineTool({
  name: 'get_memory_stats',
  title: 'Memory statistics',
  description:
    'Count live memories (optionally only those matching filter): total, by scope, kind, tier, ' +
    'namespace and category, oldest and newest.',
  operation: 'stats',
  input: z.strictObject(contractFields(StatsRequestSchema, ['filter'])),
  annotations: readOnly,
  async run(client, args) {
    const stats = await client.stats(args.filter);
    const counts = (name: string, record: Record<string, number>) => {
      const entries = Object.entries(record);
      return entries.length === 0
        ? undefined
        : `${name}: ${entries.map(([key, count]) => `${key} ${count}`).join(', ')}`;
    };
    const text = [
      `${stats.total} memories.`,
      counts('By scope', stats.byScope),
      counts('By kind', stats.byKind),
      counts('By tier', stats.byTier),
      counts('By namespace', stats.byNamespace),
      counts('By category', stats.byCategory),
      stats.oldest && `Oldest ${stats.oldest}, newest ${stats.newest}.`,
    ]
      .filter(Boolean)
      .join('\n');
    return { text, structured: { ...stats } };
  },
});

const listMemories = defineTool({
  name: 'list_memories',
  title: 'List memories',
  description:
    'One page of memories matching filter, newest first. Pass the returned nextCursor as ' +
    'cursor for the next page.',
  operation: 'list',
  input: z.strictObject(contractFields(ListRequestSchema, ['filter', 'limit', 'cursor'])),
  annotations: readOnly,
  async run(client, args) {
    const page = await client.list(args);
    const more = page.nextCursor ? `\nMore: call again with cursor "${page.nextCursor}".` : '';
    return {
      text: numberedList(
        page.memories.map((memory) => `${memory.text}\n   ${describeMemory(memory)}`),
        { empty: 'No memories.', heading: `${page.memories.length} memories`, after: more },
      ),
      structured: { ...page },
    };
  },
});

const deleteMemory = defineTool({
  name: 'delete_memory',
  title: 'Delete memories',
  description:
    'Delete memories by id (the history keeps a DELETE entry). Ids that do not exist are ' +
    'reported as not deleted.',
  operation: 'delete',
  // By id only: a model deleting by filter could wipe a whole namespace with one call.
  input: z.strictObject({ ids: DeleteRequestSchema.shape.ids.unwrap() }),
  annotations: writes({ destructive: true, idempotent: true }),
  async run(client, args) {
    const deleted = await client.delete(args.ids);
    const notDeleted = args.ids.filter((id) => !deleted.includes(id));
    const text = [
      deleted.length > 0 ? `Deleted ${deleted.join(', ')}.` : 'Nothing deleted.',
      notDeleted.length > 0 && `No memory (or already deleted): ${notDeleted.join(', ')}.`,
    ]
      .filter(Boolean)
      .join('\n');
    return { text, structured: { deleted, notDeleted } };
  },
});

const memoryHistory = defineTool({
  name: 'memory_history',
  title: 'Memory history',
  description:
    "A memory's history, oldest first: ADD, DUPLICATE, UPDATE, DELETE, EXPIRE and MERGE " +
    'entries with the text before and after.',
  operation: 'history',
  input: z.strictObject(contractFields(HistoryRequestSchema, ['id'])),
  annotations: readOnly,
  async run(client, args) {
    const entries = await client.history(args.id);
    const lines = entries.map(
      (entry) =>
        `${entry.at} ${entry.event}${entry.text !== undefined ? `: ${entry.text}` : ''}` +
        `${entry.previousText !== undefined ? ` (was: ${entry.previousText})` : ''}`,
    );
    return {
      text: entries.length === 0 ? `No history for ${args.id}.` : lines.join('\n'),
      structured: { id: args.id, entries },
    };
  },
});

const recordOutcome = defineTool({
  name: 'record_outcome',
  title: 'Record a task outcome',
  description:
    'Record how a task went (success, steps, config, duration, cost, error) so best_workflow ' +
    'can learn which workflow works. taskType is inferred from request when absent. Recording ' +
    'the same id again changes nothing.',
  operation: 'outcome',
  input: z.strictObject({
    ...contractFields(OutcomeSchema, [
      'taskType',
      'request',
      'namespace',
      'agentId',
      'userId',
      'sessionId',
      'success',
      'durationMs',
      'cost',
      'steps',
      'config',
      'error',
      'metadata',
    ]),
    // Filled in by the client when absent (a new UUIDv7; now).
    id: OutcomeSchema.shape.id.optional(),
    occurredAt: OutcomeSchema.shape.occurredAt.optional(),
  }),
  annotations: writes({ destructive: false, idempotent: true }),
  async run(client, args) {
    const { id } = await client.recordOutcome(args);
    return {
      text: `Recorded outcome ${id} (${args.success ? 'success' : 'failure'}${args.taskType ? `, task type ${args.taskType}` : ''}).`,
      structured: { id },
    };
  },
});

const bestWorkflow = defineTool({
  name: 'best_workflow',
  title: 'Best workflow',
  description:
    'The workflows that worked best for a task type (from recorded outcomes), ranked by ' +
    'objective (success_rate, duration or cost), and the failures to avoid. Give taskType, or ' +
    'request to infer it.',
  operation: 'patterns',
  input: z.strictObject(
    contractFields(PatternsRequestSchema, [
      'taskType',
      'request',
      'namespace',
      'objective',
      'minSupport',
      'minSuccessRate',
      'variantKinds',
    ]),
  ),
  annotations: readOnly,
  async run(client, args) {
    const reply = await client.patterns({ ...args, limit: 3, includeFailures: true });
    const [best, ...others] = reply.patterns;
    const describe = (pattern: (typeof reply.patterns)[number]) =>
      `${pattern.signature} (${pattern.kind}): ${pattern.successes}/${pattern.support} succeeded (${percent(pattern.successRate)})` +
      `${pattern.successDurationAvgMs !== undefined ? `, ${(pattern.successDurationAvgMs / 1000).toFixed(1)} s on average` : ''}` +
      `${pattern.costPerSuccess !== undefined ? `, cost ${pattern.costPerSuccess.toFixed(2)} per success` : ''}`;
    const subject = reply.taskType
      ? `task type ${reply.taskType}${reply.inferred ? ' (inferred)' : ''}`
      : 'all task types';
    const text = [
      best
        ? `Best workflow for ${subject}: ${describe(best)}.`
        : `No workflow recorded for ${subject} yet.`,
      ...others.map((pattern) => `Also: ${describe(pattern)}.`),
      ...reply.failures.map(
        (failure) =>
          `Avoid: "${failure.signature}" (${failure.count} failures; e.g. ${failure.example})` +
          `${failure.avoidedBy ? `; ${failure.avoidedBy.signature} never hit it` : ''}.`,
      ),
    ].join('\n');
    return { text, structured: { best: best ?? null, ...reply } };
  },
});

/** Every tool, in the order tools/list shows them. */
export const tools: readonly MembusTool[] = [
  searchMemory,
  saveToMemory,
  getMemoryStats,
  listMemories,
  deleteMemory,
  memoryHistory,
  recordOutcome,
  bestWorkflow,
];
