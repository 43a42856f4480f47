/** Runs `stop` once on SIGTERM/SIGINT, then exits; a second signal exits at once. */
export function onShutdown(
  stop: () => Promise<void>,
  log: (message: string, error?: unknown) => void,
): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    log(`${signal}: draining`);
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log('shutdown failed', error);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', handler);
  process.once('SIGINT', handler);
}

/** Tells a supervising parent process (the CLI, tests, the bench) that the service is ready. */
export function announceReady(info: { service: string; metricsPort: number }): void {
  process.send?.({ type: 'membus-ready', ...info });
}
