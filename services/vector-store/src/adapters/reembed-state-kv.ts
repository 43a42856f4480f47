import type { KV } from '@membus/bus';
import { MembusError } from '@membus/contracts';
import { z } from 'zod';
import {
  type ReembedStateStore,
  type TenantModels,
  TenantModelsSchema,
} from '../domain/reembed/state.ts';

/** The bucket (the tenancy permissions name it: packages/tenancy/src/authority.ts). */
export const REEMBED_BUCKET = 'membus-reembed';

const TENANTS_KEY = 'tenants';
const TenantListSchema = z.array(z.string());

/** KV keys allow `[-/_=.a-zA-Z0-9]`: the tenant id travels base64url-encoded. */
const tenantKey = (tenant: string) => `tenant.${Buffer.from(tenant).toString('base64url')}`;

/**
 * Tenants' model states in a NATS KV bucket (decision 011): one key per tenant, and a key
 * listing the tenants that have one (listing keys would need a consumer on the bucket, which
 * the vector-store's permissions leave out). Survives a vector-store restart; one replica
 * writes it (the one running the re-embedding).
 */
export function kvReembedStateStore(kv: KV): ReembedStateStore {
  const read = async <T>(key: string, schema: z.ZodType<T>): Promise<T | undefined> => {
    const entry = await kv.get(key);
    if (entry?.operation !== 'PUT' || entry.length === 0) return undefined;
    const parsed = schema.safeParse(entry.json());
    if (!parsed.success)
      throw new MembusError('INTERNAL', `re-embedding state ${key} does not parse`, {
        details: { key, issues: parsed.error.issues.map((issue) => issue.message) },
      });
    return parsed.data;
  };
  const tenants = async () => new Set((await read(TENANTS_KEY, TenantListSchema)) ?? []);
  return {
    async load() {
      const states = new Map<string, TenantModels>();
      for (const tenant of await tenants()) {
        const state = await read(tenantKey(tenant), TenantModelsSchema);
        if (state) states.set(tenant, state as TenantModels);
      }
      return states;
    },
    async save(tenant, state) {
      const listed = await tenants();
      if (state === undefined) {
        await kv.delete(tenantKey(tenant));
        if (listed.delete(tenant)) await kv.put(TENANTS_KEY, JSON.stringify([...listed]));
        return;
      }
      await kv.put(tenantKey(tenant), JSON.stringify(state));
      if (!listed.has(tenant)) {
        listed.add(tenant);
        await kv.put(TENANTS_KEY, JSON.stringify([...listed]));
      }
    },
  };
}
