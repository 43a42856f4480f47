import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { connectBus, jetstreamManager } from '@membus/bus';
import { waitFor } from '@membus/bus/testing';
import type { ServiceName } from '@membus/cli';
import { MembusError, type MemoryClient, type StoreInput } from '@membus/client';
import { Streams } from '@membus/contracts';
import { startTestStack, type TestStack } from './stack.ts';

/** Whether the long variants run (`MEMBUS_LONG_TESTS=1`). */
export const longTests = process.env.MEMBUS_LONG_TESTS === '1';

/** Memories a fault scenario stores (10,000 with `MEMBUS_LONG_TESTS=1`). */
export const FAULT_COUNT = longTests ? 10_000 : 1_500;

export interface LoadCheckpoint {
  /** Runs once this many memories have been accepted by JetStream. */
  at: number;
  /** Awaited before the load continues (e.g. kill a process). */
  action: () => Promise<void>;
}

export interface LoadOptions {
  count: number;
  /** Memories per storeMany. */
  batchSize?: number;
  /** storeMany calls in flight. */
  concurrency?: number;
  checkpoints?: LoadCheckpoint[];
  /** Gives up (throws) after this long. */
  deadlineMs?: number;
  /** Extra fields for every memory. */
  extra?: Partial<StoreInput>;
}

export interface LoadResult {
  /** Every id sent (each accepted by JetStream at least once). */
  ids: string[];
  /** storeMany calls that failed and were sent again with the same ids. */
  retries: number;
}

/**
 * Stores `count` distinct memories through the client with client-side ids. A batch whose
 * publish failed (retryable, e.g. NATS down) is sent again with the same ids, as an agent
 * should: the pipeline is idempotent by id. Checkpoints run between batches, in order.
 */
export async function storeLoad(client: MemoryClient, options: LoadOptions): Promise<LoadResult> {
  const batchSize = options.batchSize ?? 100;
  const concurrency = options.concurrency ?? 2;
  const deadline = Date.now() + (options.deadlineMs ?? 180_000);
  const run = randomUUID().slice(0, 8);
  const ids = Array.from({ length: options.count }, () => randomUUID());
  const checkpoints = [...(options.checkpoints ?? [])].sort((a, b) => a.at - b.at);
  let accepted = 0;
  let next = 0;
  let retries = 0;
  let gate: Promise<void> = Promise.resolve();

  const sendBatch = async (start: number): Promise<void> => {
    const batch = ids.slice(start, start + batchSize).map(
      (id, offset): StoreInput => ({
        id,
        text: `Fault run ${run} memory ${start + offset}: deploy step ${(start + offset) % 97} finished with exit code ${(start + offset) % 7}`,
        // These texts differ only in their numbers, which near-duplicate merging would
        // (by design) fold together; this load counts durability, so every store stays apart.
        mergeSimilar: false,
        ...options.extra,
      }),
    );
    for (let attempt = 1; ; attempt++) {
      try {
        await client.storeMany(batch);
        break;
      } catch (error) {
        const retryable = error instanceof MembusError && error.retryable;
        if (!retryable || attempt >= 200 || Date.now() > deadline) throw error;
        retries++;
        // Back off before the next attempt (a retry delay, not a synchronisation).
        await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 50 * attempt)));
      }
    }
    accepted += batch.length;
  };

  const worker = async (): Promise<void> => {
    while (next < ids.length) {
      await gate;
      const start = next;
      next += batchSize;
      if (start >= ids.length) return;
      await sendBatch(start);
      while (checkpoints[0] && accepted >= checkpoints[0].at) {
        const checkpoint = checkpoints.shift() as LoadCheckpoint;
        gate = checkpoint.action();
        await gate;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  return { ids, retries };
}

/**
 * Waits until the pipeline is empty: the embedder's and then the vector-store's durable
 * consumer have nothing pending and nothing un-acked. (Consumer state, not stream size: after a
 * nats-server crash a work-queue stream can keep a few messages whose ack the consumer had
 * already recorded; they are processed, not pending.)
 */
export async function waitPipelineDrained(
  url: string,
  options: { timeoutMs?: number; connection?: Record<string, string> } = {},
): Promise<void> {
  const nc = await connectBus({ servers: url, name: 'fault-probe', ...options.connection });
  try {
    const jsm = await jetstreamManager(nc);
    const describe = async () =>
      (
        await Promise.all(
          [
            [Streams.store.name, 'embedder'],
            [Streams.embedded.name, 'vector-store'],
          ].map(async ([stream, name]) => {
            const info = await jsm.consumers.info(stream as string, name as string);
            const streamInfo = await jsm.streams.info(stream as string);
            return {
              text: `${name}: pending=${info.num_pending} ackPending=${info.num_ack_pending} redelivered=${info.num_redelivered} streamMessages=${streamInfo.state.messages}`,
              idle: info.num_pending === 0 && info.num_ack_pending === 0,
            };
          }),
        )
      ).map((state) => state);
    let last = '';
    try {
      await waitFor(
        async () => {
          // In pipeline order: once the embedder is idle, every embedded message exists.
          const states = await describe();
          last = states.map((state) => state.text).join('; ');
          return states.every((state) => state.idle);
        },
        { timeoutMs: options.timeoutMs ?? 120_000, intervalMs: 250, what: 'the pipeline to drain' },
      );
    } catch (error) {
      throw new Error(`${(error as Error).message} (${last})`);
    }
  } finally {
    await nc.close();
  }
}

export interface MemoryCounts {
  /** `stats().total` */
  total: number;
  /** Records returned by `listAll`. */
  listed: number;
  /** Distinct ids among them. */
  distinct: number;
  /** Sent ids not found. */
  missing: number;
  /** Listed ids that were never sent. */
  unexpected: number;
  /** Sum of `occurrences` (a redelivery counted twice would show here). */
  occurrences: number;
}

/** Counts a tenant's memories two ways and compares them with the ids sent. */
export async function countMemories(
  client: MemoryClient,
  sent: readonly string[],
): Promise<MemoryCounts> {
  const { total } = await client.stats();
  const listedIds: string[] = [];
  let occurrences = 0;
  for await (const record of client.listAll(undefined, 500)) {
    listedIds.push(record.id);
    occurrences += record.occurrences;
  }
  const distinct = new Set(listedIds);
  const sentSet = new Set(sent);
  return {
    total,
    listed: listedIds.length,
    distinct: distinct.size,
    missing: sent.filter((id) => !distinct.has(id)).length,
    unexpected: [...distinct].filter((id) => !sentSet.has(id)).length,
    occurrences,
  };
}

/** Messages in `memory.dlq.<tenant>`. */
export async function deadLetterCount(
  url: string,
  tenant: string,
  connection: Record<string, string> = {},
): Promise<number> {
  const nc = await connectBus({ servers: url, name: 'dlq-probe', ...connection });
  try {
    const jsm = await jetstreamManager(nc);
    const subject = `memory.dlq.${tenant}`;
    const info = await jsm.streams.info(Streams.dlq.name, { subjects_filter: subject });
    return info.state.subjects?.[subject] ?? 0;
  } finally {
    await nc.close();
  }
}

/** Resident set size of a process in KiB, from /proc (Linux). */
export async function residentKb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]);
}

