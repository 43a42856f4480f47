import { type OperationKey, operationJsonSchemas } from '@membus/contracts';

/** A JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1). */
export type JsonSchema = Record<string, unknown>;

/** The fields a transport adds to every message: not part of an HTTP body. */
export const TRANSPORT_FIELDS = ['v'] as const;

let contract: ReturnType<typeof operationJsonSchemas> | undefined;

/** The contract's JSON Schemas (computed once). */
export function contractSchemas(): ReturnType<typeof operationJsonSchemas> {
  contract ??= operationJsonSchemas();
  return contract;
}

/** What a schema becomes over HTTP: which properties are left out, which become optional. */
export interface HttpShape {
  /** Properties the HTTP request carries elsewhere (the path) or not at all; `v` always. */
  omit?: readonly string[];
  /** Required properties the gateway fills in when absent (ids, times). */
  optional?: readonly string[];
}

/**
 * A contract schema as an HTTP body: the transport's fields (`v`) and `omit` removed, `optional`
 * no longer required, `$schema` dropped (the document says the dialect). A schema with `$defs`
 * is refused: its `#/$defs/…` references would point into the OpenAPI document's root.
 */
export function httpSchema(schema: JsonSchema | undefined, shape: HttpShape = {}): JsonSchema {
  if (schema === undefined) throw new Error('the operation has no such schema');
  if ('$defs' in schema)
    throw new Error('a schema with $defs needs its definitions hoisted into components');
  const { $schema: _dialect, ...copy } = structuredClone(schema);
  const omit = new Set<string>([...TRANSPORT_FIELDS, ...(shape.omit ?? [])]);
  const optional = new Set<string>(shape.optional ?? []);
  const properties = Object.fromEntries(
    Object.entries((copy.properties ?? {}) as Record<string, unknown>).filter(
      ([name]) => !omit.has(name),
    ),
  );
  const required = ((copy.required ?? []) as string[]).filter(
    (name) => !omit.has(name) && !optional.has(name),
  );
  const { required: _required, ...rest } = copy;
  return { ...rest, properties, ...(required.length > 0 ? { required } : {}) };
}

/** The request (or message) schema of an operation over HTTP. */
export function requestSchema(key: OperationKey, shape: HttpShape = {}): JsonSchema {
  const operation = contractSchemas()[key];
  return httpSchema(operation.request ?? operation.message, shape);
}

/** The reply schema of a request operation over HTTP. */
export function replySchema(key: OperationKey, shape: HttpShape = {}): JsonSchema {
  return httpSchema(contractSchemas()[key].reply, shape);
}

/** A property of an object schema (e.g. the items of `memories`). */
export function propertySchema(schema: JsonSchema, ...path: string[]): JsonSchema {
  let node: unknown = schema;
  for (const step of path) {
    node =
      step === '[]'
        ? (node as { items?: unknown }).items
        : (node as { properties?: Record<string, unknown> }).properties?.[step];
    if (node === undefined) throw new Error(`the schema has no ${path.join('.')}`);
  }
  return node as JsonSchema;
}
