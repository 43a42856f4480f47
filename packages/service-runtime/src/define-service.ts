import {
  type BusEnv,
  busConnectionFromEnv,
  ConfigError,
  type ConsumeOptions,
  type ConsumerOptions,
  connectBus,
  consumeStream,
  isUnanswered,
  type JetStreamClient,
  type JetStreamManager,
  jetStreamStatusReader,
  jetstream,
  type NatsConnection,
  notifyDeadLetter,
  operationConsumer,
  type ServeOperationOptions,
  type StreamConsumer,
  serveOperation,
} from '@membus/bus';
import type { JetStreamOperation, RequestOperation } from '@membus/contracts';
import {
  createLogger,
  type Logger,
  type LogLevel,
  processTelemetry,
  type Registry,
  registerJetStreamMetrics,
} from '@membus/telemetry';
import type { z } from 'zod';
import { startJetStream } from './jetstream-start.ts';
import { retry } from './retry.ts';

/** Tries of a start step whose NATS request got no answer (as `startJetStream`'s). */
const START_ATTEMPTS = 5;

/** What the runtime reads from every service's parsed config (`busEnvSpec` + `serviceEnvSpec`). */
export interface RuntimeConfig extends BusEnv {
  readonly metricsPort: number;
  readonly metricsHost: string;
  readonly otlpEndpoint?: string | undefined;
  readonly metricsTenantLabel: boolean;
  readonly logLevel: LogLevel;
  /** Deliveries before dead-lettering: every declared consumer's unless it names its own. */
  readonly maxDeliver: number;
}

/** A durable consumer the service reads: created or updated when the service connects. */
export type ConsumerDeclaration = Omit<ConsumerOptions, 'maxDeliver'> & { maxDeliver?: number };

/** A running thing the drain waits for (a served subject, an endpoint). */
export interface Drainable {
  drain(): Promise<unknown>;
}

/** The bus connection and JetStream handles of a connected service. */
export interface ServiceBus {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
}

/** How a dead letter is handled besides the warning line: `notify` tells a waiting client too. */
export type DeadLetters = 'log' | 'notify';

/** A declared consumer's handler: the rest of `consumeStream`'s options. */
export type ConsumeDefinition<S extends z.ZodType> = Omit<
  ConsumeOptions<S>,
  'js' | 'stream' | 'consumer' | 'maxDeliver' | 'onDeadLetter'
> & {
  /** Names the consumer in the line logged when it stops on an error. */
  name: string;
  deadLetters: DeadLetters;
};

/** A request/reply operation's handler: the validated request and its tenant -> the reply. */
export type OperationHandler<O extends RequestOperation> = Parameters<typeof serveOperation<O>>[2];

/** Serves one request/reply operation in its service's queue group (see `serveOperations`). */
export type OperationServer = <O extends RequestOperation>(
  operation: O,
  handler: OperationHandler<O>,
) => void;

/** What `start` hands the runtime: how the service stops, and what its ready line says. */
export interface StartedService {
  /** Logged with the ready line. */
  details?: Record<string, unknown>;
  /** First on shutdown: stops intake the runtime does not know (an HTTP endpoint, schedules). */
  stopIntake?: () => Promise<void>;
  /** After the consumers stopped and the served subjects drained, while NATS is still up. */
  flush?: () => Promise<void>;
  /** Last, after NATS is drained: closes stores and indexes. */
  close?: () => Promise<void>;
}

