import { type Body, call, type TenantOf, validate } from '@membus/bus';
import type { MemoryClient, StoreInput } from '@membus/client';
import {
  Limits,
  MembusError,
  type OperationKey,
  Operations,
  type RequestOperation,
} from '@membus/contracts';
import { type JsonSchema, propertySchema, replySchema, requestSchema } from './schemas.ts';

/** What a route handler works with: the caller's tenant and its own client, the request. */
export interface RouteContext {
  /** The tenant the API key belongs to. */
  tenant: string;
  /** A client connected as that tenant's agent user. */
  client: MemoryClient;
  body: unknown;
  params: Record<string, string>;
  query: Record<string, string | undefined>;
  timeouts: { requestMs: number; queryableMs: number; lifecycleMs: number };
}

/** What a handler answers: a status (the route's `status` when absent) and a JSON body. */
export interface RouteReply {
  status?: number;
  body: unknown;
}

/** A query or path parameter, as OpenAPI describes it. */
export interface Parameter {
  name: string;
  in: 'path' | 'query';
  required?: boolean;
  description: string;
  schema: JsonSchema;
}

/** One HTTP route: which operation it serves, its schemas (from the contract), its handler. */
export interface Route {
  operationId: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** OpenAPI path template, e.g. `/v1/memories/{id}`. */
  path: string;
  /** The contract operation it serves (`x-membus-operation` in the document). */
  operation: OperationKey;
  summary: string;
  /** The success status. */
  status: number;
  parameters?: Parameter[];
  /** The request body (absent: the route takes none). */
  requestBody?: { schema: JsonSchema; required: boolean };
  /** The success body. */
  response: JsonSchema;
  /** Statuses besides 400/401/413/503/504 this route answers with an error body. */
  errors?: number[];
  handle(context: RouteContext): Promise<RouteReply>;
}

/**
 * Tenant-facing operations (agents: `call` or `receive`) the HTTP API deliberately does not
 * serve, and why. A test fails when an agent-facing operation has neither a route nor a line here.
 */
export const notExposed: Partial<Record<OperationKey, string>> = {
  policyGet:
    'the ingest policy is tenant administration, changed over NATS (`membus policy`, the clients), not by API keys meant for agents',
  policyPut:
    'the ingest policy is tenant administration, changed over NATS (`membus policy`, the clients), not by API keys meant for agents',
  policyHistory:
    'the ingest policy is tenant administration, changed over NATS (`membus policy`, the clients), not by API keys meant for agents',
  notice:
    'a store notice goes to the caller that waits for it: `POST /v1/memories?wait=queryable` waits on it for the HTTP caller',
  compacted:
    'an open-ended event stream cannot be bounded in one HTTP reply; `POST /v1/compact` answers with the same report',
  ingest:
    'not served over HTTP yet (decision 010): ingest through the TypeScript or Python client; `POST /v1/memories` stores raw text',
  extracted:
    'an extraction notice goes to the NATS caller that waits for it (`wait: extracted`); ingest is not served over HTTP yet',
  watch:
    'a change feed is an open-ended stream over NATS (decision 008): `watch()` of the TypeScript or Python client; HTTP callers use webhooks',
  feed: 'the change feed itself: an open-ended event stream cannot be bounded in one HTTP reply',
};

const uuidSchema = { type: 'string', format: 'uuid' } as const;
const idParameter: Parameter = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'The memory id (UUID).',
  schema: uuidSchema,
};
const waitParameter: Parameter = {
  name: 'wait',
  in: 'query',
  description:
    '`accepted` (default): answer 202 once JetStream holds the store. `queryable`: answer 201 once it can be found (read-your-writes).',
  schema: { type: 'string', enum: ['accepted', 'queryable'] },
};
const cursorParameter: Parameter = {
  name: 'cursor',
  in: 'query',
  description: 'The `nextCursor` of the previous page.',
  schema: { type: 'string', minLength: 1 },
};

/** The result of a store, as the client reports it (the gateway's own reply: a store is a publish). */
const storeResultSchema: JsonSchema = {
  type: 'object',
  properties: {
    id: { ...uuidSchema, description: 'The id the memory was stored with.' },
    status: {
      type: 'string',
      enum: ['stored', 'duplicate', 'merged'],
      description: 'With `wait=queryable`: what the store did.',
    },
    memoryId: {
      ...uuidSchema,
      description: 'With `wait=queryable`: the memory that holds the content.',
    },
  },
  required: ['id'],
  additionalProperties: false,
};

