import { busEnvSpec, type ConfigOf, type EnvSpec, parseEnv, serviceEnvSpec } from '@membus/bus';

/**
 * A service's env spec: the bus options, its own, then the telemetry options every service
 * reads (`METRICS_PORT` defaults to `defaultMetricsPort`), in that order.
 */
export function serviceEnv<const T extends EnvSpec>(defaultMetricsPort: number, own: T) {
  return { ...busEnvSpec, ...own, ...serviceEnvSpec(defaultMetricsPort) };
}

/** Parses `process.env` (or a test's environment) with the spec: a frozen typed config. */
export function configLoader<T extends EnvSpec>(spec: T) {
  return (environment: NodeJS.ProcessEnv): ConfigOf<T> => parseEnv(spec, environment);
}
