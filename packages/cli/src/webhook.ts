/** `membus webhook add|list|remove --tenant T`: a tenant's webhook endpoints (decision 008). */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { connectBus, request } from '@membus/bus';
import {
  MembusError,
  WebhookEventsSchema,
  WebhooksReplySchema,
  type WebhooksRequestInput,
} from '@membus/contracts';
import { TenancyDirectory } from '@membus/tenancy';
import { fail } from './command-line.ts';
import { config, localTenancyDir, natsUrl, values } from './context.ts';

const changeValues = WebhookEventsSchema.element.options;

const USAGE =
  'usage: membus webhook add URL --tenant T [--events created,updated,...] | membus webhook list --tenant T | membus webhook remove ID --tenant T';

/**
 * The operators' connection: NATS_CREDS / NATS_USER / NATS_TOKEN when set, else the `admin`
 * user of the local stack's tenancy. Endpoints are an operator's to manage (an agent naming any
 * URL would make membus send requests where it says), so no agent user can.
 */
async function operatorCredentials(): Promise<Record<string, string>> {
  if (config.natsCreds) return { credsFile: config.natsCreds };
  if (config.natsUser)
    return { user: config.natsUser, ...(config.natsPassword ? { pass: config.natsPassword } : {}) };
  if (config.natsToken) return { token: config.natsToken };
  const dir = resolve(values.dir ?? localTenancyDir);
  if (!existsSync(join(dir, 'tenancy.json')))
    fail(
      `no tenancy in ${dir}: run \`membus start\`, or set NATS_CREDS to an operator's credentials`,
    );
  return (await TenancyDirectory.open(dir)).admin();
}

export async function webhookCommand(args: readonly string[]): Promise<void> {
  const [action, argument] = args;
  // Explicit: an endpoint receives its tenant's memories, so the tenant is never a default.
  const tenant = values.tenant;
  if (!tenant) fail(`webhook needs --tenant NAME\n${USAGE}`);
  let body: WebhooksRequestInput;
  switch (action) {
    case 'add': {
      if (!argument) fail(`webhook add needs the endpoint URL\n${USAGE}`);
      const events = values.events
        ?.split(',')
        .map((event) => event.trim())
        .filter(Boolean);
      for (const event of events ?? [])
        if (!(changeValues as readonly string[]).includes(event))
          fail(`--events takes ${changeValues.join(', ')}; not "${event}"`);
      body = {
        v: 1,
        action: 'add',
        url: argument,
        ...(events?.length ? { events: events as typeof changeValues } : {}),
      };
      break;
    }
    case 'list':
      body = { v: 1, action: 'list' };
      break;
    case 'remove':
      if (!argument) fail(`webhook remove needs the endpoint id\n${USAGE}`);
      body = { v: 1, action: 'remove', id: argument };
      break;
    default:
      fail(USAGE);
  }
  let nc: Awaited<ReturnType<typeof connectBus>>;
  try {
    nc = await connectBus({
      servers: natsUrl,
      name: 'membus-cli',
      reconnect: false,
      ...(await operatorCredentials()),
    });
  } catch (error) {
    fail(
      `cannot reach NATS at ${natsUrl} (${(error as Error).message}). Is \`membus start\` running?`,
    );
  }
  try {
    const reply = await request(nc, `memory.webhooks.${tenant}`, body, WebhooksReplySchema, {
      timeoutMs: 10_000,
    });
    if (action === 'add') {
      process.stdout.write(`${reply.id}\n`);
      process.stderr.write(
        `endpoint ${reply.id} of tenant "${tenant}": ${argument}\n  signing secret (shown once): ${reply.secret}\n` +
          '  verify webhook-signature as Standard Webhooks: HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>"\n',
      );
      return;
    }
    if (action === 'remove') {
      if (!reply.removed) fail(`no endpoint ${argument} for tenant "${tenant}"`);
      process.stdout.write(`removed ${argument}\n`);
      return;
    }
    if (reply.endpoints.length === 0)
      process.stdout.write(`no webhook endpoints for "${tenant}"\n`);
    for (const endpoint of reply.endpoints)
      process.stdout.write(
        `${endpoint.id}  ${endpoint.url}  ${endpoint.events.join(',')}  created ${endpoint.createdAt}\n`,
      );
  } catch (error) {
    fail(MembusError.is(error) ? `${error.code}: ${error.message}` : (error as Error).message);
  } finally {
    await nc.close();
  }
}
