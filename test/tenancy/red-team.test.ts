/**
 * The red team: an agent holding only tenant `acme`'s credentials attacks tenant `globex` on
 * a real nats-server, once with the shipped static config (infra/nats, as compose runs it) and
 * once in JWT mode (as `membus start` and the test stacks run it). Every attack of issue 18 and
 * the ones around them is counted; an effect is any change to globex that globex did not make:
 * a lost, added or altered memory or stream message, a stream or consumer gone, a message in
 * globex's inboxes or notices, a message about globex seen by acme, a dropped store or session
 * end. Decision 006 says why none can happen; this file checks it. One file on purpose (over
 * 400 lines): one list of attacks, counted against one stack per mode.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import {
  connectBus,
  createHeaders,
  decode,
  jetstream,
  jetstreamManager,
  type MsgHdrs,
  type NatsConnection,
} from '@membus/bus';
import { waitFor } from '@membus/bus/testing';
import { repoRoot } from '@membus/cli';
import type { MemoryClient } from '@membus/client';
import {
  Consumers,
  MemoryEventSchema,
  StoreNoticeSchema,
  Streams,
  Subjects,
} from '@membus/contracts';
import { passwordVariable, serviceUsers, TenancyDirectory } from '@membus/tenancy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricSum } from '../helpers/faults.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

const streamNames = Object.values(Streams).map((stream) => stream.name);
const durables: [string, string][] = [
  [Streams.store.name, Consumers.embedder],
  [Streams.embedded.name, Consumers.vectorStore],
  [Streams.outcomes.name, Consumers.patternExtractor],
  [Streams.lifecycle.name, Consumers.compactor],
  [Streams.events.name, Consumers.compactor],
];

/** Where a forged reply (or a redirected JetStream ack) would do harm with a service's rights. */
const hostileReplies = [
  ...streamNames.flatMap((name) => [
    `$JS.API.STREAM.PURGE.${name}`,
    `$JS.API.STREAM.DELETE.${name}`,
  ]),
  `$JS.API.STREAM.MSG.DELETE.${Streams.store.name}`,
  ...durables.map(([stream, durable]) => `$JS.API.CONSUMER.DELETE.${stream}.${durable}`),
  'memory.store.globex',
  'memory.embedded.globex',
  'memory.stored.globex',
  'memory.changed.globex',
  'memory.dlq.globex',
  'memory.outcome.globex',
  'memory.session.end.globex',
  'memory.delete.globex',
  'memory.notice.globex.stolen',
  'memory.compacted.globex',
  '_INBOX.globex.stolen',
  '$KV.membus-embeddings.poison',
];

const someId = '01935c3e-8f5a-7c3b-9d2e-4f6a8b1c2d3e';
/** acme's own request subjects, each with a valid body, and the service that answers it. */
const acmeRequests: [string, unknown, 'vector-store' | 'pattern-extractor' | 'compactor'][] = [
  ['memory.query.acme', { v: 1, text: 'deploy' }, 'vector-store'],
  ['memory.get.acme', { v: 1, ids: [someId] }, 'vector-store'],
  ['memory.list.acme', { v: 1 }, 'vector-store'],
  ['memory.update.acme', { v: 1, id: someId, importance: 0.5 }, 'vector-store'],
  ['memory.delete.acme', { v: 1, ids: [someId] }, 'vector-store'],
  ['memory.history.acme', { v: 1, id: someId }, 'vector-store'],
  ['memory.stats.acme', { v: 1 }, 'vector-store'],
  ['memory.patterns.acme', { v: 1 }, 'pattern-extractor'],
  ['memory.metrics.acme', { v: 1 }, 'pattern-extractor'],
  ['memory.compact.acme', { v: 1, sweeps: ['expire'], dryRun: true }, 'compactor'],
  ['memory.audit.acme', { v: 1 }, 'compactor'],
];

