/** The LOCOMO evaluation's report as text: scores and latency per mode, per category, the floor. */
import type { LocomoMode } from './locomo.ts';
import { locomoCategoryOrder } from './locomo-dataset.ts';
import type { FloorReport } from './locomo-floor.ts';
import type { EvidenceScores } from './locomo-metrics.ts';
import { f, table } from './table.ts';

export interface Latency {
  p50: number;
  p99: number;
}

export interface ModeReport {
  mode: LocomoMode;
  embeddingModel?: string;
  overall: EvidenceScores;
  byCategory: Record<string, EvidenceScores>;
  byConversation: Record<string, EvidenceScores>;
  /** Client round trip and time inside the vector-store, ms. */
  latency: { client: Latency; server: Latency };
}

const scoreHeaders = ['n', 'recall@1', 'recall@5', 'recall@10', 'recall@20', 'hit@10'];
const scoreCells = (scores: EvidenceScores) => [
  String(scores.questions),
  f(scores.recallAt1),
  f(scores.recallAt5),
  f(scores.recallAt10),
  f(scores.recallAt20),
  f(scores.hitAt10),
];

export function render(
  report: {
    dataset: { conversations: { id: string; turns: number; questions: number }[] };
    embeddingModel?: string | undefined;
    context: boolean;
    ingest: { turns: number; seconds: number; perSecond: number };
    modes: ModeReport[];
    floor?: FloorReport;
  },
  topK: number,
): string {
  const { conversations } = report.dataset;
  const lines = [
    `membus LOCOMO eval: ${conversations.length} conversations (${conversations.map((c) => c.id).join(', ')}), ` +
      `${report.ingest.turns} turns, ${conversations.reduce((n, c) => n + c.questions, 0)} questions (categories 1-4); ` +
      `real stack, embedded defaults, embedding model ${report.embeddingModel ?? 'unknown'}, ` +
      `keyword context ${report.context ? 'previous turn' : 'none'}, topK ${topK}\n`,
    table(
      ['mode', ...scoreHeaders, 'p50 ms', 'p99 ms', 'server p50 / p99 ms'],
      report.modes.map((mode) => [
        mode.mode,
        ...scoreCells(mode.overall),
        mode.latency.client.p50.toFixed(2),
        mode.latency.client.p99.toFixed(2),
        `${mode.latency.server.p50.toFixed(2)} / ${mode.latency.server.p99.toFixed(2)}`,
      ]),
    ),
    '\nper category:\n',
    table(
      ['category', 'mode', ...scoreHeaders],
      locomoCategoryOrder.flatMap((category) =>
        report.modes.flatMap((mode) => {
          const scores = mode.byCategory[category];
          return scores ? [[category, mode.mode, ...scoreCells(scores)]] : [];
        }),
      ),
    ),
    `\ningest: ${report.ingest.turns} turns in ${report.ingest.seconds} s (${report.ingest.perSecond}/s, store -> queryable)`,
    ...(report.floor ? ['', renderFloor(report.floor)] : []),
  ];
  return lines.join('\n');
}

const FLOOR_SETS = [
  ['related', 'related (own conversation)'],
  ['otherConversation', 'other conversation'],
  ['offTopic', 'off-topic'],
] as const;

function renderFloor(floor: FloorReport): string {
  // The highest floor that keeps the hits of 99 % of the related questions.
  const keeps99 = floor.sweep.filter((row) => row.related >= 0.99).at(-1);
  return [
    'relevance floor (hybrid; best cosine among the hits with minScore 0, and the default as served):\n',
    table(
      ['questions', 'n', 'best cosine p1', 'p5', 'p50', 'p95', 'answered by default'],
      FLOOR_SETS.map(([set, label]) => {
        const cosine = floor.bestCosine[set];
        return [
          label,
          String(cosine.n),
          f(cosine.p1),
          f(cosine.p5),
          f(cosine.p50),
          f(cosine.p95),
          f(floor.answered[set]),
        ];
      }),
    ),
    ...(keeps99
      ? [
          `\nhighest floor keeping 99 % of related questions: ${keeps99.floor} ` +
            `(keeps ${f(keeps99.related)}; no hits for ${f(keeps99.otherConversation)} of other-conversation ` +
            `and ${f(keeps99.offTopic)} of off-topic questions)`,
        ]
      : []),
  ].join('\n');
}
