/** What every command shares: the configuration, the stack it talks to, its credentials. */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TenancyDirectory } from '@membus/tenancy';
import { fail, parseCommandLine } from './command-line.ts';
import { loadCliConfig } from './config.ts';

export const { values, positionals } = parseCommandLine();

export const config = (() => {
  try {
    return loadCliConfig(undefined, {
      natsPort: values['nats-port'],
      metricsPortBase: values['metrics-port-base'],
      gatewayPort: values['gateway-port'],
      dataDir: values['data-dir'] ?? values.data,
    });
  } catch (error) {
    fail((error as Error).message);
  }
})();
export const natsUrl = config.natsUrl ?? `nats://127.0.0.1:${config.natsPort}`;
export const tenant = values.tenant ?? config.tenant;
export const dataDir = resolve(config.dataDir);
export const localTenancyDir = join(dataDir, 'tenancy');

/**
 * The credentials the commands connect with: NATS_CREDS / NATS_USER / NATS_TOKEN when set,
 * else the agent user of this tenant in the local stack's tenancy directory, if it has one.
 */
export async function credentials(): Promise<Record<string, string>> {
  if (config.natsCreds) return { credsFile: config.natsCreds };
  if (config.natsUser) {
    return { user: config.natsUser, ...(config.natsPassword ? { pass: config.natsPassword } : {}) };
  }
  if (config.natsToken) return { token: config.natsToken };
  if (!existsSync(join(localTenancyDir, 'tenancy.json'))) return {};
  const tenancy = await TenancyDirectory.open(localTenancyDir);
  if (!tenancy.tenants.includes(tenant)) {
    fail(
      `tenant "${tenant}" has no account in ${localTenancyDir}: add it with \`membus tenant add ${tenant}\``,
    );
  }
  return tenancy.agent(tenant);
}
