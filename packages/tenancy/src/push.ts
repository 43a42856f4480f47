import { connectBus } from '@membus/bus';
import { MembusError } from '@membus/contracts';
import type { TenancyDirectory } from './tenancy-directory.ts';

/**
 * Pushes an account JWT to the servers at `servers` as the system account (what `nsc push`
 * does): with a `full` resolver the account is live at once and kept across restarts.
 */
export async function pushAccount(
  tenancy: TenancyDirectory,
  servers: string,
  accountJwt: string,
): Promise<void> {
  const credentials = tenancy.system();
  const nc = await connectBus({ servers, name: 'membus-tenant', reconnect: false, ...credentials });
  try {
    const reply = await nc.request('$SYS.REQ.CLAIMS.UPDATE', new TextEncoder().encode(accountJwt), {
      timeout: 5_000,
    });
    const answer = JSON.parse(new TextDecoder().decode(reply.data)) as {
      data?: { code?: number; message?: string };
      error?: { code?: number; description?: string };
    };
    if (answer.error || answer.data?.code !== 200) {
      throw new MembusError(
        'UNAVAILABLE',
        `the server refused the account: ${answer.error?.description ?? answer.data?.message ?? 'no reason given'}`,
      );
    }
  } finally {
    await nc.close();
  }
}