/** An object body, or `{}` for none; anything else is refused. */
function objectBody(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body))
    throw new MembusError('INVALID_MESSAGE', 'the request body must be a JSON object');
  return body as Record<string, unknown>;
}

/** Leaves out the transport's `v` of a reply (the HTTP document is versioned by its path). */
function withoutVersion(reply: object): Record<string, unknown> {
  const { v: _v, ...rest } = reply as Record<string, unknown>;
  return rest;
}

/**
 * Calls a request operation as the caller's tenant: the body validated by the operation's
 * request schema (a 400 names the fields), the reply by its reply schema.
 */
async function callOperation<O extends RequestOperation>(
  context: RouteContext,
  operation: O,
  body: Record<string, unknown>,
  timeoutMs = context.timeouts.requestMs,
): Promise<Record<string, unknown>> {
  const checked = validate(operation.request, { ...body, v: 1 });
  if (!checked.ok) throw checked.error;
  const reply = await call(
    context.client.connection,
    operation,
    context.tenant as TenantOf<O>,
    { ...body } as Body<O['request']>,
    { timeoutMs },
  );
  return withoutVersion(reply as object);
}

/**
 * Stores through the tenant's client (its ids, its `membus-notify` wait for `queryable`); the
 * client validates each input with the contract's store schema.
 */
async function store(
  context: RouteContext,
  inputs: Record<string, unknown>[],
): Promise<{ queryable: boolean; results: object[] }> {
  const wait = context.query.wait ?? 'accepted';
  if (wait !== 'accepted' && wait !== 'queryable')
    throw new MembusError('INVALID_MESSAGE', 'wait must be `accepted` or `queryable`', {
      details: { path: 'wait' },
    });
  const queryable = wait === 'queryable';
  const results = await context.client.storeMany(inputs as StoreInput[], {
    wait,
    timeoutMs: context.timeouts.queryableMs,
  });
  return { queryable, results };
}

/** A comma-separated query value as a list (absent: undefined). */
function list(value: string | undefined): string[] | undefined {
  return value === undefined
    ? undefined
    : value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean);
}

/** A query value as an integer when it is one (else as given, so the schema refuses it). */
function integer(value: string | undefined): number | string | undefined {
  return value !== undefined && /^\d{1,9}$/.test(value) ? Number(value) : value;
}

/** Drops undefined values: an absent query parameter is an absent field, not `undefined`. */
function defined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}

const listFilterParameters: Parameter[] = [
  ['namespace', 'Only this namespace.'],
  ['userId', 'Only this user’s memories.'],
  ['agentId', 'Only this agent’s memories.'],
  ['sessionId', 'Only this session’s memories.'],
  ['scope', 'Only these scopes (comma-separated: app, user, agent, session).'],
  ['kind', 'Only these kinds (comma-separated).'],
  ['tier', 'Only these tiers (comma-separated: short, mid, long).'],
  ['tag', 'Memories with any of these tags (comma-separated).'],
  ['category', 'Memories in any of these categories (comma-separated).'],
].map(([name, description]) => ({
  name: name as string,
  in: 'query' as const,
  description: description as string,
  schema: { type: 'string' },
}));

