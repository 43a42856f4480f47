import { importMemories, type MemoryClient } from '@membus/client';
import { Limits } from '@membus/contracts';
import { DEFAULT_PRICE_PER_MILLION_TOKENS, embeddingCost, estimateTokens } from './estimate.ts';
import { exportLine, type ImportedMemory, type SourceItem } from './imported-memory.ts';

/** What an import writes to: a tenant's client. */
export type ImportTarget = MemoryClient;

/**
 * Writes one batch of imported memories: the one place that knows how. As export lines through
 * the client's `importMemories` (memory.import): ids and times kept, each line its own memory
 * (never merged into a duplicate), idempotent. Returns the lines membus refused, by error code
 * and their ids (CONFLICT: the id holds another text, e.g. a memory deleted in membus).
 */
export async function writeMemories(
  target: ImportTarget,
  memories: readonly ImportedMemory[],
): Promise<{ refused: Record<string, number>; ids: Set<string> }> {
  // One request per call (at most Limits.batchSize lines, each bounded): every failure is listed.
  const summary = await importMemories(target, memories.map(exportLine), {
    batchSize: memories.length,
    concurrency: 1,
    maxFailures: memories.length,
  });
  const refused: Record<string, number> = {};
  const ids = new Set<string>();
  for (const failure of summary.failures) {
    refused[failure.code] = (refused[failure.code] ?? 0) + 1;
    if (failure.id !== undefined) ids.add(failure.id);
  }
  return { refused, ids };
}

export interface ImportCounts {
  /** Records the source yielded. */
  read: number;
  /** Records that cannot be memories (no text, too long, ...), by reason. */
  skipped: Record<string, number>;
  /** Memories membus refused when written, by error code (never counted as written). */
  failed: Record<string, number>;
  /** Memories already in membus (by id): a resumed or repeated run leaves them. */
  present: number;
  /** Memories to write (plan) or written (run). */
  memories: number;
  /** Estimated tokens of the memories' texts ({@link estimateTokens}). */
  tokens: number;
  /** Their estimated embedding cost in USD. */
  costUsd: number;
}

export interface ImportOptions {
  /** Where memories go; the plan without one cannot tell which are present already. */
  target?: ImportTarget;
  /** Memories per batch (default 200, at most `Limits.batchSize`). */
  batchSize?: number;
  /** USD per 1M tokens for the cost (default OpenAI text-embedding-3-small's list price). */
  pricePerMillionTokens?: number;
  /** Called after each batch with the counts so far. */
  onProgress?: (counts: ImportCounts) => void;
}

function emptyCounts(): ImportCounts {
  return { read: 0, skipped: {}, failed: {}, present: 0, memories: 0, tokens: 0, costUsd: 0 };
}

/** How many ids of a batch membus has already (one `get` per batch). */
async function presentIds(target: ImportTarget, ids: readonly string[]): Promise<Set<string>> {
  const { memories } = await target.getMany(ids);
  return new Set(memories.map((memory) => memory.id));
}

/** Writes a batch; the memories membus refused are counted under `failed`, not as written. */
async function writeBatch(
  target: ImportTarget,
  memories: ImportedMemory[],
  counts: ImportCounts,
): Promise<ImportedMemory[]> {
  const { refused, ids } = await writeMemories(target, memories);
  for (const [code, count] of Object.entries(refused))
    counts.failed[code] = (counts.failed[code] ?? 0) + count;
  return memories.filter((memory) => !ids.has(memory.id));
}

/**
 * Reads the source once, in batches; per batch, leaves out the memories membus has already
 * and, unless `write` is false, writes the rest. The same pass counts and estimates, so a
 * dry run and a run report alike. A source id seen twice in one batch is written once.
 */
async function pass(
  items: AsyncIterable<SourceItem>,
  options: ImportOptions,
  write: boolean,
): Promise<ImportCounts> {
  const counts = emptyCounts();
  const price = options.pricePerMillionTokens ?? DEFAULT_PRICE_PER_MILLION_TOKENS;
  const batchSize = Math.min(options.batchSize ?? 200, Limits.batchSize);
  let batch = new Map<string, ImportedMemory>();
  const flush = async () => {
    if (batch.size === 0) return;
    const memories = [...batch.values()];
    batch = new Map();
    const present = options.target
      ? await presentIds(options.target, [...memories.map((memory) => memory.id)])
      : new Set<string>();
    const fresh = memories.filter((memory) => !present.has(memory.id));
    counts.present += present.size;
    let written = fresh;
    if (write && fresh.length > 0) {
      if (!options.target) throw new Error('an import that writes needs a target');
      written = await writeBatch(options.target, fresh, counts);
    }
    counts.memories += written.length;
    for (const memory of written) counts.tokens += estimateTokens(memory.text);
    counts.costUsd = embeddingCost(counts.tokens, price);
    options.onProgress?.({
      ...counts,
      skipped: { ...counts.skipped },
      failed: { ...counts.failed },
    });
  };
  for await (const item of items) {
    counts.read++;
    if ('skipped' in item) {
      counts.skipped[item.skipped] = (counts.skipped[item.skipped] ?? 0) + 1;
      continue;
    }
    if (batch.has(item.memory.id)) {
      counts.skipped['the same id twice'] = (counts.skipped['the same id twice'] ?? 0) + 1;
      continue;
    }
    batch.set(item.memory.id, item.memory);
    if (batch.size >= batchSize) await flush();
  }
  await flush();
  return counts;
}

/** The dry run: what an import would write, its tokens and cost; writes nothing. */
export function planImport(
  items: AsyncIterable<SourceItem>,
  options: ImportOptions = {},
): Promise<ImportCounts> {
  return pass(items, options, false);
}

/** The import: writes what membus does not have yet; a re-run writes nothing twice. */
export function runImport(
  items: AsyncIterable<SourceItem>,
  options: ImportOptions & { target: ImportTarget },
): Promise<ImportCounts> {
  return pass(items, options, true);
}

/** The counts as lines for a terminal (`label` e.g. "would import" or "imported"). */
export function formatCounts(
  counts: ImportCounts,
  label: string,
  pricePerMillionTokens = DEFAULT_PRICE_PER_MILLION_TOKENS,
): string {
  const skipped = Object.values(counts.skipped).reduce((sum, count) => sum + count, 0);
  const lines = [
    `read ${counts.read.toLocaleString('en')} records: ${label} ${counts.memories.toLocaleString('en')}, already in membus ${counts.present.toLocaleString('en')}, skipped ${skipped.toLocaleString('en')}`,
    `tokens ≈ ${counts.tokens.toLocaleString('en')} (estimated as characters / 4), embedding cost ≈ $${counts.costUsd.toFixed(4)} at $${pricePerMillionTokens} per 1M tokens`,
  ];
  for (const [reason, count] of Object.entries(counts.skipped))
    lines.push(`  skipped ${count.toLocaleString('en')}: ${reason}`);
  for (const [code, count] of Object.entries(counts.failed))
    lines.push(`  refused by membus ${count.toLocaleString('en')}: ${code}`);
  return lines.join('\n');
}
