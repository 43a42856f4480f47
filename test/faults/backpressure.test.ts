/**
 * Backpressure: while the vector-store is stalled (SIGSTOP), stores keep being accepted and the
 * backlog grows in JetStream (its consumer's pending count): the stalled process holds at most
 * its pull buffer, never more than the consumer's max_ack_pending, whatever the backlog. Once it
 * runs again every memory lands, and its resident memory while working off the backlog stays
 * within a bound set by its baseline.
 */

import { connectBus, jetstreamManager } from '@membus/bus';
import { waitFor } from '@membus/bus/testing';
import { Consumers, Streams } from '@membus/contracts';
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
/**
 * Peak RSS allowed while the backlog drains: baseline + 32 MiB + 24 KiB per store.
 * What legitimately grows is the data itself: the embedded index and document store keep
 * every memory (vector, text, payload, SQLite pages), and V8 keeps some garbage between
 * collections. CI measured baseline 161 MB and peak 270 MB for 6,000 stores (local runs:
 * 155 -> 263, 159 -> 266), i.e. ~18 KiB of growth per stored memory; the bound allows
 * ~1.6x that growth (baseline + 173 MiB at 6,000) so GC timing on another machine does not
 * trip it. It fails when per-message memory grows by roughly 10 KiB more than that, e.g. a
 * vector-store that kept every decoded message (or the backlog several times over) alive;
 * the backlog itself is ~2.6 KiB per message on the wire (15 MB at 6,000), so the pending
 * count below, not RSS, is what shows the backlog stays in JetStream.
 */
const rssBoundKb = (baselineKb: number, stores: number): number =>
  baselineKb + 32 * 1024 + 24 * stores;

it(`keeps a ${COUNT}-store backlog in JetStream, not in process memory`, async () => {
  await using stack = await startTestStack();
  const client = await stack.client('backpressure');
  const vectorStore = stack.services.get('vector-store');
  const pid = vectorStore?.process.pid as number;
  const nc = await connectBus({
    servers: stack.nats.url,
    name: 'backpressure-probe',
    ...stack.admin,
  });
  try {
    const jsm = await jetstreamManager(nc);
    const baseline = await residentKb(pid);
    vectorStore?.process.kill('SIGSTOP');
    const load = await storeLoad(client, { count: COUNT, batchSize: 250 });
    // Every store was accepted; once the embedder is idle, each one is in the embedded stream.
    // This waits on the embedder only, so the vector-store consumer's counts below are
    // observations, not the condition that was waited for.
    await waitFor(
      async () => {
        const info = await jsm.consumers.info(Streams.store.name, Consumers.embedder);
        return info.num_pending === 0 && info.num_ack_pending === 0;
      },
      { timeoutMs: 60_000, what: 'the embedder to pass every store on' },
    );
    const stalled = await jsm.consumers.info(Streams.embedded.name, Consumers.vectorStore);
    const backlogBytes = (await jsm.streams.info(Streams.embedded.name)).state.bytes;
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
      await waitPipelineDrained(stack.nats.url, { connection: stack.admin });
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, await residentKb(pid));
    const counts = await countMemories(client, load.ids);
    const bound = rssBoundKb(baseline, COUNT);
    console.log(
      `[backpressure] stores=${COUNT} pendingInStream=${stalled.num_pending} heldByStalledProcess=${stalled.num_ack_pending} backlogMb=${Math.round(backlogBytes / 1048576)} rssBaselineMb=${Math.round(baseline / 1024)} rssPeakMb=${Math.round(peak / 1024)} rssBoundMb=${Math.round(bound / 1024)} landed=${counts.distinct}`,
    );
    expect({
      inFlightBounded: stalled.num_ack_pending <= MAX_ACK_PENDING,
      backlogInStream: stalled.num_pending > 0 && stalled.num_pending >= COUNT - MAX_ACK_PENDING,
      rssWithinBound: peak <= bound,
      landed: counts.distinct,
    }).toEqual({
      inFlightBounded: true,
      backlogInStream: true,
      rssWithinBound: true,
      landed: COUNT,
    });
  } finally {
    vectorStore?.process.kill('SIGCONT');
    await nc.close();
  }
}, 300_000);
