import { validate } from '@membus/bus';
import type { MemoryClient } from '@membus/client';
import { Operations } from '@membus/contracts';
import {
  callOperation,
  defined,
  objectBody,
  queryParameter,
  type Route,
  uuidSchema,
} from './route.ts';
import { propertySchema, replySchema, requestSchema } from './schemas.ts';

// The task routes that shape an operation for HTTP: an outcome recorded through the tenant's
// client, the best workflow from query parameters, a session's end from the path.

export const recordOutcome: Route = {
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
};

export const bestWorkflow: Route = {
  operationId: 'bestWorkflow',
  method: 'GET',
  path: '/v1/patterns/best-workflow',
  operation: 'patterns',
  summary: 'The best workflow of a task type for an objective (`pattern` is null when none).',
  status: 200,
  parameters: [
    queryParameter('taskType', 'The task type.', { required: true }),
    queryParameter('objective', '`success_rate` (default), `duration` or `cost`.'),
    queryParameter('variantKind', '`steps` (default) or `config`.'),
    queryParameter('namespace', 'Only this namespace.'),
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
};

export const endSession: Route = {
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
};
