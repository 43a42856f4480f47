import { z } from 'zod';
import type { AgentAccess, Operation } from './operation.ts';
import { type OperationKey, Operations } from './operations.ts';

/** An operation's schemas as JSON Schema (draft 2020-12). */
export interface OperationJsonSchema {
  name: string;
  kind: Operation['kind'];
  pattern: string;
  tenantScoped: boolean;
  agents: AgentAccess;
  description: string;
  /** What a caller sends (`request` operations). */
  request?: Record<string, unknown>;
  /** What it answers (`request` operations). */
  reply?: Record<string, unknown>;
  /** What is published (`jetstream` and `event` operations). */
  message?: Record<string, unknown>;
}

/**
 * Every operation's schemas as JSON Schema (zod's `toJSONSchema`): requests and messages as a
 * sender writes them (defaults optional), replies as they arrive. The source the other surfaces
 * (Python, MCP, HTTP) are generated from. Throws when a schema has a part JSON Schema cannot
 * express and that part carries no stand-in (`.meta({ type })`).
 */
export function operationJsonSchemas(): { [K in OperationKey]: OperationJsonSchema } {
  const entries = Object.entries(Operations).map(([key, operation]) => {
    const common = {
      name: operation.name,
      kind: operation.kind,
      pattern: operation.pattern,
      tenantScoped: operation.tenantScoped,
      agents: operation.agents,
      description: operation.description,
    };
    const schemas =
      operation.kind === 'request'
        ? {
            request: jsonSchemaOf(operation.request, 'input', operation.name),
            reply: jsonSchemaOf(operation.reply, 'output', operation.name),
          }
        : { message: jsonSchemaOf(operation.message, 'input', operation.name) };
    return [key, { ...common, ...schemas }];
  });
  return Object.fromEntries(entries) as { [K in OperationKey]: OperationJsonSchema };
}

const UNREPRESENTED = 'x-membus-unrepresented';

function jsonSchemaOf(
  schema: z.ZodType,
  io: 'input' | 'output',
  name: string,
): Record<string, unknown> {
  const json = z.toJSONSchema(schema, {
    io,
    // A custom check (metadata, filters) is kept when it carries its JSON shape as metadata;
    // one without is marked here and refused below (a metadata copy of it inherits a `type`).
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema }) => {
      const type = zodSchema._zod.def.type;
      if ((type === 'custom' || type === 'transform') && jsonSchema.type === undefined)
        jsonSchema[UNREPRESENTED] = type;
    },
  }) as Record<string, unknown>;
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) for (const item of node) visit(item);
    if (typeof node !== 'object' || node === null) return;
    const record = node as Record<string, unknown>;
    if (UNREPRESENTED in record) {
      if (record.type === undefined)
        throw new Error(
          `${name}: a ${String(record[UNREPRESENTED])} schema has no JSON Schema stand-in (.meta({ type }))`,
        );
      delete record[UNREPRESENTED];
    }
    for (const value of Object.values(record)) visit(value);
  };
  visit(json);
  return json;
}
