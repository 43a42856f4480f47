/** `membus start` and other `membus` commands as real processes, for tests of the command line. */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { repoRoot } from '../stack.ts';

const run = promisify(execFile);

/** The `membus` executable. */
export const membusBin = join(repoRoot, 'packages/cli/bin/membus.mjs');

/** The environment without anything that points at another stack. */
export const cleanEnv: NodeJS.ProcessEnv = {
  ...Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) =>
        !/^(NATS_|MEMBUS_|METRICS_|GATEWAY_)/.test(name) &&
        name !== 'MONGODB_URI' &&
        name !== 'QDRANT_URL',
    ),
  ),
  // Test stacks embed with the fast hashing provider, not `membus start`'s ONNX model.
  EMBEDDING_OFFLINE_PROVIDER: 'local',
};

/** A `membus` command in `cleanEnv` (unless `env` is given); rejects on a non-zero exit. */
export function membus(
  args: readonly string[],
  env: NodeJS.ProcessEnv = cleanEnv,
): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [membusBin, ...args], { env });
}

/** A `membus` command expected to fail: its exit code and what it printed. */
export function membusExit(
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return membus(args).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({
      code: error.code,
      stdout: error.stdout,
      stderr: error.stderr,
    }),
  );
}

/** A running `membus start`, stopped (SIGTERM, then its exit awaited) on dispose. */
export interface RunningMembus extends AsyncDisposable {
  /** Every line it printed, stdout and stderr. */
  output: string[];
  /** Sends `signal` (a person's Ctrl-C is SIGINT) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Runs `membus start ...args` in `env` (`cleanEnv` unless given); resolves once it prints
 * `membus is running`, rejects with what it printed when it exits before that.
 */
export async function startMembus(
  args: readonly string[],
  env: NodeJS.ProcessEnv = cleanEnv,
): Promise<RunningMembus> {
  const child: ChildProcess = spawn(process.execPath, [membusBin, 'start', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', resolveExit));
  await new Promise<void>((resolveReady, rejectReady) => {
    for (const stream of [child.stdout, child.stderr])
      createInterface({ input: stream as NodeJS.ReadableStream }).on('line', (line) => {
        output.push(line);
        if (line.startsWith('membus is running')) resolveReady();
      });
    void exited.then((code) =>
      rejectReady(new Error(`membus start exited with ${code}:\n${output.join('\n')}`)),
    );
  });
  const stop = (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null) child.kill(signal);
    return exited;
  };
  return {
    output,
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
    },
  };
}
