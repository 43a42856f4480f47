import {
  type ExportedMemoryInput,
  ExportedMemorySchema,
  type Kind,
  type Scope,
} from '@membus/contracts';
import { validate as isUuid, v5 as uuidv5 } from 'uuid';

/**
 * One memory an importer read, in membus's terms: the record of an export line
 * (`ExportedMemory`, docs/export-format.md) with its id fixed (kept from the source, or derived
 * from its primary key) so a re-run finds what it wrote.
 */
export interface ImportedMemory {
  /** The memory's id in membus: the source's UUID, or a UUIDv5 of its primary key. */
  id: string;
  text: string;
  scope?: Scope;
  userId?: string;
  agentId?: string;
  sessionId?: string;
  namespace?: string;
  kind?: Kind;
  metadata: Record<string, unknown>;
  categories?: string[];
  tags?: string[];
  importance?: number;
  /** When the source says it was made (kept); else when it is imported. */
  createdAt?: string;
  /** When the source last changed it (kept); else `createdAt`. */
  updatedAt?: string;
}

/** The export line (`ExportedMemory`, version 1) of an imported memory. */
export function exportLine(memory: ImportedMemory): ExportedMemoryInput {
  return { v: 1, memory };
}

/** What a source yields for one record: a memory, or why the record cannot be one. */
export type SourceItem = { memory: ImportedMemory } | { skipped: string };

/** The namespace of the UUIDv5 ids of imported records (fixed: the same key, the same id). */
export const IMPORT_ID_NAMESPACE = '6f1c1b1e-4a1d-5b7e-9f8a-3c2d1e0f9a7b';

/**
 * The membus id of a source record: its key itself when that is a UUID (lower-cased), else the
 * UUIDv5 of `source` and the key (as text), so two tables' row `1` do not collide and a re-run
 * of the same source gives the same ids.
 */
export function importedId(source: string, key: unknown): string {
  // 7, 7n and '7' are one key: drivers read the same integer column as a number, a bigint
  // (better-sqlite3 safe integers) or a string (pg's int8).
  const text = typeof key === 'object' ? JSON.stringify(toJsonValue(key)) : String(key);
  if (typeof key === 'string' && isUuid(key)) return key.toLowerCase();
  return uuidv5(`${source}\u0000${text}`, IMPORT_ID_NAMESPACE);
}

/**
 * An ISO 8601 timestamp of a source's time value: a Date, epoch seconds or milliseconds, an ISO
 * string, or SQLite's `YYYY-MM-DD HH:MM:SS` (UTC, as SQLite's CURRENT_TIMESTAMP writes it).
 * Undefined when there is none or it cannot be read.
 */
export function toTimestamp(value: unknown): string | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  let date: Date | undefined;
  if (value instanceof Date) date = value;
  else if (typeof value === 'number' || typeof value === 'bigint') {
    const number = Number(value);
    // Seconds until the year 33658 in milliseconds: anything below 1e11 is seconds.
    date = new Date(Math.abs(number) < 1e11 ? number * 1000 : number);
  } else if (typeof value === 'string') {
    const text = value.trim();
    if (/^\d+(\.\d+)?$/.test(text)) return toTimestamp(Number(text));
    // SQLite datetime('now') and Python's str(datetime): no zone means UTC.
    const local = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(:\d{2}(\.\d+)?)?)$/.exec(text);
    date = new Date(local ? `${local[1]}T${local[2]}Z` : text);
  }
  if (date === undefined || Number.isNaN(date.getTime())) return undefined;
  return date.toISOString();
}

/** A JSON-safe copy of a source value (Dates as ISO strings, bigints as numbers or strings). */
export function toJsonValue(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (typeof value === 'bigint')
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array)
    return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (typeof value === 'object') {
    const copy: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      if (key === '__proto__' || key === 'constructor' || key === 'prototype') continue;
      copy[key] = toJsonValue(inner);
    }
    return copy;
  }
  return value;
}

/**
 * The memory, or why membus would refuse it (the export line schema's first issue, e.g. text
 * empty or over the limit, metadata too large): checked here, so one bad row is counted and
 * skipped, and the dry run counts what the import will write. `times` are the source's
 * `createdAt` and `updatedAt` in any form `toTimestamp` reads; one it cannot read is left out.
 */
export function checked(
  memory: ImportedMemory,
  times: { createdAt?: unknown; updatedAt?: unknown } = {},
): SourceItem {
  const createdAt = toTimestamp(times.createdAt);
  if (createdAt !== undefined) memory.createdAt = createdAt;
  const updatedAt = toTimestamp(times.updatedAt);
  if (updatedAt !== undefined) memory.updatedAt = updatedAt;
  const result = ExportedMemorySchema.safeParse(exportLine(memory));
  if (result.success) return { memory };
  const issue = result.error.issues[0];
  const path = issue?.path.slice(1).join('.');
  return { skipped: `${path || 'memory'}: ${issue?.message ?? 'invalid'}` };
}
