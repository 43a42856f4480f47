// Test hooks over vitest: apart from `@membus/bus/testing`, which benchmarks and the eval
// import outside a test runner.
import { afterAll, beforeAll } from 'vitest';
import { connectBus } from '../connection.ts';
import type { NatsConnection } from '../index.ts';
import { type NatsServer, type NatsServerOptions, startNatsServer } from './nats-server.ts';

/** A test file's nats-server and its connection to it (read inside the tests). */
export interface NatsForTests {
  readonly server: NatsServer;
  readonly nc: NatsConnection;
}

/**
 * A real nats-server (JetStream on) and one connection named `name`, shared by the tests of the
 * calling file: started in its `beforeAll`, connection and server closed in its `afterAll`.
 */
export function natsForTests(name: string, options: NatsServerOptions = {}): NatsForTests {
  let server: NatsServer | undefined;
  let nc: NatsConnection | undefined;
  beforeAll(async () => {
    server = await startNatsServer(options);
    nc = await connectBus({ servers: server.url, name });
  });
  afterAll(async () => {
    await nc?.close();
    await server?.stop();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('natsForTests: read inside a test, after beforeAll');
    return value;
  };
  return {
    get server() {
      return started(server);
    },
    get nc() {
      return started(nc);
    },
  };
}
