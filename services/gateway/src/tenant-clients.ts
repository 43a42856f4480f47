import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { BusConnectionOptions } from '@membus/bus';
import { type ConnectOptions, connect, type MemoryClient } from '@membus/client';
import { MembusError } from '@membus/contracts';
import { agentUserName, passwordVariable } from '@membus/tenancy';

/** How a tenant's agent user connects: its `.creds` file, or its user and password. */
export type TenantCredentials = { credsFile: string } | { user: string; pass: string };

/**
 * A tenant's agent credentials: `<credsDir>/<tenant>.creds` (JWT mode, `membus tenant add`),
 * else `agent-<tenant>` with the password in `MEMBUS_AGENT_<TENANT>_PASSWORD` (the static
 * config of compose). Never a user of the membus account.
 */
export function tenantCredentialsFrom(
  credsDir: string,
  environment: NodeJS.ProcessEnv,
): (tenant: string) => Promise<TenantCredentials> {
  return async (tenant) => {
    const credsFile = join(credsDir, `${tenant}.creds`);
    const readable = await access(credsFile).then(
      () => true,
      () => false,
    );
    if (readable) return { credsFile };
    const user = agentUserName(tenant);
    const pass = environment[passwordVariable(user)];
    if (pass) return { user, pass };
    throw new MembusError(
      'UNAVAILABLE',
      `the gateway has no credentials for tenant "${tenant}" (no ${credsFile}, no ${passwordVariable(user)})`,
    );
  };
}

export interface TenantClientsOptions {
  servers: string;
  tls?: BusConnectionOptions['tls'];
  credentials: (tenant: string) => Promise<TenantCredentials>;
  /** A connection unused this long is closed (ms). */
  idleMs: number;
  /** Timeout of each request and publish (ms). */
  timeoutMs: number;
  /** Told the number of open connections whenever it changes. */
  onCount?: (count: number) => void;
  /** Replaces `connect` of @membus/client (tests). */
  connect?: (options: ConnectOptions) => Promise<MemoryClient>;
}

interface Entry {
  client: Promise<MemoryClient>;
  inFlight: number;
  lastUsed: number;
}

/**
 * One `@membus/client` per tenant, connected as that tenant's own agent user on first use and
 * closed when idle: the gateway has no rights of its own, so whatever it does for a request, it
 * does with the rights of the tenant the API key belongs to.
 */
export class TenantClients {
  readonly #options: TenantClientsOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #sweeper: NodeJS.Timeout;
  #closed = false;

  constructor(options: TenantClientsOptions) {
    this.#options = options;
    this.#sweeper = setInterval(() => this.#closeIdle(), Math.max(50, options.idleMs / 4));
    this.#sweeper.unref();
  }

  /** Tenants with a connection (open or opening). */
  get size(): number {
    return this.#entries.size;
  }

  /** Runs `work` with the tenant's client, connecting first when it has none. */
  async use<T>(tenant: string, work: (client: MemoryClient) => Promise<T>): Promise<T> {
    if (this.#closed) throw new MembusError('UNAVAILABLE', 'the gateway is shutting down');
    let entry = this.#entries.get(tenant);
    if (!entry) {
      entry = { client: this.#connect(tenant), inFlight: 0, lastUsed: performance.now() };
      this.#entries.set(tenant, entry);
      this.#options.onCount?.(this.#entries.size);
      const opened = entry;
      // A failed connect is forgotten, so the next request tries again.
      opened.client.catch(() => {
        if (this.#entries.get(tenant) === opened) {
          this.#entries.delete(tenant);
          this.#options.onCount?.(this.#entries.size);
        }
      });
    }
    entry.inFlight += 1;
    try {
      return await work(await entry.client);
    } finally {
      entry.inFlight -= 1;
      entry.lastUsed = performance.now();
    }
  }

  /** Closes every connection (after their pending publishes). */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweeper);
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    this.#options.onCount?.(0);
    await Promise.all(
      entries.map((entry) => entry.client.then((client) => client.close()).catch(() => {})),
    );
  }

  async #connect(tenant: string): Promise<MemoryClient> {
    const credentials = await this.#options.credentials(tenant);
    return (this.#options.connect ?? connect)({
      servers: this.#options.servers,
      tenant,
      name: `gateway:${tenant}`,
      timeoutMs: this.#options.timeoutMs,
      ...(this.#options.tls ? { tls: this.#options.tls } : {}),
      ...credentials,
    });
  }

  #closeIdle(): void {
    const now = performance.now();
    for (const [tenant, entry] of this.#entries) {
      if (entry.inFlight > 0 || now - entry.lastUsed < this.#options.idleMs) continue;
      this.#entries.delete(tenant);
      void entry.client.then((client) => client.close()).catch(() => {});
    }
    this.#options.onCount?.(this.#entries.size);
  }
}
