import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface NatsServerOptions {
  /** Enable JetStream with file storage in a temp dir (default true). */
  jetstream?: boolean;
  /** A config file (accounts, permissions); `-p` still picks the port. */
  configFile?: string;
  /** Extra command-line arguments. */
  args?: string[];
  /** How long to wait for the server to listen (ms). */
  startTimeoutMs?: number;
}

export interface NatsServer extends AsyncDisposable {
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  readonly pid: number | undefined;
  /**
   * The permission violations the server logged (`Publish Violation`, `Subscription
   * Violation`), each line as logged (it names the client's connection name).
   */
  readonly violations: readonly string[];
  /** Sends a signal (SIGKILL for fault tests) and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and store directory. */
  restart(): Promise<void>;
  /** Stops the server and removes its store. */
  stop(): Promise<void>;
}

/**
 * Starts a real nats-server on a random port (the server picks it: `-p -1` and a ports file),
 * with JetStream under a temp dir. `await using server = await startNatsServer()` cleans up
 * even when a test fails.
 */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  const binary = process.env.NATS_SERVER_BIN ?? 'nats-server';
  const root = await mkdtemp(join(tmpdir(), 'membus-nats-'));
  const storeDir = join(root, 'js');
  const portsDir = join(root, 'ports');
  const timeout = options.startTimeoutMs ?? 10_000;
  let child: ChildProcess | undefined;
  let port = -1;
  const violations: string[] = [];

  const launch = async (): Promise<void> => {
    await rm(portsDir, { recursive: true, force: true });
    await mkdir(portsDir, { recursive: true });
    const args = [
      '-a',
      '127.0.0.1',
      '-p',
      String(port),
      '--ports_file_dir',
      portsDir,
      ...(options.jetstream === false ? [] : ['-js', '-sd', storeDir]),
      ...(options.configFile ? ['-c', options.configFile] : []),
      ...(options.args ?? []),
    ];
    const spawned = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = spawned;
    let stderr = '';
    spawned.stderr?.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      stderr = (stderr + text).slice(-4_000);
      for (const line of text.split('\n')) {
        if (/Violation/.test(line) && violations.length < 1_000) violations.push(line);
      }
    });
    const exited = new Promise<never>((_, reject) => {
      spawned.once('error', (error) => reject(new Error(`cannot run ${binary}: ${error.message}`)));
      spawned.once('exit', (code) =>
        reject(new Error(`nats-server exited with ${code}: ${stderr}`)),
      );
    });
    exited.catch(() => {});
    try {
      port = await Promise.race([readPort(portsDir, spawned.pid, timeout), exited]);
    } catch (error) {
      spawned.kill('SIGKILL');
      throw error;
    }
  };

  const waitExit = (process: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> =>
    new Promise((resolve) => {
      if (!process || process.exitCode !== null || process.signalCode !== null) return resolve();
      process.once('exit', () => resolve());
      process.kill(signal);
    });

  await launch();
  const server: NatsServer = {
    get url() {
      return `nats://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    storeDir,
    violations,
    get pid() {
      return child?.pid;
    },
    kill: (signal = 'SIGTERM') => waitExit(child, signal),
    restart: async () => {
      await waitExit(child, 'SIGTERM');
      await launch();
    },
    stop: async () => {
      await waitExit(child, 'SIGTERM');
      await rm(root, { recursive: true, force: true });
    },
    [Symbol.asyncDispose]: () => server.stop(),
  };
  return server;
}

/** Polls the ports file the server writes once it listens, up to a deadline. */
async function readPort(
  directory: string,
  pid: number | undefined,
  timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const files = (await readdir(directory)).filter((file) => file.endsWith(`_${pid}.ports`));
      if (files[0]) {
        const ports = JSON.parse(await readFile(join(directory, files[0]), 'utf8')) as {
          nats?: string[];
        };
        const url = ports.nats?.[0];
        if (url) return Number(new URL(url).port);
      }
    } catch {
      // not written yet
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`nats-server did not report its port within ${timeoutMs} ms`);
}
