/** A service with one consumer and nothing else, run by define-service.test.ts as a child process. */
import { busEnvSpec, env, parseEnv, serviceEnvSpec } from '@membus/bus';
import { StoreMemorySchema, Streams } from '@membus/contracts';
import { defineService } from '../../src/index.ts';

const probeEnvSpec = {
  ...busEnvSpec,
  ...serviceEnvSpec(0),
  maxDeliver: { env: 'PROBE_MAX_DELIVER', schema: env.int(3, 1, 10), description: 'deliveries' },
};

await defineService({
  name: 'probe',
  config: (environment) => parseEnv(probeEnvSpec, environment),
  consumers: () => [{ stream: Streams.store.name, durable: 'probe' }],
  async start(runtime) {
    await runtime.connect();
    await runtime.consume(Streams.store.name, {
      name: 'probe',
      schema: StoreMemorySchema,
      handler: async (items) => items.map(() => ({ ok: true })),
      deadLetters: 'log',
    });
    return {
      details: { probe: true },
      stopIntake: async () => runtime.log.info('intake stopped'),
      flush: async () => runtime.log.info('flushed'),
      close: async () => runtime.log.info('closed'),
    };
  },
}).run();
