import type { MemoryClient } from '@membus/client';
import { type MemoryRecord, type OperationKey, operationJsonSchemas } from '@membus/contracts';
import type { z } from 'zod';

// What an MCP tool is, the helpers the tools are written with (tools.ts), and a tool's published
// input schema: the contract's JSON Schema of the fields it takes.

/** What a tool answers: a text a model reads, and the same facts as JSON. */
export interface ToolOutput {
  text: string;
  structured: Record<string, unknown>;
}

/** Hints for the MCP client (MCP `ToolAnnotations`). */
export interface ToolHints {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

/** One MCP tool. */
export interface MembusTool<Input extends z.ZodObject = z.ZodObject> {
  /** The tool's name as MCP clients call it. */
  name: string;
  /** A human title. */
  title: string;
  /** What it does, for the model choosing a tool. */
  description: string;
  /** The contract operation whose schema its fields come from. */
  operation: OperationKey;
  /** The arguments: fields of the operation's schema (strict: an unknown argument is refused). */
  input: Input;
  annotations: ToolHints;
  /** Runs it through the tenant's client. */
  run(client: MemoryClient, args: z.output<Input>): Promise<ToolOutput>;
}

/**
 * The fields `keys` of a contract schema's shape, as they are. Throws when the contract has no
 * such field (a renamed field fails at start and in the tests, not in a model's hands).
 */
export function contractFields<
  Shape extends z.core.$ZodShape,
  const Key extends keyof Shape & string,
>(schema: { shape: Shape }, keys: readonly Key[]): Pick<Shape, Key> {
  const picked: Partial<Pick<Shape, Key>> = {};
  for (const key of keys) {
    if (!(key in schema.shape)) throw new Error(`the contract has no field "${key}"`);
    picked[key] = schema.shape[key];
  }
  return picked as Pick<Shape, Key>;
}

export const defineTool = <Input extends z.ZodObject>(tool: MembusTool<Input>): MembusTool =>
  tool as unknown as MembusTool;

export const readOnly: ToolHints = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
};

/** The hints of a tool that changes memory (within membus: no open world). */
export const writes = (hints: { destructive: boolean; idempotent: boolean }): ToolHints => ({
  readOnlyHint: false,
  destructiveHint: hints.destructive,
  idempotentHint: hints.idempotent,
  openWorldHint: false,
});

/** One line about a memory: kind, scope and owners, namespace, labels, when, id. */
export function describeMemory(memory: MemoryRecord): string {
  const owners = [
    memory.userId && `user ${memory.userId}`,
    memory.agentId && `agent ${memory.agentId}`,
    memory.sessionId && `session ${memory.sessionId}`,
  ].filter(Boolean);
  const parts = [
    `${memory.kind}, ${memory.scope} scope${owners.length ? ` (${owners.join(', ')})` : ''}`,
    memory.namespace && `namespace ${memory.namespace}`,
    memory.categories.length > 0 && `categories ${memory.categories.join(', ')}`,
    memory.tags.length > 0 && `tags ${memory.tags.join(', ')}`,
    Object.keys(memory.metadata).length > 0 && `metadata ${JSON.stringify(memory.metadata)}`,
    memory.createdAt,
    `id ${memory.id}`,
  ].filter(Boolean);
  return parts.join(' · ');
}

export const percent = (rate: number) => `${Math.round(rate * 100)} %`;

/**
 * `lines` numbered from 1 under `heading` (a colon after it) and before `after`, or `empty` when
 * there are none.
 */
export function numberedList(
  lines: readonly string[],
  text: { empty: string; heading: string; after: string },
): string {
  if (lines.length === 0) return text.empty;
  const numbered = lines.map((line, index) => `${index + 1}. ${line}`);
  return `${text.heading}:\n${numbered.join('\n')}${text.after}`;
}

/** A JSON Schema object as MCP's tools/list carries it. */
export interface ToolInputSchema {
  [key: string]: unknown;
  type: 'object';
  properties: Record<string, Record<string, unknown>>;
  required?: string[];
}

let contractSchemas: ReturnType<typeof operationJsonSchemas> | undefined;

/** The contract's JSON Schema of what an operation takes (its request, or its message). */
export function contractInputJsonSchema(operation: OperationKey): ToolInputSchema {
  contractSchemas ??= operationJsonSchemas();
  const entry = contractSchemas[operation];
  const schema = entry.request ?? entry.message;
  if (schema?.type !== 'object' || typeof schema.properties !== 'object')
    throw new Error(`${entry.name}: the contract's schema is not an object`);
  return schema as ToolInputSchema;
}

/**
 * A tool's published input schema: the contract's JSON Schema of each field it takes (draft
 * 2020-12, as `operationJsonSchemas()` writes it), required where the tool requires it.
 */
export function toolInputSchema(tool: MembusTool): ToolInputSchema {
  const contract = contractInputJsonSchema(tool.operation);
  const properties: Record<string, Record<string, unknown>> = {};
  const required: string[] = [];
  for (const [field, schema] of Object.entries(tool.input.shape)) {
    const property = contract.properties[field];
    if (property === undefined)
      throw new Error(`${tool.name}: the contract of ${tool.operation} has no field "${field}"`);
    properties[field] = property;
    if (!(schema as z.ZodType).safeParse(undefined).success) required.push(field);
  }
  return {
    ...(contract.$schema ? { $schema: contract.$schema } : {}),
    type: 'object',
    properties,
    ...(required.length > 0 ? { required } : {}),
    additionalProperties: false,
    ...(contract.$defs ? { $defs: contract.$defs } : {}),
  };
}
