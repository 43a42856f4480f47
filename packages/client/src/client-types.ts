import type { BusConnectionOptions, NatsConnection } from '@membus/bus';
import type {
  ListRequestInput,
  MetricsRequestInput,
  OutcomeInput,
  PatternsRequestInput,
  PolicyDrop,
  QueryHit,
  QueryRequestInput,
  StoreMemoryInput,
  UpdateRequestInput,
} from '@membus/contracts';

// What the MemoryClient's methods take and give (besides the contracts' own types).

export interface ConnectOptions extends Partial<Omit<BusConnectionOptions, 'servers' | 'name'>> {
  /** NATS URL(s); default `nats://127.0.0.1:4222`. */
  servers?: string | string[];
  /** Tenant token of every subject; default `default`. */
  tenant?: string;
  /** Client name in the server's connection list. */
  name?: string;
  /** Use an existing connection (not closed by `close()`). */
  connection?: NatsConnection;
  /** Request timeout (ms); default 5,000. */
  timeoutMs?: number;
}

/** What an agent stores; `id` is generated (UUIDv7) when absent. */
export type StoreInput = Omit<StoreMemoryInput, 'v' | 'id'> & { id?: string };

export interface StoreOptions {
  /**
   * `accepted` (default): resolve once JetStream has the message (durable).
   * `queryable`: resolve once the memory can be queried (read-your-writes).
   */
  wait?: 'accepted' | 'queryable';
  /** How long to wait for `queryable` (ms); default 30,000. */
  timeoutMs?: number;
}

export interface StoreResult {
  /** The id the store was sent with. */
  id: string;
  /**
   * With `wait: 'queryable'`: `stored`, `duplicate` / `merged` when folded into `memoryId`, or
   * `dropped` when the tenant's ingest policy left it out (`policy` says which rule and why).
   */
  status?: 'stored' | 'duplicate' | 'merged' | 'dropped';
  /** The memory that holds the content (differs from `id` for a duplicate). */
  memoryId?: string;
  /** With `dropped`: the policy version, rule and reason that left the store out. */
  policy?: PolicyDrop;
}

export type QueryInput = Omit<QueryRequestInput, 'v'>;
export type QueryOptions = Omit<QueryInput, 'text' | 'vector'>;
export type UpdateInput = Omit<UpdateRequestInput, 'v' | 'id'>;
export type ListInput = Omit<ListRequestInput, 'v'>;

export interface QueryResult {
  hits: QueryHit[];
  /** The retrieval mode used. */
  mode: 'dense' | 'keyword' | 'hybrid';
  /** How the index answered (`exact`, `ann`, ...). */
  plan: string;
  /** Time inside the vector-store (ms). */
  tookMs: number;
  /** True when hits were left out to keep the reply under `Limits.replyBytes`. */
  truncated?: boolean;
  /** How many of the topK hits were left out (with `truncated`). */
  omitted?: number;
}

/** A task outcome; `id` (UUIDv7) and `occurredAt` (now) are filled in when absent. */
export type RecordOutcomeInput = Omit<OutcomeInput, 'v' | 'id' | 'occurredAt'> & {
  id?: string;
  occurredAt?: string;
};
export type PatternsInput = Omit<PatternsRequestInput, 'v'>;
export type TaskMetricsInput = Omit<MetricsRequestInput, 'v'>;
export interface BestWorkflowOptions {
  /** `success_rate` (default, confidence-ranked), `duration` or `cost`. */
  objective?: PatternsRequestInput['objective'];
  /** Variants seen fewer times are ignored; default 1. */
  minSupport?: number;
  /** Variants with a lower success rate are ignored; default 0. */
  minSuccessRate?: number;
  /** Only this namespace. */
  namespace?: string;
  /** `steps` (default): the step sequence; `config`: the configuration. */
  variantKind?: 'steps' | 'config';
}