/** Subjects acme must not reach at all (another tenant's, internal ones, the APIs). */
const forbiddenSubjects = [
  'memory.store.globex',
  'memory.query.globex',
  'memory.delete.globex',
  'memory.session.end.globex',
  'memory.outcome.globex',
  'memory.compact.globex',
  'memory.audit.globex',
  'memory.patterns.globex',
  'memory.store.acme.globex',
  'memory.query.acme.globex',
  'memory.expire.acme',
  'memory.merge.acme',
  'memory.expire.globex',
  'memory.embedded.acme',
  'memory.embedded.globex',
  'memory.stored.globex',
  'memory.dlq.acme',
  'memory.dlq.globex',
  'memory.notice.globex.stolen',
  'memory.compacted.globex',
  'memory.embed',
  '_INBOX.globex.stolen',
  ...streamNames.map((name) => `$JS.API.STREAM.PURGE.${name}`),
  `$JS.API.STREAM.INFO.${Streams.store.name}`,
  `$JS.API.CONSUMER.DELETE.${Streams.store.name}.${Consumers.embedder}`,
  `$JS.API.CONSUMER.MSG.NEXT.${Streams.store.name}.${Consumers.embedder}`,
  '$JS.API.INFO',
  '$KV.membus-embeddings.poison',
  '$SYS.REQ.CLAIMS.UPDATE',
  '$SYS.REQ.SERVER.PING.CONNZ',
];

/** Subscriptions acme tries, hoping to see globex's traffic. */
const snoopSubjects = [
  '>',
  'memory.>',
  'memory.*.globex',
  'memory.notice.>',
  'memory.notice.globex.>',
  'memory.stored.globex',
  'memory.compacted.globex',
  '_INBOX.globex.>',
  '_INBOX.>',
  '$JS.>',
  '$KV.>',
  '$SYS.>',
  '_R_.>',
];

/** `membus-notify` values that try to point a notice elsewhere. */
const forgedNotifyHeaders = [
  'globex.stolen',
  'stolen.globex',
  '*',
  '>',
  'x.>',
  '_INBOX.globex.stolen',
  'memory.notice.globex.stolen',
  '../globex',
  ' stolen',
  'x'.repeat(200),
];

interface Mode {
  name: string;
  start(): Promise<TestStack>;
}

const allServices = ['embedder', 'vector-store', 'pattern-extractor', 'compactor'] as const;

const modes: Mode[] = [
  {
    name: 'the shipped static config (infra/nats)',
    async start() {
      const tenancy = await TenancyDirectory.open(join(repoRoot, 'infra/nats'));
      // nats-server reads `$MEMBUS_<USER>_PASSWORD` from its environment (compose's .env).
      for (const user of [...serviceUsers, 'admin', 'agent-acme', 'agent-globex'])
        process.env[passwordVariable(user)] = `${user}-${randomUUID()}`;
      return startTestStack({ SESSION_IDLE_MS: '0', SWEEP_INTERVAL_MS: '0' }, allServices, {
        tenancy,
      });
    },
  },
  {
    name: 'JWT accounts (membus start)',
    start: () => startTestStack({ SESSION_IDLE_MS: '0', SWEEP_INTERVAL_MS: '0' }, allServices),
  },
];

