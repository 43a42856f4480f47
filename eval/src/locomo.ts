/**
 * LOCOMO through the real stack: nats-server with accounts, the embedder and the vector-store
 * as processes on their embedded defaults (as `membus start` and `pnpm bench` run them), and
 * @membus/client as tenant `eval`. Every turn of a conversation is stored as a memory of the
 * user `locomo-<conversation>` (`createdAt` and `metadata.sessionDate` the session's date);
 * each question of categories 1-4 is asked with that user's filter in every mode.
 *
 *   pnpm eval --locomo ../shared/data/locomo-dev [--modes dense,keyword,hybrid] [--json out.json]
 *
 * The questions are asked as the service answers by default (its relevance floor on); then the
 * floor is calibrated (locomo-floor.ts).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNatsServer } from '@membus/bus/testing';
import { type ServiceName, type ServiceProcess, startService } from '@membus/cli';
import { connect, type MemoryClient, type StoreInput } from '@membus/client';
import { TenancyDirectory } from '@membus/tenancy';
import { type LocomoConversation, loadLocomo, locomoCategoryOrder } from './locomo-dataset.ts';
import { calibrateFloor, type FloorReport, OFF_TOPIC_QUESTIONS } from './locomo-floor.ts';
import {
  type EvidenceOutcome,
  type EvidenceScores,
  evidenceScores,
  evidenceScoresByCategory,
  percentile,
} from './locomo-metrics.ts';
import { type Latency, type ModeReport, render } from './locomo-report.ts';

const TENANT = 'eval';
const TOP_K = 20;
const BATCH = 500;
/** Questions asked once per mode before the measured pass (JIT, caches), not timed. */
const WARM_UP = 50;

export type LocomoMode = 'dense' | 'keyword' | 'hybrid';

export interface LocomoOptions {
  directory: string;
  modes: LocomoMode[];
  /** Where the JSON report goes (default `eval/results/locomo-<directory name>.json`). */
  json?: string;
  /** The embedder's provider (`EMBEDDING_PROVIDER`); the service's default unless told. */
  provider?: 'local' | 'onnx';
  /** Store each turn's previous turn as its keyword-only `context` (default true). */
  context?: boolean;
  /** Prefix the session's date ("7 May 2023") to each turn's keyword context (default false). */
  dateContext?: boolean;
  /** Calibrate the relevance floor after the modes (default true). */
  floor?: boolean;
  log?: (message: string) => void;
}

const userOf = (conversation: LocomoConversation) => `locomo-${conversation.id}`;

export async function runLocomo(options: LocomoOptions): Promise<void> {
  const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  const conversations = await loadLocomo(options.directory);
  const context = options.context ?? true;
  const stack = await startStack(options.provider);
  try {
    const started = performance.now();
    const turnsByMemory = new Map<string, string[]>();
    let turns = 0;
    for (const conversation of conversations) {
      log(`conversation ${conversation.id}: storing ${conversation.turns.length} turns`);
      for (const [memoryId, diaIds] of await ingest(
        stack.client,
        conversation,
        context,
        options.dateContext ?? false,
      ))
        turnsByMemory.set(memoryId, [...(turnsByMemory.get(memoryId) ?? []), ...diaIds]);
      turns += conversation.turns.length;
    }
    const ingestSeconds = (performance.now() - started) / 1000;
    const reports: ModeReport[] = [];
    for (const mode of options.modes) {
      log(`mode ${mode}: asking ${conversations.reduce((n, c) => n + c.questions.length, 0)}`);
      reports.push(await askAll(stack.client, conversations, turnsByMemory, mode));
    }
    let floor: FloorReport | undefined;
    if (options.floor ?? true) {
      log(
        `relevance floor: related, other-conversation and ${OFF_TOPIC_QUESTIONS.length} off-topic questions`,
      );
      floor = await calibrateFloor(stack.client, conversations, TOP_K);
    }
    const report = {
      generatedAt: new Date().toISOString(),
      dataset: {
        directory: basename(options.directory),
        conversations: conversations.map((conversation) => ({
          id: conversation.id,
          turns: conversation.turns.length,
          questions: conversation.questions.length,
          skippedQuestions: conversation.skippedQuestions,
          droppedEvidence: conversation.droppedEvidence,
        })),
      },
      stack: 'nats-server (accounts) + embedder + vector-store processes, embedded defaults',
      provider: options.provider ?? 'service default',
      /** Whether each turn carried its previous turn as keyword-only context. */
      context,
      /** As the stored memories record it. */
      embeddingModel: reports[0]?.embeddingModel,
      topK: TOP_K,
      ingest: {
        turns,
        memories: turnsByMemory.size,
        seconds: Number(ingestSeconds.toFixed(2)),
        perSecond: Math.round(turns / ingestSeconds),
      },
      modes: reports,
      ...(floor !== undefined ? { floor } : {}),
    };
    process.stdout.write(`${render(report, TOP_K)}\n`);
    const name = basename(options.directory);
    const out =
      options.json ??
      join(resultsDirectory, `${name.startsWith('locomo') ? name : `locomo-${name}`}.json`);
    await mkdir(dirname(resolve(out)), { recursive: true });
    await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
    log(`wrote ${out}`);
  } finally {
    await stack.close();
  }
}

const resultsDirectory = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');

interface Stack {
  client: MemoryClient;
  close(): Promise<void>;
}

