/**
 * The HTTP surface follows the contract: every tenant-facing operation has a route or a reason
 * not to, and the served OpenAPI document's schemas are the contract's own (so a change to an
 * operation's schema the gateway does not follow fails here), and it is a valid OpenAPI 3.1.
 */
import { type OperationKey, Operations, operationJsonSchemas } from '@membus/contracts';
import { compileErrors, validate } from '@readme/openapi-parser';
import { describe, expect, it } from 'vitest';
import { buildGateway, notExposed, openApiDocument, routes } from '../src/index.ts';

const contract = operationJsonSchemas();

/** The contract's schema as the HTTP body must carry it: written out here, not imported. */
function expectedBody(
  schema: Record<string, unknown> | undefined,
  omit: string[] = [],
  optional: string[] = [],
): Record<string, unknown> {
  const { $schema: _, required = [], properties = {}, ...rest } = structuredClone(schema ?? {});
  const drop = new Set(['v', ...omit]);
  const kept = (required as string[]).filter((name) => !drop.has(name) && !optional.includes(name));
  return {
    ...rest,
    properties: Object.fromEntries(
      Object.entries(properties as Record<string, unknown>).filter(([name]) => !drop.has(name)),
    ),
    ...(kept.length > 0 ? { required: kept } : {}),
  };
}

/** Each route's expected request and response schema, derived from the contract by hand. */
const expected: Record<string, { request?: unknown; response?: unknown }> = {
  storeMemory: { request: expectedBody(contract.store.message, [], ['id']) },
  searchMemories: {
    request: expectedBody(contract.query.request),
    response: expectedBody(contract.query.reply),
  },
  getMemory: {
    response: (expectedBody(contract.get.reply).properties as { memories: { items: unknown } })
      .memories.items,
  },
  getMemories: {
    request: expectedBody(contract.get.request),
    response: expectedBody(contract.get.reply),
  },
  listMemories: { response: expectedBody(contract.list.reply) },
  listMemoriesByFilter: {
    request: expectedBody(contract.list.request),
    response: expectedBody(contract.list.reply),
  },
  updateMemory: {
    request: expectedBody(contract.update.request, ['id']),
    response: expectedBody(contract.update.reply),
  },
  deleteMemory: { response: expectedBody(contract.delete.reply) },
  deleteMemories: {
    request: expectedBody(contract.delete.request),
    response: expectedBody(contract.delete.reply),
  },
  updateMemories: {
    request: expectedBody(contract.batchUpdate.request),
    response: expectedBody(contract.batchUpdate.reply),
  },
  exportMemories: {
    request: expectedBody(contract.export.request),
    response: expectedBody(contract.export.reply),
  },
  importMemories: {
    request: expectedBody(contract.import.request),
    response: expectedBody(contract.import.reply),
  },
  memoryHistory: { response: expectedBody(contract.history.reply) },
  memoryStats: { response: expectedBody(contract.stats.reply) },
  memoryStatsByFilter: {
    request: expectedBody(contract.stats.request),
    response: expectedBody(contract.stats.reply),
  },
  recordOutcome: { request: expectedBody(contract.outcome.message, [], ['id', 'occurredAt']) },
  patterns: {
    request: expectedBody(contract.patterns.request),
    response: expectedBody(contract.patterns.reply),
  },
  taskMetrics: {
    request: expectedBody(contract.metrics.request),
    response: expectedBody(contract.metrics.reply),
  },
  compact: {
    request: expectedBody(contract.compact.request),
    response: expectedBody(contract.compact.reply),
  },
  audit: {
    request: expectedBody(contract.audit.request),
    response: expectedBody(contract.audit.reply),
  },
};

async function servedDocument(): Promise<{
  paths: Record<string, Record<string, { operationId: string; 'x-membus-operation': string }>>;
  components: { schemas: Record<string, unknown> };
}> {
  const app = await buildGateway({
    keys: { find: async () => undefined },
    clients: {
      use: () => {
        throw new Error('no request reaches a tenant here');
      },
    },
    bodyLimitBytes: 1024,
    timeouts: { requestMs: 1, queryableMs: 1, lifecycleMs: 1 },
  });
  try {
    const response = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    return response.json();
  } finally {
    await app.close();
  }
}

describe('routes', () => {
  it('serve every tenant-facing operation, or say why not', () => {
    const tenantFacing = (Object.keys(Operations) as OperationKey[]).filter(
      (key) => Operations[key].agents !== 'none',
    );
    const served = new Set(routes.map((route) => route.operation));
    const unaccounted = tenantFacing.filter((key) => !served.has(key) && !(key in notExposed));
    expect(unaccounted).toEqual([]);
  });

  it('serve no membus-internal operation, and list only tenant-facing ones as not exposed', () => {
    expect(routes.filter((route) => Operations[route.operation].agents === 'none')).toEqual([]);
    expect(
      Object.keys(notExposed).filter((key) => Operations[key as OperationKey].agents === 'none'),
    ).toEqual([]);
    expect(
      Object.keys(notExposed).filter((key) => routes.some((r) => r.operation === key)),
    ).toEqual([]);
  });

  it('all live under /v1 with unique operation ids and method+path pairs', () => {
    expect(routes.filter((route) => !route.path.startsWith('/v1/'))).toEqual([]);
    const ids = routes.map((route) => route.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    const pairs = routes.map((route) => `${route.method} ${route.path}`);
    expect(new Set(pairs).size).toBe(pairs.length);
  });
});

describe('GET /openapi.json', () => {
  it('names the operation each route serves', async () => {
    const document = await servedDocument();
    const named = Object.values(document.paths).flatMap((methods) =>
      Object.values(methods).map((operation) => [
        operation.operationId,
        operation['x-membus-operation'],
      ]),
    );
    expect(named.sort()).toEqual(
      routes.map((route) => [route.operationId, Operations[route.operation].name]).sort(),
    );
  });

  it.each(Object.entries(expected))('serves the contract’s schemas for %s', async (id, schemas) => {
    const { components } = await servedDocument();
    if (schemas.request !== undefined)
      expect(components.schemas[`${id}Request`]).toEqual(schemas.request);
    if (schemas.response !== undefined)
      expect(components.schemas[`${id}Response`]).toEqual(schemas.response);
  });

  it('checks every route with a contract body or reply', () => {
    const checked = new Set(Object.keys(expected));
    // Routes whose bodies are the gateway's own (store results, best workflow, session end).
    const own = new Set(['storeMemories', 'bestWorkflow', 'endSession']);
    expect(
      routes.map((route) => route.operationId).filter((id) => !checked.has(id) && !own.has(id)),
    ).toEqual([]);
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    const document = await servedDocument();
    expect(document).toMatchObject({ openapi: '3.1.0' });
    const result = await validate(structuredClone(document) as never);
    expect(result.valid ? '' : compileErrors(result)).toBe('');
  });

  it('a schema change the document does not follow fails the comparison', () => {
    const document = openApiDocument(
      routes.map((route) =>
        route.operationId === 'searchMemories'
          ? { ...route, response: { ...route.response, required: ['hits'] } }
          : route,
      ),
      { version: 'test' },
    ) as { components: { schemas: Record<string, unknown> } };
    expect(document.components.schemas.searchMemoriesResponse).not.toEqual(
      expected.searchMemories?.response,
    );
  });
});
