/**
 * The project's retrieval evaluation: ingests the labelled memories into an in-process stack
 * (offline embedder + embedded vector index + SQLite documents + MemoryService, no NATS), asks
 * every question in each retrieval mode and prints recall@1/5/10, hit@1 and MRR.
 *
 *   node --import tsx eval/src/main.ts [--modes dense,keyword,hybrid] [--json out.json]
 *                                      [--data eval/data/retrieval.json] [--verbose]
 *
 * With `--locomo <directory>` it runs the LOCOMO evaluation instead, through the client against
 * the real stack (locomo.ts).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  type QueryRequest,
  QueryRequestSchema,
  type StoreMemory,
  StoreMemorySchema,
  unpackVector,
} from '@membus/contracts';
import { openEmbeddedVectorIndex } from '@membus/embedded-index';
import {
  createLocalEmbeddingProvider,
  createOnnxEmbeddingProvider,
  createRedactor,
  Embedder,
} from '@membus/embedder';
import { MemoryService, openSqliteDocumentStore } from '@membus/vector-store';
import { countByCategory, DatasetError, type EvalDataset, loadDataset } from './dataset.ts';
import { type LocomoMode, runLocomo } from './locomo.ts';
import { firstRank, type QuestionOutcome, score, scoreByCategory } from './metrics.ts';
import { type ModeResult, printMisses, printReport } from './report.ts';

const ALL_MODES = ['dense', 'keyword', 'hybrid'] as const;
const TOP_K = 10;
const HALF_LIFE_HOURS = 168;
const TENANT = 'eval';
/** A fixed "now" so runs are reproducible; memories are placed `ageHours` before it. */
const NOW = Date.parse('2025-06-01T12:00:00.000Z');

const here = dirname(fileURLToPath(import.meta.url));

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      modes: { type: 'string', default: ALL_MODES.join(',') },
      json: { type: 'string' },
      data: { type: 'string', default: join(here, '..', 'data', 'retrieval.json') },
      verbose: { type: 'boolean', short: 'v', default: false },
      /** A directory of LOCOMO conversations: run that evaluation instead (locomo.ts). */
      locomo: { type: 'string' },
      /** The embedding provider (local, onnx); local (LOCOMO: the service's default) unless given. */
      provider: { type: 'string' },
      /** LOCOMO: store no keyword context (the previous turn) with each turn. */
      'no-context': { type: 'boolean', default: false },
      /** LOCOMO: the session's date in each turn's keyword context. */
      'date-context': { type: 'boolean', default: false },
      /** LOCOMO: skip the relevance floor's calibration. */
      'no-floor': { type: 'boolean', default: false },
    },
  });
  const modes = (values.modes as string)
    .split(',')
    .map((mode) => mode.trim())
    .filter(Boolean);
  const provider = values.provider;
  if (provider !== undefined && provider !== 'local' && provider !== 'onnx')
    throw new DatasetError(`unknown provider ${provider} (local, onnx)`);
  if (values.locomo !== undefined) {
    const unknown = modes.filter((mode) => !(ALL_MODES as readonly string[]).includes(mode));
    if (unknown.length > 0) throw new DatasetError(`unknown mode(s): ${unknown.join(', ')}`);
    await runLocomo({
      directory: resolve(values.locomo),
      modes: modes as LocomoMode[],
      ...(provider !== undefined ? { provider } : {}),
      context: !values['no-context'],
      floor: !values['no-floor'],
      dateContext: values['date-context'] ?? false,
      ...(values.json !== undefined ? { json: values.json } : {}),
    });
    return;
  }
  const started = performance.now();
  const dataset = await loadDataset(resolve(values.data as string));

  const stack = await openStack(provider ?? 'local');
  try {
    const ingestStarted = performance.now();
    const keysById = await ingest(stack, dataset);
    const ingestMs = performance.now() - ingestStarted;

    const results: ModeResult[] = [];
    for (const mode of modes) results.push(await runMode(stack.service, dataset, keysById, mode));
    const tookMs = performance.now() - started;

    printReport(dataset, results, {
      ingestMs,
      tookMs,
      model: stack.embedder.model,
      topK: TOP_K,
    });
    if (values.verbose) printMisses(dataset, results);
    if (values.json) {
      const report = {
        generatedAt: new Date().toISOString(),
        embeddingModel: stack.embedder.model,
        topK: TOP_K,
        recencyHalfLifeHours: HALF_LIFE_HOURS,
        dataset: {
          memories: dataset.memories.length,
          questions: dataset.questions.length,
          byCategory: countByCategory(dataset),
        },
        ingestMs: Math.round(ingestMs),
        tookMs: Math.round(tookMs),
        modes: results,
      };
      await writeFile(values.json, `${JSON.stringify(report, null, 2)}\n`);
      console.log(`wrote ${values.json}`);
    }
  } finally {
    await stack.close();
  }
}

