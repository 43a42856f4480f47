/**
 * The export/import stage (`pnpm bench --export-import`): every memory of the bench tenant
 * exported as lines (held in memory here, as a file would be), then imported into an empty
 * tenant of the same stack; throughput of each in memories per second.
 */
import { exportMemories, importMemories, type MemoryClient } from '@membus/client';
import type { ExportedMemory } from '@membus/contracts';

export interface ExportImportResult {
  memories: number;
  /** Export without vectors: memories per second. */
  exportPerSecond: number;
  /** Export with vectors (and history): memories per second. */
  exportWithVectorsPerSecond: number;
  /** Import of the lines with vectors (the model matches: no embedding), memories per second. */
  importWithVectorsPerSecond: number;
  /** Import of the lines without vectors (every text embedded), memories per second. */
  importPerSecond: number;
  /** Lines that were not imported (must be 0). */
  failed: number;
}

async function exported(
  client: MemoryClient,
  options: { withVectors?: boolean; withHistory?: boolean },
): Promise<{ lines: ExportedMemory[]; seconds: number }> {
  const started = performance.now();
  const lines: ExportedMemory[] = [];
  for await (const line of exportMemories(client, {}, { ...options, pageSize: 500 }))
    lines.push(line);
  return { lines, seconds: (performance.now() - started) / 1000 };
}

/** Exports `from`'s tenant twice (with and without vectors) and imports each into an empty tenant. */
export async function benchExportImport(
  from: MemoryClient,
  intoWithVectors: MemoryClient,
  into: MemoryClient,
  log: (message: string) => void,
): Promise<ExportImportResult> {
  const plain = await exported(from, {});
  log(`  export: ${plain.lines.length} lines in ${plain.seconds.toFixed(1)} s`);
  const full = await exported(from, { withVectors: true, withHistory: true });
  log(`  export with vectors and history: ${full.seconds.toFixed(1)} s`);
  const importTimed = async (client: MemoryClient, lines: ExportedMemory[]) => {
    const started = performance.now();
    const summary = await importMemories(client, lines, { concurrency: 4, batchSize: 200 });
    return { summary, seconds: (performance.now() - started) / 1000 };
  };
  const withVectors = await importTimed(intoWithVectors, full.lines);
  log(`  import with vectors: ${withVectors.seconds.toFixed(1)} s`);
  const withoutVectors = await importTimed(into, plain.lines);
  log(`  import without vectors: ${withoutVectors.seconds.toFixed(1)} s`);
  const count = plain.lines.length;
  return {
    memories: count,
    exportPerSecond: Math.round(count / plain.seconds),
    exportWithVectorsPerSecond: Math.round(count / full.seconds),
    importWithVectorsPerSecond: Math.round(count / withVectors.seconds),
    importPerSecond: Math.round(count / withoutVectors.seconds),
    failed:
      withVectors.summary.failed +
      withVectors.summary.conflicts +
      withoutVectors.summary.failed +
      withoutVectors.summary.conflicts,
  };
}