/** What a service's `start` works with. */
export interface ServiceContext<C extends RuntimeConfig> {
  readonly name: string;
  readonly config: C;
  readonly log: Logger;
  readonly registry: Registry;
  /**
   * Opens a configured backend or stops the process with one line (fail fast): the error's
   * message says what is wrong and what to do; no stack trace. A NATS request that got no answer
   * (a KV bucket, a JetStream read at start) is tried again first, as the start's own are:
   * `open` must be safe to call again.
   */
  open<T>(what: string, open: () => Promise<T> | T): Promise<T>;
  /** Connects to NATS, ensures the streams and the declared consumers, exports their metrics. */
  connect(): Promise<ServiceBus>;
  /** Consumes a declared consumer (by stream) until shutdown; readiness follows it. */
  consume<S extends z.ZodType>(stream: string, definition: ConsumeDefinition<S>): Promise<void>;
  /**
   * Consumes a JetStream operation (its stream, its service's durable consumer, its message
   * schema: `Operations.store`, …) until shutdown; declare it with `operationConsumer`.
   */
  consumeOperation<O extends JetStreamOperation>(
    operation: O,
    definition: Omit<ConsumeDefinition<O['message']>, 'schema'>,
  ): Promise<void>;
  /**
   * Serves request/reply operations, all with these options (concurrency, observer, error
   * hook); drained on shutdown after the consumers stop. Needs `connect()` first.
   */
  serveOperations(options: ServeOperationOptions): OperationServer;
  /** Served subjects drained on shutdown, after the consumers stop. */
  serving(...served: Drainable[]): void;
}

export interface ServiceDefinition<C extends RuntimeConfig> {
  /** The service name: logs, metrics, traces and the NATS connection name. */
  name: string;
  /** Parses the environment (throws `ConfigError` naming the option and the env variable). */
  config: (environment: NodeJS.ProcessEnv) => C;
  /** JetStream operations this service consumes with their own durable consumer, as declared. */
  consumes?: readonly JetStreamOperation[];
  /** Durable consumers this service reads with options of their own, ensured on connect. */
  consumers?: (config: C) => ConsumerDeclaration[];
  /** Builds the service: backends, connect, domain, consumers and served subjects. */
  start: (context: ServiceContext<C>) => Promise<StartedService>;
}

export interface DefinedService {
  readonly name: string;
  /**
   * Runs the service: config, logger, tracing (the one place the OTel SDK starts), metrics and
   * the telemetry server (/metrics /healthz /readyz), `start`, the ready message a supervising
   * process waits for, and a graceful drain on SIGTERM/SIGINT.
   */
  run(environment?: NodeJS.ProcessEnv): Promise<void>;
}

/** One service runtime: each `main.ts` declares what differs and `run()`s it. */
export function defineService<C extends RuntimeConfig>(
  definition: ServiceDefinition<C>,
): DefinedService {
  return { name: definition.name, run: (environment) => run(definition, environment) };
}

