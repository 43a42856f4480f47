import type { OperationKey } from '@membus/contracts';
import {
  deleteMemory,
  getMemory,
  listMemories,
  memoryHistory,
  memoryStats,
  storeMemories,
  storeMemory,
  updateMemory,
} from './memory-routes.ts';
import { forward, type Route } from './route.ts';
import { bestWorkflow, endSession, recordOutcome } from './task-routes.ts';

const policyReason =
  'the ingest policy is tenant administration, changed over NATS (`membus policy`, the clients), not by API keys meant for agents';

/**
 * Tenant-facing operations (agents: `call` or `receive`) the HTTP API deliberately does not
 * serve, and why. A test fails when an agent-facing operation has neither a route nor a line here.
 */
export const notExposed: Partial<Record<OperationKey, string>> = {
  policyGet: policyReason,
  policyPut: policyReason,
  policyHistory: policyReason,
  notice:
    'a store notice goes to the caller that waits for it: `POST /v1/memories?wait=queryable` waits on it for the HTTP caller',
  compacted:
    'an open-ended event stream cannot be bounded in one HTTP reply; `POST /v1/compact` answers with the same report',
  ingest:
    'not served over HTTP yet (decision 010): ingest through the TypeScript or Python client; `POST /v1/memories` stores raw text',
  extracted:
    'an extraction notice goes to the NATS caller that waits for it (`wait: extracted`); ingest is not served over HTTP yet',
  watch:
    'a change feed is an open-ended stream over NATS (decision 008): `watch()` of the TypeScript or Python client; HTTP callers use webhooks',
  reembed:
    're-embedding with another model is tenant administration (it rewrites every vector), done over NATS by the clients, not by API keys meant for agents',
  feed: 'the change feed itself: an open-ended event stream cannot be bounded in one HTTP reply',
};

/**
 * Every route of the HTTP API, versioned under `/v1`, in the order of the OpenAPI document. A
 * `forward` row posts its body to the operation as it is (the contract's request and reply
 * schemas, 200); the others shape the request from the path or query (memory-routes.ts,
 * task-routes.ts). A new tenant-facing operation needs a row here or a line in `notExposed`.
 */
export const routes: readonly Route[] = [
  storeMemory,
  storeMemories,
  forward(
    'searchMemories',
    '/v1/memories/search',
    'query',
    { body: 'required' },
    'Semantic, keyword or hybrid search, ranked.',
  ),
  getMemory,
  forward(
    'getMemories',
    '/v1/memories/get',
    'get',
    { body: 'required' },
    'Memories by id; what does not fit one reply is listed as `pending`.',
  ),
  listMemories,
  forward(
    'listMemoriesByFilter',
    '/v1/memories/list',
    'list',
    { body: 'optional' },
    'One page of memories matching any filter of the contract (metadata, time ranges).',
  ),
  updateMemory,
  deleteMemory,
  forward(
    'deleteMemories',
    '/v1/memories/delete',
    'delete',
    { body: 'required' },
    'Delete memories by ids or by a non-empty filter.',
  ),
  forward(
    'updateMemories',
    '/v1/memories/update',
    'batchUpdate',
    { body: 'required', timeout: 'lifecycle' },
    'Change memories by ids or by a non-empty filter (one page a request: send `nextCursor` back as `cursor`).',
  ),
  forward(
    'exportMemories',
    '/v1/export',
    'export',
    { body: 'optional' },
    'One page of export lines (docs/export-format.md), newest first; `nextCursor` continues.',
  ),
  forward(
    'importMemories',
    '/v1/import',
    'import',
    { body: 'required', timeout: 'lifecycle' },
    'Write export lines exactly (ids kept; a line imported twice is one memory); one result per line.',
  ),
  memoryHistory,
  memoryStats,
  forward(
    'memoryStatsByFilter',
    '/v1/stats',
    'stats',
    { body: 'optional' },
    'Counts of live memories matching a filter.',
  ),
  recordOutcome,
  forward(
    'patterns',
    '/v1/patterns',
    'patterns',
    { body: 'optional' },
    'Ranked workflow patterns and failure signatures of a task type.',
  ),
  bestWorkflow,
  forward(
    'taskMetrics',
    '/v1/task-metrics',
    'metrics',
    { body: 'optional' },
    'Executions, success rate, duration and cost per task type, and overall.',
  ),
  endSession,
  forward(
    'compact',
    '/v1/compact',
    'compact',
    { body: 'required', timeout: 'lifecycle' },
    'Compact a session and/or run maintenance sweeps now (`dryRun` reports only).',
  ),
  forward(
    'audit',
    '/v1/audit',
    'audit',
    { body: 'optional', timeout: 'lifecycle' },
    'Quality audit: counts, near duplicates, stale memories, advice.',
  ),
];
