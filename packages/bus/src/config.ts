import { DEFAULT_TENANT, TENANT_PATTERN } from '@membus/contracts';
import { z } from 'zod';
import { definedFields } from './defined-fields.ts';

/** One option: the env variable it comes from and its schema (with default). */
export interface EnvOption<S extends z.ZodType = z.ZodType> {
  env: string;
  schema: S;
  description: string;
}

export type EnvSpec = Record<string, EnvOption>;
export type ConfigOf<T extends EnvSpec> = { readonly [K in keyof T]: z.output<T[K]['schema']> };

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Parses env variables into a frozen typed object, failing fast with the option and the
 * env variable named. Empty strings count as unset.
 */
export function parseEnv<T extends EnvSpec>(spec: T, env: NodeJS.ProcessEnv): ConfigOf<T> {
  const result: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [option, { env: name, schema }] of Object.entries(spec)) {
    const raw = env[name];
    const parsed = schema.safeParse(raw === '' ? undefined : raw);
    if (parsed.success) result[option] = parsed.data;
    else
      problems.push(
        `${option} (env ${name}=${JSON.stringify(raw)}): ${parsed.error.issues[0]?.message}`,
      );
  }
  if (problems.length > 0)
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  return Object.freeze(result) as ConfigOf<T>;
}

/** Helpers for env strings. */
export const env = {
  string: (fallback: string) => z.string().min(1).default(fallback),
  optionalString: () => z.string().min(1).optional(),
  int: (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
    z.coerce.number().int().min(min).max(max).default(fallback),
  number: (fallback: number, min = 0, max = Number.MAX_VALUE) =>
    z.coerce.number().min(min).max(max).default(fallback),
  boolean: (fallback: boolean) =>
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
      .default(fallback ? 'true' : 'false')
      .transform((value) => ['true', '1', 'yes', 'on'].includes(value)),
  oneOf: <const V extends readonly [string, ...string[]]>(values: V, fallback: V[number]) =>
    z.enum(values).default(fallback as never),
  /** A tenant name (the subjects' pattern), `default` when unset. */
  tenant: () =>
    z
      .string()
      .regex(TENANT_PATTERN, 'a tenant is 1-64 letters, digits, _ or -, starting alphanumeric')
      .default(DEFAULT_TENANT),
};

/** NATS options every service and the CLI read. */
export const busEnvSpec = {
  natsUrl: {
    env: 'NATS_URL',
    schema: env.string('nats://127.0.0.1:4222'),
    description: 'NATS server URL(s), comma-separated',
  },
  natsUser: { env: 'NATS_USER', schema: env.optionalString(), description: 'NATS user name' },
  natsPassword: {
    env: 'NATS_PASSWORD',
    schema: env.optionalString(),
    description: 'NATS password',
  },
  natsToken: { env: 'NATS_TOKEN', schema: env.optionalString(), description: 'NATS token' },
  natsCreds: {
    env: 'NATS_CREDS',
    schema: env.optionalString(),
    description: 'path to a NATS .creds file',
  },
  natsTlsCa: {
    env: 'NATS_TLS_CA',
    schema: env.optionalString(),
    description: 'CA file for TLS to NATS',
  },
  natsTlsCert: {
    env: 'NATS_TLS_CERT',
    schema: env.optionalString(),
    description: 'client certificate for TLS',
  },
  natsTlsKey: {
    env: 'NATS_TLS_KEY',
    schema: env.optionalString(),
    description: 'client key for TLS',
  },
  streamReplicas: {
    env: 'MEMBUS_STREAM_REPLICAS',
    schema: env.int(1, 1, 5),
    description: 'JetStream stream replicas',
  },
} as const satisfies EnvSpec;

export type BusEnv = ConfigOf<typeof busEnvSpec>;

/** Telemetry options every service reads; `metricsPort` differs per service. */
export function serviceEnvSpec(defaultMetricsPort: number) {
  return {
    metricsPort: {
      env: 'METRICS_PORT',
      schema: env.int(defaultMetricsPort, 0, 65_535),
      description: '/metrics, /healthz, /readyz port',
    },
    metricsHost: {
      env: 'METRICS_HOST',
      schema: env.string('0.0.0.0'),
      description: 'telemetry HTTP bind address',
    },
    otlpEndpoint: {
      env: 'OTEL_EXPORTER_OTLP_ENDPOINT',
      schema: env.optionalString(),
      description: 'OTLP/HTTP endpoint; tracing is off when unset',
    },
    metricsTenantLabel: {
      env: 'METRICS_TENANT_LABEL',
      schema: env.boolean(false),
      description:
        'label per-tenant metrics (dead letters) by tenant; off keeps cardinality bounded',
    },
    logLevel: {
      env: 'LOG_LEVEL',
      schema: env.oneOf(['debug', 'info', 'warn', 'error'] as const, 'info'),
      description: 'log level',
    },
  } as const satisfies EnvSpec;
}

/** BusConnectionOptions from the parsed env. */
export function busConnectionFromEnv(config: BusEnv, name: string) {
  const tls =
    config.natsTlsCa || config.natsTlsCert
      ? definedFields({
          caFile: config.natsTlsCa,
          certFile: config.natsTlsCert,
          keyFile: config.natsTlsKey,
        })
      : undefined;
  return {
    servers: config.natsUrl,
    name,
    ...definedFields({
      user: config.natsUser,
      pass: config.natsPassword,
      token: config.natsToken,
      credsFile: config.natsCreds,
      tls,
    }),
  };
}
