import { MembusError } from '@membus/contracts';
import { type CompiledPolicy, compilePolicy } from '../compile.ts';
import type { KvPolicyStore } from './policy-store.ts';

const EMPTY: CompiledPolicy = { version: 0, rules: [], expiry: [], programSize: 0 };

export interface PolicyRegistryOptions {
  /**
   * How long a loaded policy is used without looking again (ms). A change reaches every
   * replica at once by its `memory.policy.changed` event; this bounds how late one that
   * missed the event (a reconnect) can be.
   */
  maxAgeMs?: number;
  clock?: () => number;
  /** A reload failed and the last loaded policy is used meanwhile. */
  onStale?: (tenant: string, error: unknown) => void;
}

/**
 * The compiled policy of each tenant, loaded on first use and kept until it changes. A tenant
 * without a policy gets the empty one (everything kept).
 */
export class PolicyRegistry {
  readonly #store: KvPolicyStore;
  readonly #maxAgeMs: number;
  readonly #clock: () => number;
  readonly #onStale: ((tenant: string, error: unknown) => void) | undefined;
  readonly #loaded = new Map<string, { policy: CompiledPolicy; loadedAt: number }>();
  readonly #loading = new Map<string, Promise<CompiledPolicy>>();

  constructor(store: KvPolicyStore, options: PolicyRegistryOptions = {}) {
    this.#store = store;
    this.#maxAgeMs = options.maxAgeMs ?? 30_000;
    this.#clock = options.clock ?? Date.now;
    this.#onStale = options.onStale;
  }

  /** The tenant's compiled policy; UNAVAILABLE (retryable) when it cannot be read at all. */
  async forTenant(tenant: string): Promise<CompiledPolicy> {
    const cached = this.#loaded.get(tenant);
    if (cached && this.#clock() - cached.loadedAt < this.#maxAgeMs) return cached.policy;
    let loading = this.#loading.get(tenant);
    if (!loading) {
      loading = this.#load(tenant).finally(() => this.#loading.delete(tenant));
      this.#loading.set(tenant, loading);
    }
    try {
      return await loading;
    } catch (error) {
      if (cached) {
        this.#onStale?.(tenant, error);
        return cached.policy;
      }
      throw new MembusError('UNAVAILABLE', `ingest policy of ${tenant} cannot be read`, {
        retryable: true,
        cause: error,
      });
    }
  }

  /** Uses this policy from now on (the put that wrote it). */
  set(tenant: string, policy: CompiledPolicy): void {
    const cached = this.#loaded.get(tenant);
    if (cached && cached.policy.version > policy.version) return;
    this.#loaded.set(tenant, { policy, loadedAt: this.#clock() });
  }

  /** Forgets the tenant's policy unless it is at least `version`: the next store reloads it. */
  invalidate(tenant: string, version?: number): void {
    const cached = this.#loaded.get(tenant);
    if (version !== undefined && cached && cached.policy.version >= version) return;
    this.#loaded.delete(tenant);
  }

  async #load(tenant: string): Promise<CompiledPolicy> {
    const record = await this.#store.current(tenant);
    // A stored policy was compiled when it was put; it compiles again the same way.
    const policy = record ? compilePolicy(record.policy, record.version) : EMPTY;
    this.set(tenant, policy);
    return policy;
  }
}
