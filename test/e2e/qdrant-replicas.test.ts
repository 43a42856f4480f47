/**
 * Several vector-stores on one Qdrant collection (issue 25), against the Qdrant protocol double
 * (no Qdrant server runs in CI): replicas starting together all start, they share the queries,
 * one killed leaves the others answering, and a replica started while the embedder is down
 * answers queries from the model its stored memories name. A re-embedding run is refused while
 * several replicas serve.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deferred } from '@membus/bus/testing';
import { type ServiceProcess, startService } from '@membus/cli';
import type { MemoryClient } from '@membus/client';
import { startQdrantDouble } from '@membus/vector-store/testing';
import { expect, it } from 'vitest';
import { metricSum } from '../helpers/faults.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

const REPLICAS = 3;
const MEMORIES = 24;
const QUERIES = 30;

it('replicas on one collection start together, share the queries, and survive a kill and an embedder outage', async () => {
  await using double = await startQdrantDouble();
  await using stack = await startTestStack({}, ['embedder']);
  const directories: string[] = [];
  const replicas: ServiceProcess[] = [];
  const launch = async (label: string): Promise<ServiceProcess> => {
    // Each its own history database: the memories are in Qdrant, shared.
    const directory = await mkdtemp(join(tmpdir(), 'membus-replica-'));
    directories.push(directory);
    return startService('vector-store', {
      label,
      env: {
        NATS_URL: stack.nats.url,
        ...stack.tenancy.serviceEnv('vector-store'),
        MEMBUS_DATA_DIR: directory,
        LOG_LEVEL: 'info',
        QDRANT_URL: double.url,
      },
      onLog: (name, line) => stack.logs.push(`${name}: ${line}`),
    });
  };
  try {
    // Every replica finds the collection missing before any creates it.
    const allChecked = deferred<void>();
    let checks = 0;
    double.beforeAnswer = async (request) => {
      if (!request.path.endsWith('/exists') || checks >= REPLICAS) return;
      checks++;
      if (checks === REPLICAS) allChecked.resolve();
      await allChecked.promise;
    };
    const started = await Promise.allSettled(
      Array.from({ length: REPLICAS }, (_, n) => launch(`vector-store-${n}`)),
    );
    double.beforeAnswer = undefined;
    for (const result of started) if (result.status === 'fulfilled') replicas.push(result.value);
    expect(started.map((result) => result.status)).toEqual(Array(REPLICAS).fill('fulfilled'));

    const client = await stack.client('replicas');
    await client.storeMany(
      Array.from({ length: MEMORIES }, (_, n) => ({
        namespace: 'fleet',
        text: `host web-${n} runs kernel 6.${n} and serves region r${n % 4}`,
      })),
      { wait: 'queryable' },
    );
    for (let n = 0; n < QUERIES; n++) await expectFound(client, n % MEMORIES);
    const answered = await Promise.all(
      replicas.map((replica) => metricSum(replica.metricsPort, 'membus_query_seconds_count')),
    );
    // Queue-group delivery is random: a replica that answers none of 30 has p ≈ 1.5e-5.
    expect(answered.map((count) => count > 0)).toEqual(Array(REPLICAS).fill(true));

    // Re-embedding keeps a tenant's routing in the process that runs it (decision 011): with
    // other replicas serving, a run is refused, and says why.
    const refused = await client.reembed({ model: 'local-hash-v1-256' }).then(
      () => undefined,
      (error: unknown) => error as { code?: string; message?: string },
    );
    expect([refused?.code, refused?.message]).toEqual([
      'CONFLICT',
      're-embedding needs a single vector-store replica, and 2 other replicas are serving: scale the vector-store to one replica for the run',
    ]);

    await (replicas[0] as ServiceProcess).stop('SIGKILL');
    for (let n = 0; n < 10; n++) await expectFound(client, n);

    // The embedder goes down; a replica started now answers from the stored memories' model.
    await stack.services.get('embedder')?.stop();
    for (const replica of replicas.slice(1)) await replica.stop();
    replicas.push(await launch('vector-store-late'));
    await expectFound(client, 5);
  } catch (error) {
    throw withLogs(error, stack);
  } finally {
    double.beforeAnswer = undefined;
    await Promise.all(replicas.map((replica) => replica.stop()));
    await Promise.all(
      directories.map((directory) => rm(directory, { recursive: true, force: true })),
    );
  }
}, 180_000);

async function expectFound(client: MemoryClient, n: number): Promise<void> {
  const { hits } = await client.query(`which host runs kernel 6.${n}`, {
    filter: { namespace: 'fleet' },
    topK: 3,
  });
  expect(hits.map((hit) => hit.memory.text)).toContain(
    `host web-${n} runs kernel 6.${n} and serves region r${n % 4}`,
  );
}

function withLogs(error: unknown, stack: TestStack): unknown {
  if (error instanceof Error)
    error.message += `\nservice logs:\n${stack.logs.slice(-40).join('\n')}`;
  return error;
}
