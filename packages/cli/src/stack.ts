import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { connectBus } from '@membus/bus';
import { serviceNames as contractServiceNames } from '@membus/contracts';

/** The repository root (the same from packages/cli/src and packages/cli/dist). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * Every service under services/, in start order for `membus start`. The extractor runs either
 * way: ingests become facts with a chat model when EXTRACT_BASE_URL is set, else they are stored
 * raw, so `ingest` works offline (decision 010); webhooks POSTs each tenant's change events to
 * its endpoints (decision 008), idle without any.
 */
export const serviceNames = contractServiceNames;
export type ServiceName = (typeof serviceNames)[number];
/**
 * The HTTP gateway (services/gateway): started like a service, but with no NATS user of its own
 * (it connects as each tenant's agent user, decision 007), so it is not among `serviceNames`.
 */
export const gatewayName = 'gateway';
/** Every process `membus start` can run: the services and the gateway. */
export type ProcessName = ServiceName | typeof gatewayName;
/**
 * Each process's metrics port under `membus start`: METRICS_PORT_BASE plus this (compose's
 * 9464…9470); the gateway keeps base+4, where it was before the extractor came.
 */
export const metricsPortOffset: Readonly<Record<ProcessName, number>> = {
  embedder: 0,
  'vector-store': 1,
  'pattern-extractor': 2,
  compactor: 3,
  gateway: 4,
  extractor: 5,
  webhooks: 6,
};
/** The services the pipeline needs at minimum. */
export const coreServices: readonly ServiceName[] = ['embedder', 'vector-store'];

/**
 * How services run: `built` from their compiled dist/main.js (`pnpm build`), with workspace
 * packages resolved to dist/ by the "membus-dist" export condition; `source` from
 * src/main.ts through tsx, as tests and development do.
 */
export type ServiceRuntime = 'built' | 'source';

/** True when this module runs compiled (packages/cli/dist), as `membus` does once built. */
export const runningBuilt = import.meta.url.endsWith('.js');

/** The file a service starts from and the node flags that run it. */
export function serviceEntry(
  service: ProcessName,
  runtime: ServiceRuntime,
): { main: string; nodeArgs: string[] } {
  return runtime === 'built'
    ? {
        main: join(repoRoot, 'services', service, 'dist', 'main.js'),
        nodeArgs: ['--conditions=membus-dist', '--enable-source-maps'],
      }
    : {
        main: join(repoRoot, 'services', service, 'src', 'main.ts'),
        nodeArgs: ['--import', 'tsx'],
      };
}

/** The services this checkout has (services land one by one), in start order. */
export function availableServices(runtime: ServiceRuntime): ServiceName[] {
  return serviceNames.filter((service) => existsSync(serviceEntry(service, runtime).main));
}

export interface ServiceProcess extends AsyncDisposable {
  readonly name: string;
  readonly process: ChildProcess;
  /** The telemetry port the service reported when ready. */
  readonly metricsPort: number;
  /** Sends SIGTERM (graceful drain) or another signal and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartServiceOptions {
  env: Record<string, string>;
  /** Where log lines go (default: dropped); each line is the service's JSON log line. */
  onLog?: (name: string, line: string) => void;
  /** How long to wait for the ready log line (ms). */
  readyTimeoutMs?: number;
  /** Replica label for logs when several run. */
  label?: string;
  /** Extra node flags, e.g. `--cpu-prof` for profiling. */
  nodeArgs?: string[];
  /** Compiled code or TypeScript sources (default `source`: what the tests run). */
  runtime?: ServiceRuntime;
}

/**
 * How the vector-store process is tuned (other services run with Node's defaults):
 *
 * - glibc's `malloc.hugetlb=1` asks for transparent huge pages on its heap (`madvise`, so it
 *   works under Debian's default `transparent_hugepage=madvise` with no system change). Its
 *   vectors, graph and keyword arrays are big and read at random: a scattered scan of 1,000
 *   vectors at 100k takes 0.64 ms instead of 0.98. Other C libraries ignore it; an operator's
 *   own GLIBC_TUNABLES wins.
 * - A 64 MB young generation (`--max-semi-space-size`, Node's default is 16): its heap is
 *   ~400 MB at 100k and each scavenge costs 3–5 ms whatever the young generation's size, so
 *   fewer of them means fewer queries that wait on one (at 100k, 8,000 queries: 113 → 23).
 */
