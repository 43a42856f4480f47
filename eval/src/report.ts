/** The retrieval evaluation's report on stdout: scores per mode and category, and the misses. */
import { countByCategory, type EvalDataset } from './dataset.ts';
import type { Scores } from './metrics.ts';
import { f, table } from './table.ts';

/** What one retrieval mode scored (or why it could not run). */
export interface ModeResult {
  mode: string;
  available: boolean;
  reason?: string;
  overall?: Scores;
  byCategory?: Record<string, Scores>;
  questions?: { id: string; category: string; firstRank: number | null; top: string[] }[];
  tookMs: number;
}

const metricHeaders = ['recall@1', 'recall@5', 'recall@10', 'hit@1', 'MRR'];
const metricCells = (scores: Scores) => [
  f(scores.recallAt1),
  f(scores.recallAt5),
  f(scores.recallAt10),
  f(scores.hitAt1),
  f(scores.mrr),
];

export function printReport(
  dataset: EvalDataset,
  results: ModeResult[],
  timing: { ingestMs: number; tookMs: number; model: string; topK: number },
): void {
  const counts = countByCategory(dataset);
  console.log(
    `membus retrieval eval: ${dataset.memories.length} memories, ${dataset.questions.length} questions ` +
      `(${Object.entries(counts)
        .map(([category, count]) => `${category} ${count}`)
        .join(', ')}); embedder ${timing.model}, topK ${timing.topK}\n`,
  );
  const available = results.filter((result) => result.available);
  console.log(
    table(
      ['mode', ...metricHeaders, 'ms/query'],
      available.map((result) => [
        result.mode,
        ...metricCells(result.overall as Scores),
        (result.tookMs / dataset.questions.length).toFixed(2),
      ]),
    ),
  );
  for (const result of results.filter((r) => !r.available))
    console.log(`mode ${result.mode}: unavailable (${result.reason})`);

  if (available.length > 0) {
    console.log('\nper category:\n');
    const rows: string[][] = [];
    for (const category of Object.keys(counts)) {
      for (const result of available) {
        const scores = result.byCategory?.[category];
        if (scores)
          rows.push([category, result.mode, String(scores.questions), ...metricCells(scores)]);
      }
    }
    console.log(table(['category', 'mode', 'n', ...metricHeaders], rows));
  }
  console.log(
    `\ningest ${(timing.ingestMs / 1000).toFixed(2)} s; whole eval ${(timing.tookMs / 1000).toFixed(2)} s`,
  );
}

export function printMisses(dataset: EvalDataset, results: ModeResult[]): void {
  const byId = new Map(dataset.questions.map((question) => [question.id, question]));
  for (const result of results) {
    if (!result.available) continue;
    console.log(`\nquestions not answered first by ${result.mode}:`);
    for (const detail of result.questions ?? []) {
      if (detail.firstRank === 1) continue;
      const question = byId.get(detail.id);
      console.log(
        `  ${detail.id} [${detail.category}] rank ${detail.firstRank ?? '-'}: ${question?.text}\n` +
          `      expected ${question?.expected.join(', ')}; got ${detail.top.join(', ')}`,
      );
    }
  }
}
