/**
 * mem0's stores, as mem0 (mem0ai 3.x, `mem0ai/oss`, and the platform API) writes them:
 *
 * - its export: the memories as `getAll()` returns them (`{ results: [...] }`, the platform's
 *   paged `{ count, next, results }`, a bare array, or one memory per line), each
 *   `{ id, memory, hash, metadata, user_id, agent_id, run_id, created_at, updated_at,
 *   categories }` (camelCase spellings accepted too);
 * - its SQLite vector store (provider `memory`): table `vectors(id, vector, payload)`, the
 *   payload JSON holding `data` (the text), `hash` (MD5 of it), `user_id` / `agent_id` /
 *   `run_id`, `createdAt` / `updatedAt`, `textLemmatized`, and the caller's metadata fields;
 * - its SQLite history store: table `memory_history(id, memory_id, previous_value, new_value,
 *   action ADD|UPDATE|DELETE, created_at, updated_at, is_deleted)`, which has the texts and
 *   times but no owners: each memory's latest value, unless deleted.
 *
 * mem0's `run_id` is a session: it becomes `sessionId`; the scope is membus's default (the
 * most specific owner given). mem0's id (a UUID) is kept.
 */
import Database from 'better-sqlite3';
import {
  checked,
  type ImportedMemory,
  importedId,
  type SourceItem,
  toJsonValue,
} from '../imported-memory.ts';
import { jsonValues } from '../json-stream.ts';

/** Where mem0 memories are defaulted to in membus (flags of `membus import-from mem0`). */
export interface Mem0Options {
  namespace?: string;
  kind?: ImportedMemory['kind'];
}

/** Payload keys that are mem0's own, not the caller's metadata (mem0's PAYLOAD_METADATA_EXCLUDED_KEYS). */
const MEM0_OWN_KEYS = new Set([
  'id',
  'memory',
  'data',
  'hash',
  'user_id',
  'agent_id',
  'run_id',
  'userId',
  'agentId',
  'runId',
  'created_at',
  'updated_at',
  'createdAt',
  'updatedAt',
  'textLemmatized',
  'attributedTo',
  'categories',
  'metadata',
  'score',
]);

const label = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value : undefined;

/**
 * The memory of one mem0 record: an exported memory (`memory` and `metadata`) or a stored
 * payload (`data` and the metadata fields beside mem0's own).
 */
export function mem0Memory(
  record: Record<string, unknown>,
  options: Mem0Options = {},
  id: unknown = record.id,
): SourceItem {
  if (id === undefined || id === null || id === '') return { skipped: 'mem0 record without id' };
  const text = label(record.memory) ?? label(record.data) ?? label(record.text);
  if (text === undefined) return { skipped: 'mem0 record without text' };
  const metadata: Record<string, unknown> = {};
  if (record.metadata && typeof record.metadata === 'object' && !Array.isArray(record.metadata))
    Object.assign(metadata, toJsonValue(record.metadata));
  for (const [key, value] of Object.entries(record))
    if (!MEM0_OWN_KEYS.has(key)) metadata[key] = toJsonValue(value);
  // mem0 keeps its own fields in a memory's metadata on some paths; they are the memory's here.
  for (const key of ['user_id', 'agent_id', 'run_id', 'data', 'hash', 'textLemmatized'])
    delete metadata[key];
  const hash = label(record.hash);
  if (hash !== undefined) metadata.mem0_hash = hash;
  const memory: ImportedMemory = { id: importedId('mem0', id), text, metadata };
  const userId = label(record.user_id) ?? label(record.userId);
  const agentId = label(record.agent_id) ?? label(record.agentId);
  const runId = label(record.run_id) ?? label(record.runId);
  if (userId) memory.userId = userId;
  if (agentId) memory.agentId = agentId;
  if (runId) memory.sessionId = runId;
  if (options.namespace) memory.namespace = options.namespace;
  if (options.kind) memory.kind = options.kind;
  if (Array.isArray(record.categories)) {
    const categories = record.categories.filter(
      (item): item is string => label(item) !== undefined,
    );
    if (categories.length > 0) memory.categories = categories;
  }
  return checked(memory, {
    createdAt: record.created_at ?? record.createdAt,
    updatedAt: record.updated_at ?? record.updatedAt,
  });
}

/** The memories of a mem0 export file (JSON document or one memory per line), streamed. */
export async function* mem0ExportItems(
  file: string,
  options: Mem0Options = {},
): AsyncGenerator<SourceItem> {
  for await (const value of jsonValues(file, ['results', 'memories'])) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      yield { skipped: 'not a mem0 memory (an object)' };
      continue;
    }
    yield mem0Memory(value as Record<string, unknown>, options);
  }
}

/** The memories of mem0's SQLite vector store file (`vectorStore.config.dbPath`), row by row. */
export async function* mem0VectorStoreItems(
  file: string,
  options: Mem0Options = {},
): AsyncGenerator<SourceItem> {
  const database = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = database.prepare('SELECT id, payload FROM vectors').iterate() as Iterable<{
      id: string;
      payload: string;
    }>;
    for (const row of rows) {
      let payload: unknown;
      try {
        payload = JSON.parse(row.payload);
      } catch {
        yield { skipped: 'mem0 payload is not JSON' };
        continue;
      }
      if (payload === null || typeof payload !== 'object') {
        yield { skipped: 'mem0 payload is not an object' };
        continue;
      }
      yield mem0Memory(payload as Record<string, unknown>, options, row.id);
    }
  } finally {
    database.close();
  }
}

/**
 * The memories of mem0's SQLite history file (`historyDbPath`): per memory, the newest entry's
 * value, created at its first entry's time; memories whose newest entry deletes them are left
 * out. The history has no owners: give them in `owners` (all memories of the file get them).
 */
export async function* mem0HistoryItems(
  file: string,
  options: Mem0Options & { userId?: string; agentId?: string; sessionId?: string } = {},
): AsyncGenerator<SourceItem> {
  const database = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = database
      .prepare(
        `SELECT h.memory_id, h.new_value, h.action, h.is_deleted,
                (SELECT MIN(f.created_at) FROM memory_history f WHERE f.memory_id = h.memory_id) AS first_at,
                COALESCE(h.updated_at, h.created_at) AS last_at
           FROM memory_history h
          WHERE h.id = (SELECT MAX(l.id) FROM memory_history l WHERE l.memory_id = h.memory_id)
          ORDER BY h.memory_id`,
      )
      .iterate() as Iterable<{
      memory_id: string;
      new_value: string | null;
      action: string;
      is_deleted: number;
      first_at: string | null;
      last_at: string | null;
    }>;
    for (const row of rows) {
      if (row.action === 'DELETE' || row.is_deleted === 1) {
        yield { skipped: 'deleted in mem0' };
        continue;
      }
      yield mem0Memory(
        {
          memory: row.new_value,
          created_at: row.first_at,
          updated_at: row.last_at,
          ...(options.userId ? { user_id: options.userId } : {}),
          ...(options.agentId ? { agent_id: options.agentId } : {}),
          ...(options.sessionId ? { run_id: options.sessionId } : {}),
        },
        options,
        row.memory_id,
      );
    }
  } finally {
    database.close();
  }
}