/** Every route of the HTTP API, versioned under `/v1`. */
export const routes: readonly Route[] = [
  {
    operationId: 'storeMemory',
    method: 'POST',
    path: '/v1/memories',
    operation: 'store',
    summary: 'Store a memory (durable once answered; `wait=queryable` for read-your-writes).',
    status: 202,
    parameters: [waitParameter],
    requestBody: { schema: requestSchema('store', { optional: ['id'] }), required: true },
    response: storeResultSchema,
    errors: [409],
    async handle(context) {
      const { queryable, results } = await store(context, [objectBody(context.body)]);
      return { status: queryable ? 201 : 202, body: results[0] };
    },
  },
  {
    operationId: 'storeMemories',
    method: 'POST',
    path: '/v1/memories/batch',
    operation: 'store',
    summary: `Store up to ${Limits.batchSize} memories; results in input order.`,
    status: 202,
    parameters: [waitParameter],
    requestBody: {
      schema: {
        type: 'object',
        properties: {
          memories: {
            type: 'array',
            minItems: 1,
            maxItems: Limits.batchSize,
            items: requestSchema('store', { optional: ['id'] }),
          },
        },
        required: ['memories'],
        additionalProperties: false,
      },
      required: true,
    },
    response: {
      type: 'object',
      properties: { results: { type: 'array', items: storeResultSchema } },
      required: ['results'],
      additionalProperties: false,
    },
    errors: [409],
    async handle(context) {
      const { memories } = objectBody(context.body);
      if (!Array.isArray(memories) || memories.length === 0)
        throw new MembusError('INVALID_MESSAGE', '`memories` must be a non-empty array', {
          details: { path: 'memories' },
        });
      const { queryable, results } = await store(context, memories.map(objectBody));
      return { status: queryable ? 201 : 202, body: { results } };
    },
  },
  {
    operationId: 'searchMemories',
    method: 'POST',
    path: '/v1/memories/search',
    operation: 'query',
    summary: 'Semantic, keyword or hybrid search, ranked.',
    status: 200,
    requestBody: { schema: requestSchema('query'), required: true },
    response: replySchema('query'),
    handle: async (context) => ({
      body: await callOperation(context, Operations.query, objectBody(context.body)),
    }),
  },
  {
    operationId: 'getMemory',
    method: 'GET',
    path: '/v1/memories/{id}',
    operation: 'get',
    summary: 'One memory by id (404 when it does not exist, expired, or is another tenant’s).',
    status: 200,
    parameters: [idParameter],
    response: propertySchema(replySchema('get'), 'memories', '[]'),
    errors: [404],
    async handle(context) {
      const reply = await callOperation(context, Operations.get, { ids: [context.params.id] });
      const [memory] = reply.memories as unknown[];
      if (memory === undefined)
        throw new MembusError('NOT_FOUND', `memory ${context.params.id} not found`);
      return { body: memory };
    },
  },
  {
    operationId: 'getMemories',
    method: 'POST',
    path: '/v1/memories/get',
    operation: 'get',
    summary: 'Memories by id; what does not fit one reply is listed as `pending`.',
    status: 200,
    requestBody: { schema: requestSchema('get'), required: true },
    response: replySchema('get'),
    handle: async (context) => ({
      body: await callOperation(context, Operations.get, objectBody(context.body)),
    }),
  },
  {
    operationId: 'listMemories',
    method: 'GET',
    path: '/v1/memories',
    operation: 'list',
    summary: 'One page of memories, newest first; pass `nextCursor` back as `cursor`.',
    status: 200,
    parameters: [
      {
        name: 'limit',
        in: 'query',
        description: 'Memories per page (fewer when they pass the reply size bound).',
        schema: { type: 'integer', minimum: 1 },
      },
      cursorParameter,
      ...listFilterParameters,
    ],
    response: replySchema('list'),
    async handle(context) {
      const query = context.query;
      const tags = list(query.tag);
      const categories = list(query.category);
      const filter = defined({
        namespace: query.namespace,
        userId: query.userId,
        agentId: query.agentId,
        sessionId: query.sessionId,
        scopes: list(query.scope),
        kinds: list(query.kind),
        tiers: list(query.tier),
        tags: tags ? { any: tags } : undefined,
        categories: categories ? { any: categories } : undefined,
      });
      const body = defined({
        limit: integer(query.limit),
        cursor: query.cursor,
        filter: Object.keys(filter).length > 0 ? filter : undefined,
      });
      return { body: await callOperation(context, Operations.list, body) };
    },
  },
  {
    operationId: 'listMemoriesByFilter',
    method: 'POST',
    path: '/v1/memories/list',
    operation: 'list',
    summary: 'One page of memories matching any filter of the contract (metadata, time ranges).',
    status: 200,
    requestBody: { schema: requestSchema('list'), required: false },
    response: replySchema('list'),
    handle: async (context) => ({
      body: await callOperation(context, Operations.list, objectBody(context.body)),
    }),
  },
  {
    operationId: 'updateMemory',
    method: 'PATCH',
    path: '/v1/memories/{id}',
    operation: 'update',
    summary: 'Change a memory; new text is re-embedded.',
    status: 200,
    parameters: [idParameter],
    requestBody: { schema: requestSchema('update', { omit: ['id'] }), required: true },
    response: replySchema('update'),
    errors: [404, 409],
    handle: async (context) => ({
      body: await callOperation(context, Operations.update, {
        ...objectBody(context.body),
        id: context.params.id,
      }),
    }),
  },
  {
    operationId: 'deleteMemory',
    method: 'DELETE',
    path: '/v1/memories/{id}',
    operation: 'delete',
    summary: 'Delete one memory (404 when there is none of that id).',
    status: 200,
    parameters: [idParameter],
    response: replySchema('delete'),
    errors: [404],
    async handle(context) {
      const reply = await callOperation(context, Operations.delete, { ids: [context.params.id] });
      if (reply.deleted === 0)
        throw new MembusError('NOT_FOUND', `memory ${context.params.id} not found`);
      return { body: reply };
    },
  },
  {
    operationId: 'deleteMemories',
    method: 'POST',
    path: '/v1/memories/delete',
    operation: 'delete',
    summary: 'Delete memories by ids or by a non-empty filter.',
    status: 200,
    requestBody: { schema: requestSchema('delete'), required: true },
    response: replySchema('delete'),
    handle: async (context) => ({
      body: await callOperation(context, Operations.delete, objectBody(context.body)),
    }),
  },
  {
    operationId: 'updateMemories',
    method: 'POST',
    path: '/v1/memories/update',
    operation: 'batchUpdate',
    summary:
      'Change memories by ids or by a non-empty filter (one page a request: send `nextCursor` back as `cursor`).',
    status: 200,
    requestBody: { schema: requestSchema('batchUpdate'), required: true },
    response: replySchema('batchUpdate'),
    handle: async (context) => ({
      body: await callOperation(
        context,
        Operations.batchUpdate,
        objectBody(context.body),
        context.timeouts.lifecycleMs,
      ),
    }),
  },
  {
    operationId: 'exportMemories',
    method: 'POST',
    path: '/v1/export',
    operation: 'export',
    summary:
      'One page of export lines (docs/export-format.md), newest first; `nextCursor` continues.',
    status: 200,
    requestBody: { schema: requestSchema('export'), required: false },
    response: replySchema('export'),
    handle: async (context) => ({
      body: await callOperation(context, Operations.export, objectBody(context.body)),
    }),
  },
  {
    operationId: 'importMemories',
    method: 'POST',
    path: '/v1/import',
    operation: 'import',
    summary:
      'Write export lines exactly (ids kept; a line imported twice is one memory); one result per line.',
    status: 200,
    requestBody: { schema: requestSchema('import'), required: true },
    response: replySchema('import'),
    handle: async (context) => ({
      body: await callOperation(
        context,
        Operations.import,
        objectBody(context.body),
        context.timeouts.lifecycleMs,
      ),
    }),
  },
  {
    operationId: 'memoryHistory',
    method: 'GET',
    path: '/v1/memories/{id}/history',
    operation: 'history',
    summary: 'A memory’s history, oldest first, one page at a time.',
    status: 200,
    parameters: [idParameter, cursorParameter],
    response: replySchema('history'),
    errors: [404],
    async handle(context) {
      const reply = await callOperation(
        context,
        Operations.history,
        defined({ id: context.params.id, cursor: context.query.cursor }),
      );
      if (context.query.cursor === undefined && (reply.entries as unknown[]).length === 0)
        throw new MembusError('NOT_FOUND', `memory ${context.params.id} has no history`);
      return { body: reply };
    },
  },
  {
    operationId: 'memoryStats',
    method: 'GET',
    path: '/v1/stats',
    operation: 'stats',
    summary: 'Counts of the tenant’s live memories.',
    status: 200,
    response: replySchema('stats'),
    handle: async (context) => ({ body: await callOperation(context, Operations.stats, {}) }),
  },
  {
    operationId: 'memoryStatsByFilter',
    method: 'POST',
    path: '/v1/stats',
    operation: 'stats',
    summary: 'Counts of live memories matching a filter.',
    status: 200,
    requestBody: { schema: requestSchema('stats'), required: false },
    response: replySchema('stats'),
    handle: async (context) => ({
      body: await callOperation(context, Operations.stats, objectBody(context.body)),
    }),
  },
  {
    operationId: 'recordOutcome',
    method: 'POST',
    path: '/v1/outcomes',
    operation: 'outcome',
    summary: 'Record a task outcome (durable once answered); recording an id again is a no-op.',
    status: 202,
    requestBody: {
      schema: requestSchema('outcome', { optional: ['id', 'occurredAt'] }),
      required: true,
    },
    response: {
      type: 'object',
      properties: { id: { ...uuidSchema, description: 'The outcome id.' } },
      required: ['id'],
      additionalProperties: false,
    },
    handle: async (context) => ({
      body: await context.client.recordOutcome(
        objectBody(context.body) as unknown as Parameters<MemoryClient['recordOutcome']>[0],
      ),
    }),
  },
  {
    operationId: 'patterns',
    method: 'POST',
    path: '/v1/patterns',
    operation: 'patterns',
    summary: 'Ranked workflow patterns and failure signatures of a task type.',
    status: 200,
    requestBody: { schema: requestSchema('patterns'), required: false },
    response: replySchema('patterns'),
    handle: async (context) => ({
      body: await callOperation(context, Operations.patterns, objectBody(context.body)),
    }),
  },
  {
    operationId: 'bestWorkflow',
    method: 'GET',
    path: '/v1/patterns/best-workflow',
    operation: 'patterns',
    summary: 'The best workflow of a task type for an objective (`pattern` is null when none).',
    status: 200,
    parameters: [
      {
        name: 'taskType',
        in: 'query',
        required: true,
        description: 'The task type.',
        schema: { type: 'string' },
      },
      {
        name: 'objective',
        in: 'query',
        description: '`success_rate` (default), `duration` or `cost`.',
        schema: { type: 'string' },
      },
      {
        name: 'variantKind',
        in: 'query',
        description: '`steps` (default) or `config`.',
        schema: { type: 'string' },
      },
      {
        name: 'namespace',
        in: 'query',
        description: 'Only this namespace.',
        schema: { type: 'string' },
      },
    ],
    response: {
      type: 'object',
      properties: {
        pattern: {
          anyOf: [propertySchema(replySchema('patterns'), 'patterns', '[]'), { type: 'null' }],
        },
      },
      required: ['pattern'],
      additionalProperties: false,
    },
    async handle(context) {
      const query = context.query;
      const reply = await callOperation(
        context,
        Operations.patterns,
        defined({
          taskType: query.taskType,
          objective: query.objective,
          namespace: query.namespace,
          variantKinds: [query.variantKind ?? 'steps'],
          limit: 1,
          includeFailures: false,
        }),
      );
      return { body: { pattern: (reply.patterns as unknown[])[0] ?? null } };
    },
  },
  {
    operationId: 'taskMetrics',
    method: 'POST',
    path: '/v1/task-metrics',
    operation: 'metrics',
    summary: 'Executions, success rate, duration and cost per task type, and overall.',
    status: 200,
    requestBody: { schema: requestSchema('metrics'), required: false },
    response: replySchema('metrics'),
    handle: async (context) => ({
      body: await callOperation(context, Operations.metrics, objectBody(context.body)),
    }),
  },
  {
    operationId: 'endSession',
    method: 'POST',
    path: '/v1/sessions/{sessionId}/end',
    operation: 'sessionEnd',
    summary: 'End a session (durable once answered); the compactor compacts it.',
    status: 202,
    parameters: [
      {
        name: 'sessionId',
        in: 'path',
        required: true,
        description: 'The session id.',
        schema: propertySchema(requestSchema('sessionEnd'), 'sessionId'),
      },
    ],
    response: {
      type: 'object',
      properties: { sessionId: propertySchema(requestSchema('sessionEnd'), 'sessionId') },
      required: ['sessionId'],
      additionalProperties: false,
    },
    async handle(context) {
      const sessionId = context.params.sessionId as string;
      const checked = validate(Operations.sessionEnd.message, {
        v: 1,
        sessionId,
        endedAt: new Date().toISOString(),
      });
      if (!checked.ok) throw checked.error;
      await context.client.endSession(sessionId);
      return { body: { sessionId } };
    },
  },
  {
    operationId: 'compact',
    method: 'POST',
    path: '/v1/compact',
    operation: 'compact',
    summary: 'Compact a session and/or run maintenance sweeps now (`dryRun` reports only).',
    status: 200,
    requestBody: { schema: requestSchema('compact'), required: true },
    response: replySchema('compact'),
    handle: async (context) => ({
      body: await callOperation(
        context,
        Operations.compact,
        objectBody(context.body),
        context.timeouts.lifecycleMs,
      ),
    }),
  },
  {
    operationId: 'audit',
    method: 'POST',
    path: '/v1/audit',
    operation: 'audit',
    summary: 'Quality audit: counts, near duplicates, stale memories, advice.',
    status: 200,
    requestBody: { schema: requestSchema('audit'), required: false },
    response: replySchema('audit'),
    handle: async (context) => ({
      body: await callOperation(
        context,
        Operations.audit,
        objectBody(context.body),
        context.timeouts.lifecycleMs,
      ),
    }),
  },
];