/** HTTP status of a service's /healthz. */
export async function healthStatus(metricsPort: number): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${metricsPort}/healthz`, {
    signal: AbortSignal.timeout(5_000),
  });
  await response.arrayBuffer();
  return response.status;
}

/** Whether a process is still running (signal 0 probes without touching it). */
export function isAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A fault scenario's counts: the memories sent, found, and dead-lettered. */
export type FaultCounts = MemoryCounts & { sent: number; deadLettered: number };

export interface FaultStep {
  /** Runs once this fraction of the load has been accepted by JetStream; the load waits for it. */
  after: number;
  action: () => Promise<unknown>;
}

export interface FaultScenario {
  /** Printed with the counts. */
  name: string;
  stack: Pick<TestStack, 'nats' | 'admin' | 'logs'>;
  client: MemoryClient;
  /** Memories stored; `FAULT_COUNT` unless given. */
  count?: number;
  faults: FaultStep[];
  batchSize?: number;
}

/**
 * Runs a fault scenario on a stack of its own (tenant `fault-<service>`): `service` is SIGKILLed
 * when 40 % of the load is accepted and restarted (same data directory) at 70 %; JetStream keeps
 * accepting stores while it is down.
 */
export async function runKillScenario(service: ServiceName): Promise<FaultCounts> {
  await using stack = await startTestStack();
  const client = await stack.client(`fault-${service}`);
  // Awaited here: the stack must outlive the scenario.
  return await runFaultScenario({
    name: `${service} SIGKILL`,
    stack,
    client,
    faults: [
      { after: 0.4, action: async () => stack.services.get(service)?.stop('SIGKILL') },
      { after: 0.7, action: () => stack.restart(service) },
    ],
  });
}

/**
 * Runs the load with the fault injected, waits for the pipeline to drain, and returns the
 * counts (printed, so CI logs show them).
 */
export async function runFaultScenario(scenario: FaultScenario): Promise<FaultCounts> {
  const count = scenario.count ?? FAULT_COUNT;
  let load: LoadResult;
  try {
    load = await storeLoad(scenario.client, {
      count,
      batchSize: scenario.batchSize ?? 100,
      checkpoints: scenario.faults.map((step) => ({
        at: Math.floor(count * step.after),
        action: async () => {
          await step.action();
        },
      })),
    });
    await waitPipelineDrained(scenario.stack.nats.url, { connection: scenario.stack.admin });
  } catch (error) {
    console.log(
      `[fault] ${scenario.name} failed (${String(error)}); last service logs:\n${scenario.stack.logs.slice(-30).join('\n')}`,
    );
    throw error;
  }
  const counts = await countMemories(scenario.client, load.ids);
  const deadLettered = await deadLetterCount(
    scenario.stack.nats.url,
    scenario.client.tenant,
    scenario.stack.admin,
  );
  const result = { sent: load.ids.length, ...counts, deadLettered };
  console.log(
    `[fault] ${scenario.name}: sent=${result.sent} stats.total=${result.total} listed=${result.listed} distinct=${result.distinct} missing=${result.missing} unexpected=${result.unexpected} occurrences=${result.occurrences} deadLettered=${result.deadLettered} publishRetries=${load.retries}`,
  );
  return result;
}

/** What every fault scenario must end with: exactly the memories sent, each once. */
export function expectedCounts(count: number = FAULT_COUNT): FaultCounts {
  return {
    sent: count,
    total: count,
    listed: count,
    distinct: count,
    missing: 0,
    unexpected: 0,
    occurrences: count,
    deadLettered: 0,
  };
}

/** Sum of a metric's samples on a service's /metrics whose labels include every `labels` pair. */
export async function metricSum(
  metricsPort: number,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, {
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`)))
      continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
