import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { busEnvSpec, ConfigError, type ConfigOf, env, parseEnv } from '@membus/bus';
import { z } from 'zod';

const list = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  )
  .optional();

/** What `membus-mcp` reads from the environment; each option has a flag too. */
export const mcpEnvSpec = {
  transport: {
    env: 'MEMBUS_MCP_TRANSPORT',
    schema: env.oneOf(['stdio', 'http'], 'stdio'),
    description: '`stdio` (an MCP client starts the server) or `http` (streamable HTTP)',
  },
  host: {
    env: 'MEMBUS_MCP_HOST',
    schema: env.string('127.0.0.1'),
    description: 'HTTP: address to listen on; anything but loopback needs a token',
  },
  port: {
    env: 'MEMBUS_MCP_PORT',
    schema: env.int(8787, 0, 65_535),
    description: 'HTTP: port (0: any free one, printed on stderr)',
  },
  token: {
    env: 'MEMBUS_MCP_TOKEN',
    schema: env.optionalString(),
    description: 'HTTP: bearer token every request must carry (required off loopback)',
  },
  allowedHosts: {
    env: 'MEMBUS_MCP_ALLOWED_HOSTS',
    schema: list,
    description: 'HTTP: Host headers accepted, comma-separated `name:port` (DNS rebinding)',
  },
  allowedOrigins: {
    env: 'MEMBUS_MCP_ALLOWED_ORIGINS',
    schema: list,
    description: 'HTTP: Origin headers accepted when one is sent, comma-separated',
  },
  tenant: {
    env: 'MEMBUS_TENANT',
    schema: env.tenant(),
    description: 'the one tenant this server acts for',
  },
  natsUrl: busEnvSpec.natsUrl,
  natsCreds: busEnvSpec.natsCreds,
  natsUser: busEnvSpec.natsUser,
  natsPassword: busEnvSpec.natsPassword,
  dataDir: {
    env: 'MEMBUS_DATA_DIR',
    schema: z.string().min(1).default('./data'),
    description:
      'data directory of `membus start`: without credentials, its tenancy/creds/tenants/<tenant>.creds is used',
  },
} as const;

export type McpConfig = ConfigOf<typeof mcpEnvSpec>;

/** The flag of each option. */
const flags = {
  transport: 'transport',
  host: 'host',
  port: 'port',
  token: 'token',
  allowedHosts: 'allowed-hosts',
  allowedOrigins: 'allowed-origins',
  tenant: 'tenant',
  natsUrl: 'servers',
  natsCreds: 'creds',
  natsUser: 'user',
  natsPassword: 'password',
  dataDir: 'data-dir',
} as const satisfies Record<keyof typeof mcpEnvSpec, string>;

/** What `--help` prints; `program` is how it was started (`membus-mcp`, `membus mcp`). */
export function usage(program: string): string {
  const lines = (Object.keys(flags) as (keyof typeof flags)[]).map((option) => {
    const spec = mcpEnvSpec[option];
    return `  --${flags[option]} (${spec.env})\n      ${spec.description}`;
  });
  return `${program} — membus as MCP tools for one tenant

Usage:
  ${program} [--transport stdio|http] [--tenant T] [--creds FILE] [--servers URL]
  ${program} --transport http [--host H] [--port N] [--token SECRET]

Tools: search_memory, save_to_memory, get_memory_stats, list_memories, delete_memory,
memory_history, record_outcome, best_workflow. Over HTTP they are served at /mcp.

Options (each also from its environment variable):
${lines.join('\n')}
  --help`;
}

/**
 * Parses the command line over the environment into a frozen config. Throws a ConfigError
 * naming the flag or the variable; `help` is true for --help.
 */
export function loadMcpConfig(
  argv: readonly string[],
  environment: NodeJS.ProcessEnv,
): { config: McpConfig; help: boolean } {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      allowPositionals: false,
      options: {
        ...Object.fromEntries(
          Object.values(flags).map((flag) => [flag, { type: 'string' as const }]),
        ),
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const base = parseEnv(mcpEnvSpec, environment);
  const overrides: Record<string, unknown> = {};
  for (const [option, flag] of Object.entries(flags) as [keyof typeof flags, string][]) {
    const value = values[flag];
    if (typeof value !== 'string') continue;
    const parsed = mcpEnvSpec[option].schema.safeParse(value);
    if (!parsed.success)
      throw new ConfigError(
        `--${flag} ${JSON.stringify(value)}: ${parsed.error.issues[0]?.message}`,
      );
    overrides[option] = parsed.data;
  }
  return { config: Object.freeze({ ...base, ...overrides }) as McpConfig, help: !!values.help };
}

/**
 * How the server logs in to NATS: the creds file or user/password given, else the local
 * stack's agent creds of the tenant (`<data-dir>/tenancy/creds/tenants/<tenant>.creds`).
 */
export function credentialsOf(
  config: McpConfig,
): { credsFile: string } | { user: string; pass?: string } | Record<string, never> {
  if (config.natsCreds) return { credsFile: resolve(config.natsCreds) };
  if (config.natsUser)
    return { user: config.natsUser, ...(config.natsPassword ? { pass: config.natsPassword } : {}) };
  const local = resolve(config.dataDir, 'tenancy', 'creds', 'tenants', `${config.tenant}.creds`);
  return existsSync(local) ? { credsFile: join(local) } : {};
}
