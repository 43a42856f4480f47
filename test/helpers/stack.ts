import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type NatsServer, startNatsServer, waitFor } from '@membus/bus/testing';
import {
  coreServices,
  type ServiceName,
  type ServiceProcess,
  serviceNames,
  startService,
} from '@membus/cli';
import { connect, type MemoryClient, type RecordOutcomeInput } from '@membus/client';
import { type Credentials, pushAccount, TenancyDirectory } from '@membus/tenancy';
import { afterAll, beforeAll } from 'vitest';

export interface TestStack extends AsyncDisposable {
  nats: NatsServer;
  dataDir: string;
  /** The stack's accounts and users (JWT mode, decision 006). */
  tenancy: TenancyDirectory;
  /** The operators' user of the membus account (DLQ, streams, internal subjects). */
  admin: Credentials;
  /** An agent user of `tenant`, its account added (and pushed to the server) on first use. */
  credentials(tenant: string): Promise<Credentials>;
  services: Map<ServiceName, ServiceProcess>;
  /** A client bound to `tenant` (closed with the stack). */
  client(tenant?: string): Promise<MemoryClient>;
  /** Every log line the services printed (for failure messages). */
  logs: string[];
  /** Restarts one service (same data directory), e.g. after a kill. */
  restart(name: ServiceName, signal?: NodeJS.Signals): Promise<ServiceProcess>;
}

/**
 * A real nats-server on a random port, with tenancy on as `membus start` runs it (JWT mode:
 * one account per tenant, the services in the membus account, each as its own user), plus
 * embedder and vector-store as separate processes with embedded storage in a temp dir
 * (`services` adds e.g. the pattern-extractor). Tenants are added on first use.
 * When MONGODB_URI is set, the stack's services share one MongoDB database of their own
 * (`membus_e2e_<random>`, unless `env` names one), so no state — e.g. a pending compaction
 * plan the compactor resumes at startup — leaks between test files using the same server.
 * `await using stack = await startTestStack()`.
 */
export async function startTestStack(
  env: Record<string, string> = {},
  services: readonly ServiceName[] = coreServices,
  options: {
    /**
     * Another tenancy (e.g. the shipped static infra/nats, its passwords in the environment):
     * its tenants are used as they are, none is added.
     */
    tenancy?: TenancyDirectory;
  } = {},
): Promise<TestStack> {
  const tenancyDir = options.tenancy ? undefined : await mkdtemp(join(tmpdir(), 'membus-tenancy-'));
  const tenancy =
    options.tenancy ?? (await TenancyDirectory.open(tenancyDir as string, { mode: 'jwt' }));
  const nats = await startNatsServer({ configFile: tenancy.configFile });
  const dataDir = await mkdtemp(join(tmpdir(), 'membus-e2e-'));
  const logs: string[] = [];
  const running = new Map<ServiceName, ServiceProcess>();
  const clients: MemoryClient[] = [];
  const database = `membus_e2e_${randomUUID().slice(0, 8)}`;
  const launch = (name: ServiceName) =>
    startService(name, {
      env: {
        NATS_URL: nats.url,
        ...tenancy.serviceEnv(name),
        MEMBUS_DATA_DIR: dataDir,
        LOG_LEVEL: 'info',
        MONGODB_DATABASE: database,
        ...env,
      },
      onLog: (service, line) => {
        logs.push(`${service}: ${line}`);
        if (logs.length > 2_000) logs.shift();
      },
    });
  const credentials = async (tenant: string) => {
    if (options.tenancy) return tenancy.agent(tenant);
    const { added, accountJwt } = await tenancy.addTenant(tenant);
    if (added && accountJwt) await pushAccount(tenancy, nats.url, accountJwt);
    return tenancy.agent(tenant);
  };
  const stack: TestStack = {
    nats,
    dataDir,
    tenancy,
    admin: tenancy.admin(),
    credentials,
    services: running,
    logs,
    async client(tenant = 'default') {
      const client = await connect({
        servers: nats.url,
        tenant,
        name: `e2e-${tenant}`,
        ...(await credentials(tenant)),
      });
      clients.push(client);
      return client;
    },
    async restart(name, signal = 'SIGTERM') {
      await running.get(name)?.stop(signal);
      const started = await launch(name);
      running.set(name, started);
      return started;
    },
    async [Symbol.asyncDispose]() {
      await Promise.all(clients.map((client) => client.close().catch(() => {})));
      await Promise.all([...running.values()].map((service) => service.stop()));
      // A service refused by its own least-privilege permissions is a bug in decision 006's
      // table (services/…/main.ts names each connection after its service).
      const refused = nats.violations.filter((line) =>
        serviceNames.some((name) => line.includes(`:nats.js:${name}"`)),
      );
      await nats.stop();
      await rm(dataDir, { recursive: true, force: true });
      if (tenancyDir) await rm(tenancyDir, { recursive: true, force: true });
      if (refused.length > 0) {
        throw new Error(`services hit their permissions:\n${refused.slice(0, 20).join('\n')}`);
      }
    },
  };
  try {
    const started = await Promise.all(services.map((name) => launch(name)));
    for (const [index, name] of services.entries())
      running.set(name, started[index] as ServiceProcess);
  } catch (error) {
    await stack[Symbol.asyncDispose]();
    throw error;
  }
  return stack;
}

/** A stack shared by a file's tests, and a client of the file's tenant. */
export interface FileStack {
  stack: TestStack;
  client: MemoryClient;
}

/**
 * One stack for a file: started before its tests (within `timeoutMs`) with a client of `tenant`,
 * disposed after them. Its fields are set once the file's `beforeAll` has run.
 */
export function stackForFile(
  tenant: string,
  env: Record<string, string> = {},
  services: readonly ServiceName[] = coreServices,
  timeoutMs = 90_000,
): FileStack {
  const file: Partial<FileStack> = {};
  beforeAll(async () => {
    file.stack = await startTestStack(env, services);
    file.client = await file.stack.client(tenant);
  }, timeoutMs);
  afterAll(async () => {
    await file.stack?.[Symbol.asyncDispose]();
  });
  return file as FileStack;
}

/**
 * embedder, vector-store and compactor, the compactor deleting compacted originals and sweeping
 * only when asked (`SWEEP_INTERVAL_MS` 0); `env` adds to that or overrides it.
 */
export function startCompactorStack(env: Record<string, string>): Promise<TestStack> {
  return startTestStack({ COMPACT_ORIGINALS: 'delete', SWEEP_INTERVAL_MS: '0', ...env }, [
    'embedder',
    'vector-store',
    'compactor',
  ]);
}

/**
 * A stack with the pattern-extractor beside the embedder and vector-store, and a client of
 * `tenant` that has recorded `outcomes` (one after another, or all at once with `parallel`),
 * every one of them counted.
 */
export async function startOutcomeStack(
  tenant: string,
  outcomes: readonly RecordOutcomeInput[],
  options: { parallel?: boolean } = {},
): Promise<{ stack: TestStack; client: MemoryClient }> {
  const stack = await startTestStack({}, ['embedder', 'vector-store', 'pattern-extractor']);
  try {
    const client = await stack.client(tenant);
    if (options.parallel)
      await Promise.all(outcomes.map((outcome) => client.recordOutcome(outcome)));
    else for (const outcome of outcomes) await client.recordOutcome(outcome);
    await waitFor(
      async () => (await client.taskMetrics()).overall.allTime.executions === outcomes.length,
      { timeoutMs: 30_000, what: 'every outcome counted' },
    );
    return { stack, client };
  } catch (error) {
    await stack[Symbol.asyncDispose]();
    throw error;
  }
}