async function run<C extends RuntimeConfig>(
  definition: ServiceDefinition<C>,
  environment: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const name = definition.name;
  const config = parseConfig(definition, environment);
  const telemetry = processTelemetry(name, config);
  const { log, registry } = telemetry;
  const declared: ConsumerDeclaration[] = [
    ...(definition.consumes ?? []).map(operationConsumer),
    ...(definition.consumers?.(config) ?? []),
  ];
  const consumers: StreamConsumer[] = [];
  const served: Drainable[] = [];
  let bus: ServiceBus | undefined;
  let consuming = true;

  const declaration = (stream: string): ConsumerDeclaration & { maxDeliver: number } => {
    const found = declared.find((consumer) => consumer.stream === stream);
    if (found === undefined) throw new Error(`${name} declares no consumer on stream ${stream}`);
    return { ...found, maxDeliver: found.maxDeliver ?? config.maxDeliver };
  };
  /**
   * A start step run again when its NATS request got no answer (nats-server 2.9 leaves some
   * unsent while a stack's services start together), as `startJetStream` runs its own.
   */
  const untilAnswered = <T>(doing: string, step: () => Promise<T>): Promise<T> =>
    retry(step, {
      attempts: START_ATTEMPTS,
      baseMs: 50,
      maxMs: 1_000,
      retryable: isUnanswered,
      onRetry: ({ attempt }) =>
        log.warn(`${doing}: a NATS request got no answer; trying again`, { attempt }),
      giveUp: (error) => error,
    });
  const connected = (): ServiceBus => {
    if (bus === undefined) throw new Error(`${name}: connect() before consuming`);
    return bus;
  };

  const context: ServiceContext<C> = {
    name,
    config,
    log,
    registry,
    async open(what, open) {
      try {
        return await untilAnswered(`opening the ${what}`, async () => open());
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        log.error(`cannot open the ${what}; stopping: ${reason}`, { error });
        process.exit(1);
      }
    },
    async connect() {
      if (bus !== undefined) return bus;
      const nc = await connectBus(busConnectionFromEnv(config, name));
      const js = jetstream(nc);
      const jsm = await startJetStream(nc, {
        streams: { replicas: config.streamReplicas },
        consumers: declared.map((consumer) => declaration(consumer.stream)),
        onRetry: (attempt, error) =>
          log.warn('a JetStream API request got no answer at start; trying again', {
            attempt,
            reason: error.message,
          }),
      });
      if (declared.length > 0)
        registerJetStreamMetrics(
          registry,
          jetStreamStatusReader(
            jsm,
            declared.map(({ stream, durable }) => ({ stream, consumer: durable })),
          ),
          { tenantLabel: config.metricsTenantLabel },
        );
      bus = { nc, js, jsm };
      return bus;
    },
    consumeOperation<O extends JetStreamOperation>(
      operation: O,
      definition: Omit<ConsumeDefinition<O['message']>, 'schema'>,
    ) {
      return context.consume<O['message']>(operationConsumer(operation).stream, {
        ...definition,
        schema: operation.message,
      } as ConsumeDefinition<O['message']>);
    },
    async consume(stream, { name: consumerName, deadLetters, ...options }) {
      const { nc, js } = connected();
      const { durable, maxDeliver } = declaration(stream);
      // Its first requests (the consumer's info) may get no answer at start, as the others'.
      const consumer = await untilAnswered(`consuming ${stream}`, () =>
        consumeStream({
          ...options,
          js,
          stream,
          consumer: durable,
          maxDeliver,
          onDeadLetter: (letter, headers, data) => {
            log.warn('dead-lettered', {
              subject: letter.subject,
              code: letter.error.code,
              reason: letter.error.message,
            });
            if (deadLetters === 'notify') notifyDeadLetter(nc, letter, headers, data);
          },
        }),
      );
      consumers.push(consumer);
      consumer.done.then(
        () => {
          consuming = false;
        },
        (error: unknown) => {
          consuming = false;
          log.error(`${consumerName} consumer stopped`, { error });
        },
      );
    },
    serveOperations(options) {
      const { nc } = connected();
      return (operation, handler) => {
        served.push(serveOperation(nc, operation, handler, options));
      };
    },
    serving(...handles) {
      served.push(...handles);
    },
  };

  let started: StartedService;
  try {
    started = await definition.start(context);
  } catch (error) {
    // One line saying what failed, not an unhandled rejection's stack (a NATS TimeoutError names
    // no request).
    const reason = error instanceof Error ? error.message : String(error);
    log.error(`cannot start; stopping: ${reason}`, { error });
    process.exit(1);
  }
  const { nc } = connected();
  await telemetry.run({
    checks: () => ({
      nats: !nc.isClosed(),
      ...(consumers.length > 0 ? { consumer: consuming } : {}),
    }),
    details: { nats: config.natsUrl, ...started.details },
    drain: async () => {
      await started.stopIntake?.();
      await Promise.all(consumers.map((consumer) => consumer.stop()));
      await Promise.all(served.map((handle) => handle.drain()));
      await started.flush?.();
      await nc.drain();
      await started.close?.();
    },
  });
}

/** The config, or one line naming each bad option and its env variable, and exit 1. */
function parseConfig<C extends RuntimeConfig>(
  definition: ServiceDefinition<C>,
  environment: NodeJS.ProcessEnv,
): C {
  try {
    return definition.config(environment);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    createLogger(definition.name).error(error.message);
    process.exit(1);
  }
}
