/**
 * The MCP surface follows the contract: what an MCP client sees in tools/list is, field by
 * field, the contract's JSON Schema (`operationJsonSchemas()`), and no field the contract
 * requires is missing from a tool. A contract change the tools do not follow fails here.
 */
import type { MemoryClient } from '@membus/client';
import { type OperationKey, operationJsonSchemas } from '@membus/contracts';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createMcpServer, toolInputSchema, tools } from '../src/index.ts';
import { toolNames } from './tool-names.ts';

/**
 * Each tool's operation, the fields it takes, which it requires, and the contract's required
 * fields it fills in itself (written here, apart from the implementation, on purpose).
 */
const expected: Record<
  string,
  { operation: OperationKey; fields: string[]; required: string[]; filledIn: string[] }
> = {
  search_memory: {
    operation: 'query',
    fields: ['text', 'filter', 'topK', 'minScore', 'mode', 'weights', 'recencyHalfLifeHours'],
    required: ['text'],
    filledIn: ['v'],
  },
  save_to_memory: {
    operation: 'store',
    fields: [
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
    ],
    required: ['text'],
    filledIn: ['v', 'id'],
  },
  get_memory_stats: { operation: 'stats', fields: ['filter'], required: [], filledIn: ['v'] },
  list_memories: {
    operation: 'list',
    fields: ['filter', 'limit', 'cursor'],
    required: [],
    filledIn: ['v'],
  },
  delete_memory: { operation: 'delete', fields: ['ids'], required: ['ids'], filledIn: ['v'] },
  memory_history: { operation: 'history', fields: ['id'], required: ['id'], filledIn: ['v'] },
  record_outcome: {
    operation: 'outcome',
    fields: [
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
      'id',
      'occurredAt',
    ],
    required: ['success'],
    filledIn: ['v', 'id', 'occurredAt'],
  },
  best_workflow: {
    operation: 'patterns',
    fields: [
      'taskType',
      'request',
      'namespace',
      'objective',
      'minSupport',
      'minSuccessRate',
      'variantKinds',
    ],
    required: [],
    filledIn: ['v'],
  },
};

const contract = operationJsonSchemas();
function contractSchema(operation: OperationKey) {
  const entry = contract[operation];
  return (entry.request ?? entry.message) as {
    properties: Record<string, unknown>;
    required?: string[];
  };
}

let listed: Tool[];
let close: () => Promise<void>;

beforeAll(async () => {
  // tools/list touches no NATS: the client is never called.
  const server = createMcpServer({} as MemoryClient);
  const [serverSide, clientSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'schema-test', version: '1' });
  await client.connect(clientSide);
  listed = (await client.listTools()).tools;
  close = async () => {
    await client.close();
    await server.close();
  };
});

afterAll(async () => {
  await close?.();
});

describe('tools/list', () => {
  it('lists the eight tools, the three of seed 001 first', () => {
    expect(listed.map((tool) => tool.name)).toEqual(toolNames);
    expect(Object.keys(expected).sort()).toEqual(listed.map((tool) => tool.name).sort());
  });

  it.each(Object.entries(expected))('%s takes the fields it should', (name, spec) => {
    const tool = listed.find((candidate) => candidate.name === name);
    expect(Object.keys(tool?.inputSchema.properties ?? {})).toEqual(spec.fields);
    expect([...(tool?.inputSchema.required ?? [])].sort()).toEqual([...spec.required].sort());
    expect(tool?.inputSchema.additionalProperties).toBe(false);
  });

  it.each(Object.entries(expected))(
    "%s publishes the contract's JSON Schema of each field",
    (name, spec) => {
      const tool = listed.find((candidate) => candidate.name === name);
      const properties = contractSchema(spec.operation).properties;
      for (const field of spec.fields)
        expect({ field, schema: tool?.inputSchema.properties?.[field] }).toEqual({
          field,
          schema: properties[field],
        });
    },
  );

  it.each(Object.entries(expected))(
    '%s takes every field the contract requires (or fills it in)',
    (name, spec) => {
      const tool = listed.find((candidate) => candidate.name === name);
      const taken = new Set([...Object.keys(tool?.inputSchema.properties ?? {}), ...spec.filledIn]);
      const missing = (contractSchema(spec.operation).required ?? []).filter(
        (field) => !taken.has(field),
      );
      expect(missing).toEqual([]);
    },
  );

  it('validates with the same fields it publishes', () => {
    for (const tool of tools) {
      const published = listed.find((candidate) => candidate.name === tool.name);
      expect(Object.keys(tool.input.shape)).toEqual(
        Object.keys(published?.inputSchema.properties ?? {}),
      );
    }
  });
});

describe('a tool the contract does not back', () => {
  it('fails to publish a field its operation does not have', () => {
    const [search] = tools;
    if (!search) throw new Error('no tools');
    const drifted = { ...search, input: search.input.extend({ query: z.string() }) };
    expect(() => toolInputSchema(drifted)).toThrow(
      'search_memory: the contract of query has no field "query"',
    );
  });
});