/** nats-server with a JWT account directory and the two core services, as `pnpm bench` does. */
async function startStack(provider: LocomoOptions['provider']): Promise<Stack> {
  const dataDir = await mkdtemp(join(tmpdir(), 'membus-locomo-'));
  const tenancyDir = await mkdtemp(join(tmpdir(), 'membus-locomo-tenancy-'));
  const tenancy = await TenancyDirectory.open(tenancyDir, { mode: 'jwt' });
  await tenancy.addTenant(TENANT);
  const nats = await startNatsServer({ configFile: tenancy.configFile });
  const services: ServiceProcess[] = [];
  let client: MemoryClient | undefined;
  const close = async () => {
    await client?.close();
    await Promise.all(services.map((service) => service.stop()));
    const violations = [...nats.violations];
    await nats.stop();
    await rm(dataDir, { recursive: true, force: true });
    await rm(tenancyDir, { recursive: true, force: true });
    if (violations.length > 0)
      throw new Error(`nats-server logged permission violations: ${violations.join('; ')}`);
  };
  try {
    const env = (service: ServiceName) => ({
      NATS_URL: nats.url,
      ...tenancy.serviceEnv(service),
      MEMBUS_DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
    });
    services.push(
      await startService('embedder', {
        env: { ...env('embedder'), ...(provider ? { EMBEDDING_PROVIDER: provider } : {}) },
      }),
    );
    services.push(await startService('vector-store', { env: env('vector-store') }));
    client = await connect({
      servers: nats.url,
      tenant: TENANT,
      timeoutMs: 30_000,
      ...tenancy.agent(TENANT),
    });
    return { client, close };
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}

/** Stores every turn (oldest session first); returns memory id -> the turn ids it holds. */
async function ingest(
  client: MemoryClient,
  conversation: LocomoConversation,
  context: boolean,
  dateContext: boolean,
): Promise<Map<string, string[]>> {
  const byMemory = new Map<string, string[]>();
  for (let start = 0; start < conversation.turns.length; start += BATCH) {
    const batch = conversation.turns.slice(start, start + BATCH);
    const inputs: StoreInput[] = batch.map((turn) => {
      const words = [
        ...(dateContext ? [dateWords(turn.sessionDate)] : []),
        ...(context && turn.previous !== undefined ? [turn.previous] : []),
      ];
      return {
        text: turn.text,
        ...(words.length > 0 ? { context: words.join('\n') } : {}),
        userId: userOf(conversation),
        kind: 'episode',
        createdAt: turn.sessionDate,
        metadata: {
          source: 'locomo',
          conversation: conversation.id,
          diaId: turn.diaId,
          session: turn.session,
          sessionDate: turn.sessionDate,
          speaker: turn.speaker,
        },
        // Each turn is its own memory (an exact duplicate text is still merged: counted for both).
        mergeSimilar: false,
      };
    });
    const results = await client.storeMany(inputs, { wait: 'queryable', timeoutMs: 600_000 });
    results.forEach((result, position) => {
      const memoryId = result.memoryId ?? result.id;
      const diaId = (batch[position] as (typeof batch)[number]).diaId;
      byMemory.set(memoryId, [...(byMemory.get(memoryId) ?? []), diaId]);
    });
  }
  return byMemory;
}

async function askAll(
  client: MemoryClient,
  conversations: LocomoConversation[],
  turnsByMemory: Map<string, string[]>,
  mode: LocomoMode,
): Promise<ModeReport> {
  let embeddingModel: string | undefined;
  const ask = async (conversation: LocomoConversation, question: string) => {
    const started = performance.now();
    const reply = await client.query(question, {
      topK: TOP_K,
      mode,
      filter: { userId: userOf(conversation) },
    });
    embeddingModel ??= reply.hits[0]?.memory.embeddingModel;
    return {
      clientMs: performance.now() - started,
      serverMs: reply.tookMs,
      ranked: reply.hits.flatMap((hit) => turnsByMemory.get(hit.memory.id) ?? []),
    };
  };
  const all = conversations.flatMap((conversation) =>
    conversation.questions.map((question) => ({ conversation, question })),
  );
  for (const { conversation, question } of all.slice(0, WARM_UP))
    await ask(conversation, question.question);
  const outcomes: (EvidenceOutcome & { conversation: string })[] = [];
  const clientMs: number[] = [];
  const serverMs: number[] = [];
  for (const { conversation, question } of all) {
    const answer = await ask(conversation, question.question);
    clientMs.push(answer.clientMs);
    serverMs.push(answer.serverMs);
    outcomes.push({
      conversation: conversation.id,
      category: question.category,
      evidence: question.evidence,
      ranked: answer.ranked,
    });
  }
  const byConversation: Record<string, EvidenceScores> = {};
  for (const conversation of conversations)
    byConversation[conversation.id] = evidenceScores(
      outcomes.filter((outcome) => outcome.conversation === conversation.id),
    );
  const latency = (samples: number[]): Latency => ({
    p50: Number(percentile(samples, 50).toFixed(2)),
    p99: Number(percentile(samples, 99).toFixed(2)),
  });
  return {
    mode,
    ...(embeddingModel !== undefined ? { embeddingModel } : {}),
    overall: evidenceScores(outcomes),
    byCategory: evidenceScoresByCategory(outcomes, locomoCategoryOrder),
    byConversation,
    latency: { client: latency(clientMs), server: latency(serverMs) },
  };
}

const dayFormat = new Intl.DateTimeFormat('en-GB', {
  day: 'numeric',
  month: 'long',
  year: 'numeric',
  timeZone: 'UTC',
});
/** `7 May 2023`: how questions name a day. */
const dateWords = (iso: string): string => dayFormat.format(new Date(iso));
