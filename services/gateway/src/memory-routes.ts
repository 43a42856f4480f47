import type { StoreInput } from '@membus/client';
import { Limits, MembusError, Operations } from '@membus/contracts';
import {
  callOperation,
  defined,
  objectBody,
  type Parameter,
  queryParameter,
  type Route,
  type RouteContext,
  uuidSchema,
} from './route.ts';
import { type JsonSchema, propertySchema, replySchema, requestSchema } from './schemas.ts';

// The memory routes that shape an operation for HTTP: an id from the path, a filter from query
// parameters, a 404 for an empty answer, a store through the tenant's client (its ids, its wait
// for `queryable`). Every other route forwards its body as it is (`forward` in route.ts).

const idParameter: Parameter = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'The memory id (UUID).',
  schema: uuidSchema,
};
const waitParameter = queryParameter(
  'wait',
  '`accepted` (default): answer 202 once JetStream holds the store. `queryable`: answer 201 once it can be found (read-your-writes).',
  { schema: { type: 'string', enum: ['accepted', 'queryable'] } },
);
const cursorParameter = queryParameter('cursor', 'The `nextCursor` of the previous page.', {
  schema: { type: 'string', minLength: 1 },
});

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

/** The 404 of a route whose path names a memory (`{id}`) the reply shows is not there. */
function memoryNotFound(context: RouteContext, what: string): MembusError {
  return new MembusError('NOT_FOUND', `memory ${context.params.id} ${what}`);
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
].map(([name, description]) => queryParameter(name as string, description as string));

export const storeMemory: Route = {
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
};

export const storeMemories: Route = {
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
};

export const getMemory: Route = {
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
    if (memory === undefined) throw memoryNotFound(context, 'not found');
    return { body: memory };
  },
};

export const listMemories: Route = {
  operationId: 'listMemories',
  method: 'GET',
  path: '/v1/memories',
  operation: 'list',
  summary: 'One page of memories, newest first; pass `nextCursor` back as `cursor`.',
  status: 200,
  parameters: [
    queryParameter('limit', 'Memories per page (fewer when they pass the reply size bound).', {
      schema: { type: 'integer', minimum: 1 },
    }),
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
};

export const updateMemory: Route = {
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
};

export const deleteMemory: Route = {
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
    if (reply.deleted === 0) throw memoryNotFound(context, 'not found');
    return { body: reply };
  },
};

export const memoryHistory: Route = {
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
      throw memoryNotFound(context, 'has no history');
    return { body: reply };
  },
};

export const memoryStats: Route = {
  operationId: 'memoryStats',
  method: 'GET',
  path: '/v1/stats',
  operation: 'stats',
  summary: 'Counts of the tenant’s live memories.',
  status: 200,
  response: replySchema('stats'),
  handle: async (context) => ({ body: await callOperation(context, Operations.stats, {}) }),
};
