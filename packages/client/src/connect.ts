import { connectBus, transportError } from '@membus/bus';
import { DEFAULT_TENANT, MembusError, TENANT_PATTERN } from '@membus/contracts';
import { MemoryClient } from './client.ts';
import type { ConnectOptions } from './client-types.ts';

/** Connects to membus. `await using memory = await connect({ tenant: 'acme' })` closes it. */
export async function connect(
  options: ConnectOptions = {},
): Promise<MemoryClient & AsyncDisposable> {
  const tenant = options.tenant ?? DEFAULT_TENANT;
  if (!TENANT_PATTERN.test(tenant)) {
    throw new MembusError(
      'INVALID_TENANT',
      `invalid tenant "${tenant}": expected ${TENANT_PATTERN}`,
    );
  }
  let nc = options.connection;
  if (!nc) {
    try {
      nc = await connectBus({
        ...options,
        servers: options.servers ?? 'nats://127.0.0.1:4222',
        name: options.name ?? 'membus-client',
      });
    } catch (error) {
      throw transportError(error, 'connect');
    }
  }
  const client = new MemoryClient(nc, {
    tenant,
    ownsConnection: options.connection === undefined,
    timeoutMs: options.timeoutMs ?? 5_000,
  });
  return Object.assign(client, { [Symbol.asyncDispose]: () => client.close() });
}
