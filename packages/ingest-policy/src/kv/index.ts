export type { PolicyRegistryOptions } from './policy-registry.ts';
export { PolicyRegistry } from './policy-registry.ts';
export { KvPolicyStore, POLICY_BUCKET } from './policy-store.ts';
