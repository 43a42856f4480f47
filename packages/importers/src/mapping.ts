import { readFile } from 'node:fs/promises';
import { KindSchema, ScopeSchema } from '@membus/contracts';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import {
  checked,
  type ImportedMemory,
  importedId,
  type SourceItem,
  toJsonValue,
} from './imported-memory.ts';

const ColumnSchema = z.string().min(1);
// Checked as labels by the store schema when a memory is made (`checked`).
const LabelText = z.string().min(1);

/**
 * How the rows of a SQL table (or the payloads of Qdrant points) become memories: where they
 * come from, which column holds what, and the values every memory gets. Written as YAML or JSON.
 */
export const MappingSchema = z
  .strictObject({
    /** The table to read (`name` or `schema.name`); or give `query`. */
    table: z.string().min(1).optional(),
    /** A query whose rows are read, for joins and WHERE clauses (read-only, streamed). */
    query: z.string().min(1).optional(),
    /**
     * The name ids are derived under: a row whose key is not a UUID gets the UUIDv5 of this and
     * its key. Default: the table (or `query` for a query, the collection for Qdrant).
     */
    source: z.string().min(1).optional(),
    /** Source column (or payload field, dots for nested ones) of each memory field. */
    columns: z.strictObject({
      /** The primary key (Qdrant: default the point id). */
      id: ColumnSchema.optional(),
      /** The memory text (required). */
      text: ColumnSchema,
      userId: ColumnSchema.optional(),
      agentId: ColumnSchema.optional(),
      sessionId: ColumnSchema.optional(),
      namespace: ColumnSchema.optional(),
      kind: ColumnSchema.optional(),
      scope: ColumnSchema.optional(),
      importance: ColumnSchema.optional(),
      createdAt: ColumnSchema.optional(),
      updatedAt: ColumnSchema.optional(),
      /** A column of labels: a JSON array, or text separated by commas. */
      tags: ColumnSchema.optional(),
      categories: ColumnSchema.optional(),
      /** Columns copied into metadata, under their own names (or `{ name: column }`). */
      metadata: z
        .union([z.array(ColumnSchema), z.record(z.string().min(1), ColumnSchema)])
        .optional(),
      /** A JSON (or JSON text) column whose fields are merged into metadata. */
      metadataJson: ColumnSchema.optional(),
    }),
    /** Values of every memory where the row has none. */
    defaults: z
      .strictObject({
        namespace: LabelText.optional(),
        kind: KindSchema.optional(),
        scope: ScopeSchema.optional(),
        userId: LabelText.optional(),
        agentId: LabelText.optional(),
        sessionId: LabelText.optional(),
        importance: z.number().min(0).max(1).optional(),
        tags: z.array(LabelText).optional(),
        categories: z.array(LabelText).optional(),
        metadata: z.record(z.string(), z.unknown()).optional(),
      })
      .default({}),
  })
  .refine((mapping) => !(mapping.table && mapping.query), 'give table or query, not both');

export type Mapping = z.output<typeof MappingSchema>;
export type MappingInput = z.input<typeof MappingSchema>;

/** A mapping from YAML or JSON text; its errors name the field. */
export function parseMapping(text: string, origin = 'mapping'): Mapping {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new Error(`${origin}: not YAML or JSON (${(error as Error).message})`);
  }
  const parsed = MappingSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${origin}: ${issue?.path.join('.') || 'mapping'}: ${issue?.message}`);
  }
  return parsed.data;
}

/** {@link parseMapping} of a file. */
export async function loadMapping(file: string): Promise<Mapping> {
  return parseMapping(await readFile(file, 'utf8'), file);
}

/** The value at a column name, or a dotted path into nested objects when no column has it. */
export function valueAt(row: Record<string, unknown>, path: string): unknown {
  if (Object.hasOwn(row, path)) return row[path];
  let value: unknown = row;
  for (const segment of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, segment))
      return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

function text(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  const string = typeof value === 'string' ? value : String(toJsonValue(value));
  return string.trim() === '' ? undefined : string;
}

function labels(value: unknown): string[] | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  let list: unknown = value;
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed.startsWith('[')) {
      try {
        list = JSON.parse(trimmed);
      } catch {
        list = trimmed.split(',');
      }
    } else list = trimmed.split(',');
  }
  if (!Array.isArray(list)) return undefined;
  return list.map((item) => String(item).trim()).filter((item) => item !== '');
}

function jsonObject(value: unknown): Record<string, unknown> {
  let object = value;
  if (typeof value === 'string') {
    try {
      object = JSON.parse(value);
    } catch {
      return {};
    }
  }
  return object !== null && typeof object === 'object' && !Array.isArray(object)
    ? (toJsonValue(object) as Record<string, unknown>)
    : {};
}

/** The memory a mapping makes of one row (or payload), checked against the store schema. */
export function mapRow(
  row: Record<string, unknown>,
  mapping: Mapping,
  options: { source: string; key?: unknown },
): SourceItem {
  const { columns, defaults } = mapping;
  const key = columns.id !== undefined ? valueAt(row, columns.id) : options.key;
  if (key === null || key === undefined || key === '')
    return { skipped: `no key in ${columns.id ?? 'id'}` };
  const body = text(valueAt(row, columns.text));
  if (body === undefined) return { skipped: `${columns.text}: text is empty` };
  const field = (name: keyof typeof columns) => {
    const column = columns[name];
    return typeof column === 'string' ? valueAt(row, column) : undefined;
  };
  const metadata: Record<string, unknown> = { ...(defaults.metadata ?? {}) };
  if (columns.metadataJson) Object.assign(metadata, jsonObject(valueAt(row, columns.metadataJson)));
  const metadataColumns = Array.isArray(columns.metadata)
    ? columns.metadata.map((column) => [column, column] as const)
    : Object.entries(columns.metadata ?? {});
  for (const [name, column] of metadataColumns) {
    const value = valueAt(row, column);
    if (value !== undefined) metadata[name] = toJsonValue(value);
  }
  const importance = field('importance');
  const memory: ImportedMemory = {
    id: importedId(mapping.source ?? options.source, key),
    text: body,
    metadata,
  };
  const assign = <K extends 'userId' | 'agentId' | 'sessionId' | 'namespace'>(name: K) => {
    const value = text(field(name)) ?? defaults[name];
    if (value !== undefined) memory[name] = value;
  };
  assign('userId');
  assign('agentId');
  assign('sessionId');
  assign('namespace');
  const kind = text(field('kind')) ?? defaults.kind;
  if (kind !== undefined) memory.kind = kind as ImportedMemory['kind'];
  const scope = text(field('scope')) ?? defaults.scope;
  if (scope !== undefined) memory.scope = scope as ImportedMemory['scope'];
  const importanceValue =
    importance === null || importance === undefined ? defaults.importance : Number(importance);
  if (importanceValue !== undefined) memory.importance = importanceValue;
  const tags = labels(field('tags')) ?? defaults.tags;
  if (tags !== undefined) memory.tags = tags;
  const categories = labels(field('categories')) ?? defaults.categories;
  if (categories !== undefined) memory.categories = categories;
  return checked(memory, { createdAt: field('createdAt'), updatedAt: field('updatedAt') });
}
