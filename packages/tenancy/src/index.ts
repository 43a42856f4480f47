export type { ApiKeyInfo, ApiKeyRecord, ApiKeyStore } from './api-keys.ts';
export { apiKeysFile, authenticateApiKey, FileApiKeyStore } from './api-keys.ts';
export type { Permissions, ServiceUser } from './authority.ts';
export {
  adminPermissions,
  agentPermissions,
  EMBEDDING_CACHE_BUCKET,
  MEMBUS_ACCOUNT,
  servicePermissions,
  serviceUsers,
  tenantEvents,
  tenantImports,
  tenantOperations,
} from './authority.ts';
export type { JwtAuthority } from './jwt.ts';
export { pushAccount } from './push.ts';
export type { Secret, StaticConfigOptions, StaticTenancy } from './static-config.ts';
export { agentUserName, renderStaticConfig, tenantAccountName } from './static-config.ts';
export type { Credentials, TenancyMode } from './tenancy-directory.ts';
export { passwordVariable, TenancyDirectory } from './tenancy-directory.ts';
