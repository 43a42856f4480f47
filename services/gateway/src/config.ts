import { join, resolve } from 'node:path';
import { busEnvSpec, env, parseEnv, serviceEnvSpec } from '@membus/bus';

/**
 * The gateway's options. It has no NATS user of its own (decision 007): the NATS options are the
 * URL and TLS only; it connects as each tenant's agent user, found in the tenancy directory.
 */
export const gatewayEnvSpec = {
  natsUrl: busEnvSpec.natsUrl,
  natsTlsCa: busEnvSpec.natsTlsCa,
  natsTlsCert: busEnvSpec.natsTlsCert,
  natsTlsKey: busEnvSpec.natsTlsKey,
  ...serviceEnvSpec(9468),
  port: {
    env: 'GATEWAY_PORT',
    schema: env.int(8080, 0, 65_535),
    description: 'port of the HTTP API (0 picks a free one)',
  },
  host: {
    env: 'GATEWAY_HOST',
    schema: env.string('127.0.0.1'),
    description: 'bind address of the HTTP API (0.0.0.0 in a container)',
  },
  dataDir: {
    env: 'MEMBUS_DATA_DIR',
    schema: env.string('./data'),
    description: 'data directory; its tenancy/ holds the API keys and tenant credentials',
  },
  tenancyDir: {
    env: 'MEMBUS_TENANCY_DIR',
    schema: env.optionalString(),
    description: 'tenancy directory (default MEMBUS_DATA_DIR/tenancy)',
  },
  apiKeysFile: {
    env: 'GATEWAY_API_KEYS_FILE',
    schema: env.optionalString(),
    description: 'API-key file (default <tenancy>/api-keys.json; `membus apikey` writes it)',
  },
  credsDir: {
    env: 'GATEWAY_TENANT_CREDS_DIR',
    schema: env.optionalString(),
    description:
      'directory of the tenants’ agent .creds files (default <tenancy>/creds/tenants); without a file, MEMBUS_AGENT_<TENANT>_PASSWORD is used',
  },
  bodyLimitBytes: {
    env: 'GATEWAY_BODY_LIMIT_BYTES',
    schema: env.int(2 * 1024 * 1024, 1024, 64 * 1024 * 1024),
    description: 'largest request body; a bigger one is refused with 413',
  },
  requestTimeoutMs: {
    env: 'GATEWAY_REQUEST_TIMEOUT_MS',
    schema: env.int(5_000, 100, 600_000),
    description: 'timeout of one NATS request or publish',
  },
  queryableTimeoutMs: {
    env: 'GATEWAY_QUERYABLE_TIMEOUT_MS',
    schema: env.int(30_000, 100, 600_000),
    description: 'how long `?wait=queryable` waits',
  },
  lifecycleTimeoutMs: {
    env: 'GATEWAY_LIFECYCLE_TIMEOUT_MS',
    schema: env.int(60_000, 100, 600_000),
    description: 'timeout of compact and audit',
  },
  idleMs: {
    env: 'GATEWAY_TENANT_IDLE_MS',
    schema: env.int(60_000, 100, 86_400_000),
    description: 'a tenant’s NATS connection is closed after this long without a request',
  },
} as const;

export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;

/** Parses the environment once; the paths are resolved and defaulted. */
export function loadGatewayConfig(environment: NodeJS.ProcessEnv) {
  const parsed = parseEnv(gatewayEnvSpec, environment);
  const tenancyDir = resolve(parsed.tenancyDir ?? join(parsed.dataDir, 'tenancy'));
  return Object.freeze({
    ...parsed,
    tenancyDir,
    apiKeysFile: resolve(parsed.apiKeysFile ?? join(tenancyDir, 'api-keys.json')),
    credsDir: resolve(parsed.credsDir ?? join(tenancyDir, 'creds', 'tenants')),
  });
}