interface Stack {
  embedder: Embedder;
  service: MemoryService;
  setClock(ms: number): void;
  close(): Promise<void>;
}

async function openStack(provider: 'local' | 'onnx'): Promise<Stack> {
  const embedder = new Embedder({
    provider: provider === 'onnx' ? createOnnxEmbeddingProvider() : createLocalEmbeddingProvider(),
    redactor: createRedactor(),
    clock: () => NOW,
  });
  const directory = await mkdtemp(join(tmpdir(), 'membus-eval-'));
  const index = await openEmbeddedVectorIndex({
    directory: join(directory, 'index'),
    dimension: embedder.dimension,
    checkpointIntervalMs: 0,
  });
  const documents = openSqliteDocumentStore({ path: ':memory:' });
  // The service stamps `updatedAt` (what recency is computed from) with its clock at ingest,
  // so each memory is ingested with the clock set to its own time.
  let clock = NOW;
  const service = new MemoryService({
    index,
    documents,
    clock: () => clock,
    embed: {
      async query(text) {
        const reply = await embedder.embedRequest({ v: 1, texts: [text], purpose: 'query' });
        return decode(reply.vectors[0]);
      },
      async documents(texts) {
        const reply = await embedder.embedRequest({ v: 1, texts: [...texts], purpose: 'document' });
        return reply.vectors.map((vector, position) => ({
          text: reply.documents?.[position]?.text ?? (texts[position] as string),
          contentHash: reply.documents?.[position]?.contentHash ?? '',
          vector: decode(vector),
          model: reply.model,
        }));
      },
    },
    events: { async publish() {} },
    accessFlushMs: 60_000,
  });
  return {
    embedder,
    service,
    setClock(ms) {
      clock = ms;
    },
    async close() {
      await service.close();
      await index.close({ persistGraph: false });
      await documents.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

function decode(packed: string | undefined): Float32Array {
  const vector = packed === undefined ? undefined : unpackVector(packed);
  if (!vector) throw new Error('embedder returned no usable vector');
  return vector;
}

/** A stable UUID per key, so ties break the same way on every run. */
function keyToId(key: string): string {
  const hex = createHash('sha256').update(`membus-eval:${key}`).digest('hex');
  const variant = ((Number.parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Ingests every memory at its own time; returns memory id -> dataset keys held by it. */
async function ingest(stack: Stack, dataset: EvalDataset): Promise<Map<string, string[]>> {
  // A dataset memory is a store of its fields, but for its key (the id) and age (createdAt).
  const stores: StoreMemory[] = dataset.memories.map(({ key, ageHours, ...fields }) =>
    StoreMemorySchema.parse({
      v: 1,
      id: keyToId(key),
      ...fields,
      createdAt: new Date(timeOf(ageHours)).toISOString(),
    }),
  );
  const outcomes = await stack.embedder.embedStores(stores);
  const keysById = new Map<string, string[]>();
  const merged: string[] = [];
  // Oldest first, one at a time, each with the clock at the memory's own time.
  const order = dataset.memories
    .map((memory, position) => ({ memory, position }))
    .sort((a, b) => b.memory.ageHours - a.memory.ageHours || a.position - b.position);
  for (const { memory, position } of order) {
    const outcome = outcomes[position];
    if (!outcome?.ok) throw new Error(`cannot embed ${memory.key}: ${outcome?.error.message}`);
    stack.setClock(timeOf(memory.ageHours));
    const [result] = await stack.service.ingest([{ tenant: TENANT, embedded: outcome.embedded }]);
    if (!result?.ok) throw new Error(`cannot ingest ${memory.key}: ${result?.error.message}`);
    if (result.status === 'duplicate') merged.push(memory.key);
    keysById.set(result.memoryId, [...(keysById.get(result.memoryId) ?? []), memory.key]);
  }
  stack.setClock(NOW);
  if (merged.length > 0) {
    console.warn(
      `warning: ${merged.length} memories were merged into another at ingest (a hit on the ` +
        `merged memory counts for each key): ${merged.join(', ')}`,
    );
  }
  return keysById;
}

const timeOf = (ageHours: number) => NOW - Math.round(ageHours * 3_600_000);

function buildRequest(
  question: EvalDataset['questions'][number],
  mode: string | undefined,
): { ok: true; request: QueryRequest } | { ok: false; reason: string } {
  const parsed = QueryRequestSchema.safeParse({
    v: 1,
    text: question.text,
    topK: TOP_K,
    recencyHalfLifeHours: HALF_LIFE_HOURS,
    ...(question.filter ? { filter: question.filter } : {}),
    ...(question.weights ? { weights: question.weights } : {}),
    ...(mode !== undefined ? { mode } : {}),
  });
  if (parsed.success) return { ok: true, request: parsed.data };
  return {
    ok: false,
    reason: parsed.error.issues
      .map((issue) => `${issue.path.join('.') || '(request)'}: ${issue.message}`)
      .join('; '),
  };
}

/** Whether the query contract has a `mode` field yet (it is being added). */
function contractHasMode(): boolean {
  const probe = QueryRequestSchema.safeParse({ v: 1, text: 'probe', mode: 'dense' });
  return probe.success;
}

async function runMode(
  service: MemoryService,
  dataset: EvalDataset,
  keysById: Map<string, string[]>,
  mode: string,
): Promise<ModeResult> {
  const started = performance.now();
  let modeField: string | undefined = mode;
  if (!contractHasMode()) {
    // Before the contract knows modes, a query is dense; other modes can't be asked for.
    if (mode !== 'dense')
      return {
        mode,
        available: false,
        reason: 'the query contract has no `mode` field yet',
        tookMs: 0,
      };
    modeField = undefined;
  }
  const outcomes: QuestionOutcome[] = [];
  const details: NonNullable<ModeResult['questions']> = [];
  for (const question of dataset.questions) {
    const built = buildRequest(question, modeField);
    if (!built.ok)
      return { mode, available: false, reason: `${question.id}: ${built.reason}`, tookMs: 0 };
    let ranked: string[];
    try {
      const reply = await service.query(TENANT, built.request);
      ranked = reply.hits.flatMap((hit) => keysById.get(hit.memory.id) ?? []);
    } catch (error) {
      return {
        mode,
        available: false,
        reason: `${question.id}: ${(error as Error).message}`,
        tookMs: performance.now() - started,
      };
    }
    outcomes.push({
      id: question.id,
      category: question.category,
      expected: question.expected,
      ranked,
    });
    details.push({
      id: question.id,
      category: question.category,
      firstRank: firstRank(question.expected, ranked) ?? null,
      top: ranked.slice(0, 3),
    });
  }
  return {
    mode,
    available: true,
    overall: score(outcomes),
    byCategory: Object.fromEntries(scoreByCategory(outcomes)),
    questions: details,
    tookMs: performance.now() - started,
  };
}

main().catch((error: unknown) => {
  if (error instanceof DatasetError) console.error(error.message);
  else console.error(error);
  process.exitCode = 1;
});