export function serviceTuning(
  service: ProcessName,
  env: NodeJS.ProcessEnv = process.env,
): { env: Record<string, string>; nodeArgs: string[] } {
  if (service !== 'vector-store') return { env: {}, nodeArgs: [] };
  return {
    env: env.GLIBC_TUNABLES === undefined ? { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' } : {},
    nodeArgs: ['--max-semi-space-size=64'],
  };
}

/**
 * Starts a service as its own process and resolves when it reports ready over IPC (with its
 * metrics port), or rejects when it exits first or times out.
 */
export function startService(
  service: ProcessName,
  options: StartServiceOptions,
): Promise<ServiceProcess> {
  const name = options.label ?? service;
  const entry = serviceEntry(service, options.runtime ?? 'source');
  const tuning = serviceTuning(service);
  const nodeArgs = [...tuning.nodeArgs, ...(options.nodeArgs ?? []), ...entry.nodeArgs];
  const child = spawn(process.execPath, [...nodeArgs, entry.main], {
    cwd: repoRoot,
    env: { ...process.env, ...tuning.env, METRICS_PORT: '0', ...options.env },
    // The IPC channel carries the service's ready message (independent of LOG_LEVEL).
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const exited = new Promise<number | null>((resolveExit) => {
    child.once('exit', (code) => resolveExit(code));
  });
  return new Promise<ServiceProcess>((resolveReady, rejectReady) => {
    let settled = false;
    const recent: string[] = [];
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      child.kill('SIGKILL');
      rejectReady(
        new Error(
          `${name} was not ready within ${options.readyTimeoutMs ?? 60_000} ms:\n${recent.join('\n')}`,
        ),
      );
    }, options.readyTimeoutMs ?? 60_000);
    const onLine = (line: string) => {
      recent.push(line);
      if (recent.length > 30) recent.shift();
      options.onLog?.(name, line);
    };
    const onReady = (ready: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const handle: ServiceProcess = {
        name,
        process: child,
        metricsPort: ready,
        stop: (signal = 'SIGTERM') => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
        [Symbol.asyncDispose]: async () => {
          await handle.stop();
        },
      };
      resolveReady(handle);
    };
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', onLine);
    }
    child.on('message', (message: unknown) => {
      const ready = readyPort(message);
      if (ready !== undefined) onReady(ready);
    });
    void exited.then((code) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      rejectReady(
        new Error(`${name} exited with ${code} before it was ready:\n${recent.join('\n')}`),
      );
    });
  });
}

function readyPort(message: unknown): number | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const { type, metricsPort } = message as { type?: unknown; metricsPort?: unknown };
  return type === 'membus-ready' && typeof metricsPort === 'number' ? metricsPort : undefined;
}

/** True when a NATS server answers at `url` within `timeoutMs`. */
export async function natsReachable(
  url: string,
  timeoutMs = 1_000,
  credentials: Record<string, string> = {},
): Promise<boolean> {
  return (await probeNats(url, timeoutMs, credentials)) !== 'none';
}

/**
 * What answers at `url`: a NATS server that lets these credentials in (`open`), one that
 * refuses them (`refused`: it still answers), or none.
 */
export async function probeNats(
  url: string,
  timeoutMs = 1_000,
  credentials: Record<string, string> = {},
): Promise<'open' | 'refused' | 'none'> {
  try {
    const nc = await connectBus({
      servers: url,
      name: 'membus-probe',
      reconnect: false,
      timeout: timeoutMs,
      ...credentials,
    });
    await nc.close();
    return 'open';
  } catch (error) {
    return /authori[sz]ation/i.test((error as Error).message) ? 'refused' : 'none';
  }
}

/** True when nothing listens on `port` at `host` (the address a server would bind). */
export function portFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolveFree) => {
    const server = createServer();
    server.once('error', () => resolveFree(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolveFree(true)));
  });
}

/**
 * Starts a local nats-server with JetStream under `storeDir` on `port`; resolves once it
 * accepts connections. Fails with install instructions when nats-server is not on PATH.
 */
export async function startLocalNats(options: {
  port: number;
  storeDir: string;
  /** A config file (accounts and users: tenancy, decision 006). */
  configFile?: string;
  /** NATS credentials to probe the server with once it runs. */
  probe?: Record<string, string>;
  timeoutMs?: number;
}): Promise<ChildProcess> {
  mkdirSync(options.storeDir, { recursive: true });
  const child = spawn(
    'nats-server',
    [
      ...(options.configFile ? ['-c', options.configFile] : []),
      '-a',
      '127.0.0.1',
      '-p',
      String(options.port),
      '-js',
      '-sd',
      options.storeDir,
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new Error(
          error.code === 'ENOENT'
            ? 'nats-server is not installed. Install it (Debian/Ubuntu: `sudo apt-get install nats-server`; ' +
                'elsewhere: https://docs.nats.io/running-a-nats-service/introduction/installation) or set NATS_URL ' +
                'to a running server with JetStream.'
            : `cannot start nats-server: ${error.message}`,
        ),
      ),
    );
    child.once('exit', (code) => reject(new Error(`nats-server exited with ${code}`)));
  });
  failed.catch(() => {});
  const url = `nats://127.0.0.1:${options.port}`;
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  const wait = (async () => {
    while (Date.now() < deadline) {
      if (await natsReachable(url, 500, options.probe)) return child;
      await new Promise((resolveDelay) => setTimeout(resolveDelay, 100));
    }
    child.kill();
    throw new Error(`nats-server did not accept connections on ${url}`);
  })();
  return Promise.race([wait, failed]);
}
