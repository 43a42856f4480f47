import type { ScrollCursor } from '@membus/vector-index';
import { z } from 'zod';

// A tenant's embedding models (decision 011), as persisted: which model answers its queries,
// the run that writes another model's vectors, and the indexes its memories still have to leave.

/** An index other than the store path's: one per model (and its dimension). */
export interface ModelIndexKey {
  model: string;
  dimension: number;
}

/** A run writing the tenant's memories into the target model's index. */
export interface ReembedRun extends ModelIndexKey {
  /** Where the next page of the tenant's memories starts (newest first); absent: at the start. */
  cursor?: ScrollCursor;
  /** Memories written so far. */
  done: number;
  /** The tenant's memories when the run started. */
  total: number;
  /** Estimated tokens embedded so far (characters / 4). */
  tokens: number;
  /** ISO time the run started. */
  startedAt: string;
}

export interface TenantModels {
  /** The index answering the tenant's queries; absent: the store path's (primary) index. */
  active?: ModelIndexKey;
  /** The run in progress, if any. */
  run?: ReembedRun;
  /**
   * Indexes the tenant's memories are still to be deleted from, in the background: the old one
   * after a switch, the new one after a cancel (`model` absent: the primary index).
   */
  drop?: (ModelIndexKey | { primary: true })[];
}

const KeySchema = z.object({ model: z.string().min(1), dimension: z.number().int().min(1) });

/** What a state store reads back is checked, as any inbound bytes (a hand-edited KV entry). */
export const TenantModelsSchema = z.object({
  active: KeySchema.optional(),
  run: KeySchema.extend({
    cursor: z.object({ createdAt: z.number(), id: z.string() }).optional(),
    done: z.number().int().min(0),
    total: z.number().int().min(0),
    tokens: z.number().int().min(0),
    startedAt: z.string(),
  }).optional(),
  drop: z.array(z.union([KeySchema, z.object({ primary: z.literal(true) })])).optional(),
});

/** Where tenants' model states live (a NATS KV bucket; a map in tests). */
export interface ReembedStateStore {
  /** Every tenant with a state. */
  load(): Promise<Map<string, TenantModels>>;
  /** Writes the tenant's state; `undefined` removes it (the tenant is back to the defaults). */
  save(tenant: string, state: TenantModels | undefined): Promise<void>;
}

/** A state store in memory (tests, and a stack without a bucket). */
export function memoryStateStore(
  initial: Map<string, TenantModels> = new Map(),
): ReembedStateStore & { states: Map<string, TenantModels> } {
  const states = initial;
  return {
    states,
    async load() {
      return new Map([...states].map(([tenant, state]) => [tenant, structuredClone(state)]));
    },
    async save(tenant, state) {
      if (state === undefined) states.delete(tenant);
      else states.set(tenant, structuredClone(state));
    },
  };
}

/** Whether a state says nothing beyond the defaults (it can be removed). */
export function isDefault(state: TenantModels): boolean {
  return (
    state.active === undefined &&
    state.run === undefined &&
    (state.drop === undefined || state.drop.length === 0)
  );
}

/** The name of an index key, for logs and errors. */
export function keyName(key: ModelIndexKey | { primary: true } | undefined): string {
  return key === undefined || 'primary' in key ? 'the store path model' : key.model;
}
