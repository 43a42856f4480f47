/**
 * A service with one consumer and nothing else, run by define-service.test.ts as a child process.
 * `PROBE_UNANSWERED=N`: its start opens something whose first N tries send a NATS request that
 * gets no answer (a subscriber that never replies); `PROBE_START_FAILS=1`: its start throws.
 */
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
    const { nc } = await runtime.connect();
    const unanswered = Number(process.env.PROBE_UNANSWERED ?? 0);
    if (unanswered > 0) {
      const silent = nc.subscribe('probe.silent');
      let tries = 0;
      await runtime.open('probe bucket', async () => {
        if (++tries <= unanswered) await nc.request('probe.silent', '', { timeout: 100 });
        return tries;
      });
      silent.unsubscribe();
      runtime.log.info('probe bucket opened', { tries });
    }
    if (process.env.PROBE_START_FAILS === '1') throw new Error('the probe cannot start');
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
