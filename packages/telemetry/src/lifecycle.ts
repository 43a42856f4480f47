import { createLogger, type Logger, type LogLevel } from './logger.ts';
import { createMetricsRegistry, type Registry } from './metrics.ts';
import { startTelemetryServer, type TelemetryServer } from './telemetry-server.ts';
import { startTracing, type Tracing } from './tracing.ts';

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

export interface ServiceRuntimeOptions {
  service: string;
  port: number;
  host: string;
  registry: Registry;
  log: Logger;
  tracing: Tracing;
  /** Readiness checks by name (e.g. nats connected, consumer running), read per /readyz call. */
  checks: () => Record<string, boolean>;
  /** Logged with the ready line. */
  details?: Record<string, unknown>;
  /** Drains the service: stop consumers, finish in-flight work, close connections and stores. */
  drain: () => Promise<void>;
}

/**
 * The end of every service's `main.ts`: serves /metrics /healthz /readyz, logs and announces
 * readiness, and on SIGTERM/SIGINT drains, then closes telemetry and flushes traces.
 */
export async function runService(options: ServiceRuntimeOptions): Promise<TelemetryServer> {
  let draining = false;
  const telemetry = await startTelemetryServer({
    service: options.service,
    port: options.port,
    host: options.host,
    registry: options.registry,
    readiness: () => {
      const checks = options.checks();
      const ready = !draining && Object.values(checks).every(Boolean);
      return {
        ready,
        checks: Object.fromEntries(Object.entries(checks).map(([name, ok]) => [name, { ok }])),
      };
    },
  });
  // The signal handlers first: a supervisor told "ready" may send SIGTERM at once, and one that
  // came before them would kill the process undrained.
  onShutdown(
    async () => {
      draining = true;
      await options.drain();
      await telemetry.close();
      await options.tracing.shutdown();
    },
    (message, error) => options.log.info(message, error ? { error } : {}),
  );
  options.log.info(`${options.service} ready`, { metricsPort: telemetry.port, ...options.details });
  announceReady({ service: options.service, metricsPort: telemetry.port });
  return telemetry;
}

/** What a process's telemetry is configured by (every service's and the gateway's config). */
export interface ProcessTelemetryConfig {
  readonly metricsPort: number;
  readonly metricsHost: string;
  readonly otlpEndpoint?: string | undefined;
  readonly logLevel: LogLevel;
}

/** A process's logger, tracing and metrics registry, and `run`: `runService` with them. */
export interface ProcessTelemetry {
  readonly log: Logger;
  readonly tracing: Tracing;
  readonly registry: Registry;
  run(
    options: Pick<ServiceRuntimeOptions, 'checks' | 'details' | 'drain'>,
  ): Promise<TelemetryServer>;
}

/**
 * The start of every membus process (the services' runtime and the gateway): its logger,
 * tracing (the one place the OTel SDK starts) and metrics registry; `run` ends its `main`.
 */
export function processTelemetry(name: string, config: ProcessTelemetryConfig): ProcessTelemetry {
  const log = createLogger(name, { level: config.logLevel });
  const tracing = startTracing({
    service: name,
    ...(config.otlpEndpoint ? { endpoint: config.otlpEndpoint } : {}),
  });
  const registry = createMetricsRegistry(name);
  return {
    log,
    tracing,
    registry,
    run: (options) =>
      runService({
        service: name,
        port: config.metricsPort,
        host: config.metricsHost,
        registry,
        log,
        tracing,
        ...options,
      }),
  };
}
