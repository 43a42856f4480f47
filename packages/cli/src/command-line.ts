import { parseArgs } from 'node:util';

/** What `membus --help` prints. */
export const USAGE = `membus — memory for AI agents on NATS

Usage:
  membus start [--data-dir DIR] [--nats-port N] [--metrics-port-base N] [--gateway-port N]
                                                 run the local stack (nats-server with tenancy on, the services,
                                                 the HTTP gateway)
  membus tenant add NAME [--dir DIR] [--static [--env-secrets]]
                                                 add a tenant: its account, agent user and credentials
  membus tenant list [--dir DIR]                 the tenants of a tenancy directory
  membus apikey create --tenant T [--name N] [--dir DIR]
                                                 an API key of the HTTP gateway for tenant T (printed once)
  membus apikey list [--dir DIR]                 the API keys (ids, tenants, names; never the secrets)
  membus apikey revoke KEY_ID [--dir DIR]        revoke a key (the gateway refuses it within a second)
  membus webhook add URL --tenant T [--events created,updated,...]
                                                 POST tenant T's changes to URL, signed (Standard Webhooks;
                                                 prints the id, and the secret once, decision 008)
  membus webhook list --tenant T | remove ID --tenant T
                                                 the tenant's endpoints (operators: the admin user)
  membus store TEXT [options] [--wait]           store a memory (prints its id)
  membus query TEXT [options] [--top N] [--min-score X] [--json]
                                                 semantic search; hits of a query unrelated to every memory
                                                 are left out (the relevance floor), --min-score 0 keeps them
  membus get ID | history ID | delete ID
  membus list [options] [--limit N]
  membus stats [options]
  membus policy get [--version N] | put FILE [--expected-version N] | history [--limit N]
                                                 the tenant's ingest policy (decision 009; examples/policies)
  membus export [options] [--since T] [--until T] [--with-history] [--with-vectors] [--out FILE]
                                                 the memories as NDJSON (docs/export-format.md), to stdout or FILE
  membus import FILE [--resume] [--dry-run] [--on-conflict report|overwrite] [--concurrency N] [--json]
                                                 write exported lines exactly (ids kept; a line twice is one memory);
                                                 progress on stderr, then a summary; --resume continues from FILE.checkpoint
  membus update [ID ...] [options] --set-tier T --set-importance X --set-tags a,b --set-categories a,b
                --set-expires T|none [--reason R]
                                                 change memories by ids or by filter (idempotent, in history)
  membus reembed --to MODEL [--dry-run] [--price-per-million USD] | status | cancel
                                                 re-embed the tenant's memories with MODEL beside the current
                                                 vectors; queries switch when done (progress, then a summary with
                                                 tokens and estimated cost; decision 011)
  membus import-from mem0|sqlite|postgres|qdrant [options] [--yes]
                                                 import memories from mem0, a SQL table, a Qdrant collection
                                                 (a dry run without --yes; membus import-from --help)
  membus mcp [--transport stdio|http] [--tenant T] [--creds FILE] [--port N] [--host H] [--token S]
                                                 serve the memory as MCP tools for one tenant (membus mcp --help)

Options for store/query/list/stats/export/update:
  --tenant T --user U --agent A --session S --namespace NS --kind K --scope SC
  --category C (repeatable) --tag T (repeatable) --meta key=value (repeatable, store only)
  --importance 0..1 --ttl SECONDS (store only)

Tenancy (decision 006): every tenant is a NATS account of its own. \`membus start\` keeps its
accounts in DIR/tenancy (JWT mode) and the other commands use the credentials found there;
\`tenant add\` pushes a new tenant to the running server. --dir names another tenancy
directory; --static makes a static nats-server config instead (restart nats-server to apply),
with passwords generated, or with --env-secrets read by nats-server from MEMBUS_<USER>_PASSWORD
(nothing secret on disk: infra/nats is such a directory).

Two stacks on one machine: give the second its own --nats-port, --metrics-port-base (the
services' metrics ports are base..base+5, default 9464), --gateway-port (8080) and --data-dir; the other commands
take the same --nats-port and --data-dir to reach it.

Environment: NATS_URL (default nats://127.0.0.1:<--nats-port>), MEMBUS_NATS_PORT (4222),
METRICS_PORT_BASE (9464), GATEWAY_PORT (8080), MEMBUS_DATA_DIR (./data), MEMBUS_TENANT (default "default"),
NATS_CREDS or NATS_USER/NATS_PASSWORD (otherwise the local stack's).`;

/** Whose memories a command writes (tenant, owner ids, namespace) and their kind: one set of flags. */
export const ownerFlags = {
  tenant: { type: 'string' },
  user: { type: 'string' },
  agent: { type: 'string' },
  session: { type: 'string' },
  namespace: { type: 'string' },
  kind: { type: 'string' },
} as const;

const options = {
  'data-dir': { type: 'string' },
  // The flag's former name.
  data: { type: 'string' },
  dir: { type: 'string' },
  static: { type: 'boolean', default: false },
  'env-secrets': { type: 'boolean', default: false },
  'nats-port': { type: 'string' },
  'metrics-port-base': { type: 'string' },
  'gateway-port': { type: 'string' },
  name: { type: 'string' },
  ...ownerFlags,
  scope: { type: 'string' },
  category: { type: 'string', multiple: true },
  tag: { type: 'string', multiple: true },
  meta: { type: 'string', multiple: true },
  importance: { type: 'string' },
  ttl: { type: 'string' },
  top: { type: 'string', default: '5' },
  'min-score': { type: 'string' },
  limit: { type: 'string', default: '20' },
  wait: { type: 'boolean', default: false },
  since: { type: 'string' },
  until: { type: 'string' },
  'with-history': { type: 'boolean', default: false },
  'with-vectors': { type: 'boolean', default: false },
  out: { type: 'string' },
  resume: { type: 'boolean', default: false },
  'dry-run': { type: 'boolean', default: false },
  to: { type: 'string' },
  'price-per-million': { type: 'string' },
  'on-conflict': { type: 'string' },
  concurrency: { type: 'string' },
  'set-tier': { type: 'string' },
  'set-importance': { type: 'string' },
  'set-tags': { type: 'string' },
  events: { type: 'string' },
  'set-categories': { type: 'string' },
  'set-expires': { type: 'string' },
  reason: { type: 'string' },
  version: { type: 'string' },
  'expected-version': { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const parseArguments = () => parseArgs({ allowPositionals: true, options });
let parsed: ReturnType<typeof parseArguments> | undefined;

/** The parsed command line, read once (an unknown flag fails in one line). */
export function parseCommandLine(): ReturnType<typeof parseArguments> {
  if (parsed) return parsed;
  try {
    parsed = parseArguments();
    return parsed;
  } catch (error) {
    fail((error as Error).message);
  }
}

/** Prints `membus: message` and exits 1 (no stack trace: these are the user's errors). */
export function fail(message: string): never {
  process.stderr.write(`membus: ${message}\n`);
  process.exit(1);
}