describe.each(modes)('a hostile tenant against $name', (mode) => {
  let stack: TestStack;
  let acme: MemoryClient;
  let globex: MemoryClient;
  let attacker: NatsConnection;
  let admin: NatsConnection;
  const attempts = new Map<string, number>();
  const effects: string[] = [];
  const count = (attack: string, n = 1) => attempts.set(attack, (attempts.get(attack) ?? 0) + n);

  beforeAll(async () => {
    stack = await mode.start();
    acme = await stack.client('acme');
    globex = await stack.client('globex');
    attacker = await connectBus({
      servers: stack.nats.url,
      name: 'red-team-acme',
      ...(await stack.credentials('acme')),
    });
    admin = await connectBus({ servers: stack.nats.url, name: 'red-team-admin', ...stack.admin });
  }, 120_000);

  afterAll(async () => {
    await attacker?.close();
    await admin?.close();
    await stack?.[Symbol.asyncDispose]();
  });

  /** Requests handled by a service so far (its `membus_messages_handled_total`). */
  const handled = (service: 'vector-store' | 'pattern-extractor' | 'compactor') =>
    metricSum(stack.services.get(service)?.metricsPort ?? 0, 'membus_messages_handled_total', {
      kind: 'request',
    });

  /** Messages per globex subject in every stream. */
  const globexSubjects = async () => {
    const jsm = await jetstreamManager(admin);
    const counts: Record<string, number> = {};
    for (const name of streamNames) {
      const info = await jsm.streams.info(name, { subjects_filter: '>' });
      for (const [subject, n] of Object.entries(info.state.subjects ?? {}))
        if (subject.endsWith('.globex')) counts[subject] = n;
    }
    return counts;
  };

  it('has no effect on the other tenant', async () => {
    const jsm = await jetstreamManager(admin);
    // globex's memories: some processed, then 40 accepted while the embedder is down.
    const processed = await globex.storeMany(
      Array.from({ length: 5 }, (_, index) => ({
        text: `Globex deploy note ${index}: the payments API ships from the release branch`,
        sessionId: 'S1',
        mergeSimilar: false,
      })),
      { wait: 'queryable' },
    );
    await stack.services.get('embedder')?.stop();
    const pending = await globex.storeMany(
      Array.from({ length: 40 }, (_, index) => ({
        text: `Globex pending memory ${index}: accepted while nothing embeds`,
        mergeSimilar: false,
      })),
    );
    const before = await globexSubjects();
    expect(before['memory.store.globex']).toBe(40);

    // What globex receives without asking: its notices, inboxes, compaction events.
    const victim = await connectBus({
      servers: stack.nats.url,
      name: 'red-team-globex-watch',
      ...(await stack.credentials('globex')),
    });
    const unasked: { subject: string; body: string }[] = [];
    // (Not `_INBOX.>`: the globex client's own replies arrive there, in the same account.)
    for (const subject of ['memory.notice.globex.>', '_INBOX.globex.>'])
      victim.subscribe(subject, {
        callback: (_error, message) => {
          unasked.push({ subject: message.subject, body: new TextDecoder().decode(message.data) });
        },
      });
    await victim.flush();

    // What acme can see of globex.
    const seen: string[] = [];
    for (const subject of snoopSubjects) {
      count('subscribe to another tenant');
      try {
        attacker.subscribe(subject, {
          callback: (_error, message) => {
            // acme's own forged replies come back to it on the subject it named (e.g.
            // `_INBOX.globex.stolen` in acme's account): what would matter is globex's data.
            const body = new TextDecoder().decode(message.data);
            if (/^memory\..*globex/.test(message.subject) || /Globex /.test(body))
              seen.push(message.subject);
          },
        });
      } catch {
        // refused locally: counted, no effect
      }
    }
    await attacker.flush().catch(() => {});

    // 1. Forged reply subjects through every service acme may call.
    const handledBefore = {
      'vector-store': await handled('vector-store'),
      'pattern-extractor': await handled('pattern-extractor'),
      compactor: await handled('compactor'),
    };
    const expectedHandled = { 'vector-store': 0, 'pattern-extractor': 0, compactor: 0 };
    for (const [subject, body, service] of acmeRequests) {
      for (const reply of hostileReplies) {
        attacker.publish(subject, JSON.stringify(body), { reply });
        count('forged reply subject');
        expectedHandled[service]++;
      }
    }

    // 2. JetStream's own ack redirected: stores, outcomes and session ends on acme's subjects.
    const acmeIds: string[] = [];
    for (const reply of hostileReplies) {
      const id = randomUUID();
      acmeIds.push(id);
      attacker.publish(
        'memory.store.acme',
        JSON.stringify({ v: 1, id, text: `acme junk ${id}`, mergeSimilar: false }),
        { reply },
      );
      attacker.publish(
        'memory.outcome.acme',
        JSON.stringify({ v: 1, id: randomUUID(), success: true, taskType: 'deployment' }),
        { reply },
      );
      attacker.publish('memory.session.end.acme', JSON.stringify({ v: 1, sessionId: 'junk' }), {
        reply,
      });
      count('ack redirection', 3);
    }

    // 3. Store notices pointed at globex.
    for (const value of forgedNotifyHeaders) {
      const headers = createHeaders();
      headers.set('membus-notify', value);
      const id = randomUUID();
      acmeIds.push(id);
      attacker.publish(
        'memory.store.acme',
        JSON.stringify({ v: 1, id, text: `acme notice probe ${id}`, mergeSimilar: false }),
        { headers },
      );
      count('forged notice header');
    }

    // 4. De-duplication ids: JetStream drops a repeated Nats-Msg-Id per stream, whoever sent
    // the first. acme squats every id membus once derived from names (the session end's, the
    // pattern-extractor's, an outcome's): none is used any more (decision 006).
    const squat = [
      'session-end:globex:S1',
      `pattern-extractor:globex:${randomUUID()}`,
      `outcome:globex:${randomUUID()}`,
      'dlq:MEMORY_STORE:1',
      'embedded:1',
    ];
    for (const messageId of squat) {
      for (const subject of [
        'memory.store.acme',
        'memory.session.end.acme',
        'memory.outcome.acme',
      ]) {
        const headers = createHeaders();
        headers.set('Nats-Msg-Id', messageId);
        const body =
          subject === 'memory.store.acme'
            ? { v: 1, id: randomUUID(), text: 'acme squats an id', mergeSimilar: false }
            : subject === 'memory.outcome.acme'
              ? { v: 1, id: randomUUID(), success: false }
              : { v: 1, sessionId: 'S1' };
        attacker.publish(subject, JSON.stringify(body), { headers });
        count('de-duplication id squatting');
      }
    }
    // acme stores under globex's memory ids (known to acme somehow): separate memories.
    const victimId = processed[0]?.id as string;
    for (const { id } of [...processed, ...pending.slice(0, 5)]) {
      attacker.publish(
        'memory.store.acme',
        JSON.stringify({ v: 1, id, text: 'acme overwrites a globex id', mergeSimilar: false }),
      );
      count('memory id collision');
    }

    // 5. Forged headers on acme's own stores.
    const forgedHeaders: [string, string][] = [
      ['x-original-subject', 'memory.store.globex'],
      ['x-error-code', 'INTERNAL'],
      ['Nats-Expected-Stream', Streams.dlq.name],
      ['Nats-Rollup', 'all'],
      ['traceparent', '00-ffffffffffffffffffffffffffffffff-ffffffffffffffff-01'],
      ['membus-tenant', 'globex'],
    ];
    for (const [name, value] of forgedHeaders) {
      const headers: MsgHdrs = createHeaders();
      headers.set(name, value);
      attacker.publish(
        'memory.store.acme',
        JSON.stringify({
          v: 1,
          id: randomUUID(),
          text: `acme header ${name}`,
          mergeSimilar: false,
        }),
        { headers },
      );
      count('forged header');
    }

    // 6. Subjects acme may not use: another tenant's, internal ones, the JetStream, KV and
    // system APIs, wildcard and extra-token forms. Published and requested.
    for (const subject of forbiddenSubjects) {
      attacker.publish(subject, JSON.stringify({ v: 1, text: 'planted', ids: [someId] }));
      count('forbidden subject');
      await attacker
        .request(subject, JSON.stringify({ v: 1 }), { timeout: 1_000 })
        .then(() => effects.push(`a request on ${subject} was answered`))
        .catch(() => {});
      count('forbidden subject');
    }
    await attacker.flush().catch(() => {});

    // Every forged request handled (not a fixed wait: the services' own counters).
    for (const service of ['vector-store', 'pattern-extractor', 'compactor'] as const) {
      await waitFor(
        async () => (await handled(service)) - handledBefore[service] >= expectedHandled[service],
        { timeoutMs: 150_000, intervalMs: 100, what: `${service} to handle the forged requests` },
      );
    }

    // globex, meanwhile: one more store and the session end acme squatted.
    const [late] = await globex.storeMany([{ text: 'Globex stores during the attack' }]);
    const squattedId = late?.id as string;
    await globex.endSession('S1');
    // globex's client sends no de-duplication id at all: nothing of its can be squatted.
    const sent = await jsm.streams.getMessage(Streams.store.name, {
      last_by_subj: 'memory.store.globex',
    });
    if (sent?.header?.get('Nats-Msg-Id'))
      effects.push(
        `globex's store carries a guessable Nats-Msg-Id: ${sent.header.get('Nats-Msg-Id')}`,
      );

    // Back up: everything accepted for globex lands, and only that.
    await stack.restart('embedder');
    const expected = [...processed, ...pending].map((result) => result.id).concat(squattedId);
    await waitFor(async () => (await globex.stats()).total >= expected.length, {
      timeoutMs: 150_000,
      intervalMs: 100,
      what: `globex's ${expected.length} memories`,
    }).catch(async (error: unknown) => {
      // Where the missing memories are: still in a stream, in flight, dead-lettered, or gone.
      const consumers = await Promise.all(
        durables.slice(0, 2).map(async ([stream, durable]) => {
          const info = await jsm.consumers.info(stream, durable).catch(() => undefined);
          return `${stream}/${durable}: pending=${info?.num_pending} ackPending=${info?.num_ack_pending} redelivered=${info?.num_redelivered}`;
        }),
      );
      const total = await globex.stats().then((stats) => stats.total);
      throw new Error(
        `${String(error)}: globex has ${total}; ${consumers.join('; ')}; subjects ${JSON.stringify(await globexSubjects())}\n` +
          stack.logs.slice(-40).join('\n'),
      );
    });
    const { memories, missing } = await globex.getMany(expected);
    if (missing.length > 0) effects.push(`globex lost ${missing.length} memories: ${missing}`);
    const acmeText = memories.filter((memory) => /acme/i.test(memory.text));
    if (acmeText.length > 0) effects.push(`acme's text in globex: ${acmeText.map((m) => m.id)}`);
    if ((await globex.get(victimId))?.text.startsWith('Globex deploy note') !== true)
      effects.push('globex memory overwritten by an id collision');

    // The session globex ended was compacted (its summary is queryable).
    const report = await waitFor(
      async () => {
        const page = await globex.list({ filter: { sessionId: 'S1', kinds: ['summary'] } });
        return page.memories[0];
      },
      { timeoutMs: 150_000, intervalMs: 200, what: "globex's session S1 compacted" },
    ).catch(() => undefined);
    if (!report) effects.push("globex's session end was dropped (not compacted)");

    // Streams and consumers all there; globex's stream messages are globex's own.
    for (const name of streamNames) {
      await jsm.streams.info(name).catch(() => effects.push(`stream ${name} is gone`));
    }
    for (const [stream, durable] of durables) {
      await jsm.consumers
        .info(stream, durable)
        .catch(() => effects.push(`consumer ${stream}/${durable} is gone`));
    }
    // The pipeline at rest first: the summary of S1 is listable once the vector-store wrote it,
    // and its memory.embedded message is gone only when acked just after (a loaded CI host once
    // counted it still there). A message that stays after that is one nothing could take.
    await waitFor(
      async () => {
        for (const [stream, durable] of durables) {
          const info = await jsm.consumers.info(stream, durable);
          if (info.num_pending > 0 || info.num_ack_pending > 0) return false;
        }
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 100, what: 'every consumer caught up' },
    );
    const after = await globexSubjects();
    for (const subject of [
      'memory.dlq.globex',
      'memory.embedded.globex',
      'memory.outcome.globex',
    ]) {
      if ((after[subject] ?? 0) !== (before[subject] ?? 0))
        effects.push(`${subject}: ${before[subject] ?? 0} -> ${after[subject] ?? 0} messages`);
    }
    const known = new Set(expected);
    for (const event of [Subjects.stored, Subjects.changed]) {
      const subject = `${event}.globex`;
      const messages = after[subject] ?? 0;
      const consumer = await jsm.consumers.add(Streams.events.name, {
        filter_subject: subject,
        ack_policy: 'none' as never,
        inactive_threshold: 60_000_000_000,
      });
      const reader = await jetstream(admin).consumers.get(Streams.events.name, consumer.name);
      for (let index = 0; index < messages; index++) {
        const message = await reader.next({ expires: 5_000 });
        if (!message) break;
        const decoded = decode(MemoryEventSchema, message.data);
        if (!decoded.ok)
          effects.push(
            `junk in ${subject}: ${new TextDecoder().decode(message.data).slice(0, 80)}`,
          );
        else if (!known.has(decoded.value.id) && decoded.value.memory?.kind !== 'summary')
          effects.push(`an event in ${subject} for ${decoded.value.id}, not globex's`);
      }
    }
    await victim.flush();
    // A notice is globex's only if it names a memory of globex (the compactor's summary store
    // for S1 is one: services wait on their stores' notices in the tenant's notice space too).
    for (const { subject, body } of unasked) {
      const notice = decode(StoreNoticeSchema, new TextEncoder().encode(body));
      const own = notice.ok && (await globex.get(notice.value.memoryId)) !== undefined;
      if (!own)
        effects.push(`globex received an unasked message on ${subject}: ${body.slice(0, 120)}`);
    }
    await attacker.flush().catch(() => {});
    if (seen.length > 0) effects.push(`acme saw globex traffic: ${seen.slice(0, 5)}`);
    await victim.close();

    // acme's own junk landed in acme (the attacks ran, they just stayed at home).
    const acmeStored = await acme.getMany(acmeIds);
    expect(acmeStored.missing.length).toBeLessThan(acmeIds.length);

    const total = [...attempts.values()].reduce((sum, n) => sum + n, 0);
    console.log(
      `[red-team] ${mode.name}: attempts=${total} effects=${effects.length} (${[...attempts]
        .map(([attack, n]) => `${attack} ${n}`)
        .join(', ')})`,
    );
    expect(effects).toEqual([]);
  }, 600_000);
});
