import { connectBus, type NatsConnection } from '@membus/bus';
import { coreServices, type ServiceName } from '@membus/cli';
import type { MemoryClient } from '@membus/client';
import { afterAll, beforeAll } from 'vitest';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

/** What a hostile-input file attacks through. */
export interface HostileStack {
  stack: TestStack;
  /** A client of the file's tenant, for valid traffic. */
  client: MemoryClient;
  /** An operators' connection, for raw (malformed) messages on any subject. */
  nc: NatsConnection;
}

/**
 * The stack a hostile-input file attacks, started before its tests and disposed after them:
 * `services`, a client of `tenant` and an operators' connection named `name`. Its fields are
 * set once the file's `beforeAll` has run.
 */
export function hostileStack(
  tenant: string,
  name: string,
  services: readonly ServiceName[] = coreServices,
): HostileStack {
  const probe = {} as Partial<HostileStack>;
  beforeAll(async () => {
    const stack = await startTestStack({}, services);
    probe.stack = stack;
    probe.client = await stack.client(tenant);
    probe.nc = await connectBus({ servers: stack.nats.url, name, ...stack.admin });
  }, 90_000);
  afterAll(async () => {
    await probe.nc?.close();
    await probe.stack?.[Symbol.asyncDispose]();
  });
  return probe as HostileStack;
}
