import { busEnvSpec, type ConfigOf, parseEnv } from '@membus/bus';
import { DEFAULT_TENANT, TENANT_PATTERN } from '@membus/contracts';
import { z } from 'zod';

/** The environment the `membus` command reads; flags (e.g. `--tenant`) override it. */
export const cliEnvSpec = {
  natsUrl: busEnvSpec.natsUrl,
  natsUser: busEnvSpec.natsUser,
  natsPassword: busEnvSpec.natsPassword,
  natsToken: busEnvSpec.natsToken,
  natsCreds: busEnvSpec.natsCreds,
  dataDir: {
    env: 'MEMBUS_DATA_DIR',
    schema: z.string().min(1).default('./data'),
    description:
      'data directory of `membus start` (its tenancy/ holds the local credentials the other commands use)',
  },
  tenant: {
    env: 'MEMBUS_TENANT',
    schema: z
      .string()
      .regex(TENANT_PATTERN, 'a tenant is 1-64 letters, digits, _ or -, starting alphanumeric')
      .default(DEFAULT_TENANT),
    description: 'tenant of store/query/get/list/stats when --tenant is not given',
  },
} as const;

export type CliConfig = ConfigOf<typeof cliEnvSpec>;

/**
 * Parses the environment once into a frozen object; a bad value throws a `ConfigError`
 * naming the option and its env variable.
 */
export function loadCliConfig(environment: NodeJS.ProcessEnv = process.env): CliConfig {
  return parseEnv(cliEnvSpec, environment);
}
