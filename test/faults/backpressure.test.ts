/**
 * Backpressure: while the vector-store is stalled (SIGSTOP), stores keep being accepted and the
 * backlog grows in JetStream (its consumer's pending count): the stalled process holds at most
 * its pull buffer, never more than the consumer's max_ack_pending, whatever the backlog. Once it
 * runs again every memory lands. RSS before and at peak is printed for the record.
 */

import { connectBus, jetstreamManager } from '@membus/bus';
import { waitFor } from '@membus/bus/testing';
import { Streams } from '@membus/contracts';
import { expect, it } from 'vitest';
import {
  countMemories,
  longTests,
  residentKb,
  storeLoad,
  waitPipelineDrained,
} from '../helpers/faults.ts';
import { startTestStack } from '../helpers/stack.ts';

const COUNT = longTests ? 20_000 : 6_000;
/** The vector-store consumer's max_ack_pending (packages/bus ensureConsumer default). */
const MAX_ACK_PENDING = 2_048;

it(`keeps a ${COUNT}-store backlog in JetStream, not in process memory`, async () => {
  await using stack = await startTestStack();
  const client = await stack.client('backpressure');
  const vectorStore = stack.services.get('vector-store');
  const pid = vectorStore?.process.pid as number;
  const nc = await connectBus({ servers: stack.nats.url, name: 'backpressure-probe' });
  try {
    const jsm = await jetstreamManager(nc);
    const baseline = await residentKb(pid);
    vectorStore?.process.kill('SIGSTOP');
    const load = await storeLoad(client, { count: COUNT, batchSize: 250 });
    const stalled = await waitFor(
      async () => {
        const info = await jsm.consumers.info(Streams.embedded.name, 'vector-store');
        // Once the embedder has passed everything on, the backlog is complete.
        return info.num_pending + info.num_ack_pending >= COUNT && info;
      },
      { timeoutMs: 60_000, what: 'the backlog to reach the vector-store consumer' },
    );
    vectorStore?.process.kill('SIGCONT');
    let peak = baseline;
    const sampler = setInterval(() => {
      residentKb(pid).then(
        (kb) => {
          peak = Math.max(peak, kb);
        },
        () => {},
      );
    }, 50);
    try {
      await waitPipelineDrained(stack.nats.url);
    } finally {
      clearInterval(sampler);
    }
    const counts = await countMemories(client, load.ids);
    console.log(
      `[backpressure] stores=${COUNT} pendingInStream=${stalled.num_pending} heldByStalledProcess=${stalled.num_ack_pending} rssBaselineMb=${Math.round(baseline / 1024)} rssPeakMb=${Math.round(peak / 1024)} landed=${counts.distinct}`,
    );
    expect({
      inFlightBounded: stalled.num_ack_pending <= MAX_ACK_PENDING,
      backlogInStream: stalled.num_pending >= COUNT - MAX_ACK_PENDING,
      landed: counts.distinct,
    }).toEqual({ inFlightBounded: true, backlogInStream: true, landed: COUNT });
  } finally {
    vectorStore?.process.kill('SIGCONT');
    await nc.close();
  }
}, 300_000);
