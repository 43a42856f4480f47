import { Limits } from '@membus/contracts';
import type { EmbedPort } from '../ports/embed-port.ts';
import type { Summarizer } from '../ports/summarizer.ts';
import { cosine, normaliseText } from './vectors.ts';

export interface SummariseOptions {
  /** Longest summary, in characters. */
  maxChars: number;
  /** Target share of the input characters to keep (0..1). */
  keepRatio: number;
  /** Relevance vs. novelty in MMR (1 = centrality only). */
  lambda: number;
}

export const defaultSummariseOptions: SummariseOptions = {
  maxChars: 4_000,
  keepRatio: 0.35,
  lambda: 0.7,
};

/** Splits text into sentences (on . ! ? and line breaks), trimmed, non-empty. */
export function splitSentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+|\n+/)
    .map((sentence) => sentence.trim())
    .filter((sentence) => sentence.length > 0);
}

/**
 * Extractive summary: each sentence's centrality (mean similarity to the others) is its
 * relevance; maximal marginal relevance picks central sentences that are not like ones
 * already picked, until the budget is used. Picked sentences keep their original order.
 * Deterministic: the same sentences and vectors give the same summary.
 */
export function selectSentences(
  sentences: readonly string[],
  vectors: readonly Float32Array[],
  options: SummariseOptions = defaultSummariseOptions,
): string[] {
  const count = sentences.length;
  if (count === 0) return [];
  const totalChars = sentences.reduce((sum, sentence) => sum + sentence.length + 1, 0);
  const budget = Math.min(
    options.maxChars,
    Math.max(120, Math.round(totalChars * options.keepRatio)),
  );
  const centrality = vectors.map((vector, index) => {
    if (count === 1) return 1;
    let sum = 0;
    for (let other = 0; other < count; other++)
      if (other !== index) sum += cosine(vector, vectors[other] as Float32Array);
    return sum / (count - 1);
  });
  const picked: number[] = [];
  const pickedSet = new Set<number>();
  let used = 0;
  for (;;) {
    let best = -1;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let index = 0; index < count; index++) {
      if (pickedSet.has(index)) continue;
      const length = (sentences[index] as string).length + 1;
      if (used + length > budget && picked.length > 0) continue;
      let redundancy = 0;
      for (const chosen of picked)
        redundancy = Math.max(
          redundancy,
          cosine(vectors[index] as Float32Array, vectors[chosen] as Float32Array),
        );
      const score =
        options.lambda * (centrality[index] as number) - (1 - options.lambda) * redundancy;
      if (score > bestScore) {
        bestScore = score;
        best = index;
      }
    }
    if (best < 0) break;
    picked.push(best);
    pickedSet.add(best);
    used += (sentences[best] as string).length + 1;
    if (used >= budget) break;
  }
  return picked.sort((a, b) => a - b).map((index) => sentences[index] as string);
}

/** Sentences with exact (normalised) repeats removed, first occurrence kept. */
export function uniqueSentences(sentences: readonly string[]): string[] {
  const seen = new Set<string>();
  return sentences.filter((sentence) => {
    const key = normaliseText(sentence);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Sentences that describe extracted patterns start with this (they are rebuilt each run). */
export const PATTERN_PREFIX = 'Pattern: ';

/** Vectors of many texts, in embedder-sized batches. */
export async function embedAll(
  embed: EmbedPort,
  texts: readonly string[],
): Promise<Float32Array[]> {
  const vectors: Float32Array[] = [];
  for (let start = 0; start < texts.length; start += Limits.embedBatch)
    vectors.push(...(await embed.embed(texts.slice(start, start + Limits.embedBatch))));
  return vectors;
}

/**
 * The extractive summariser: the earlier summary's and the memories' sentences, exact
 * repeats removed, picked by {@link selectSentences}. Deterministic; needs only the embedder.
 */
export function createExtractiveSummarizer(options: {
  embed: EmbedPort;
  summarise?: SummariseOptions;
}): Summarizer {
  const summarise = options.summarise ?? defaultSummariseOptions;
  return {
    capabilities: Object.freeze({ name: 'extractive', remote: false }),
    async summarize(request) {
      const sentences = uniqueSentences([
        ...(request.previousSummary ? splitSentences(request.previousSummary) : []),
        ...request.memories.flatMap((record) => splitSentences(record.text)),
      ]).filter((sentence) => !sentence.startsWith(PATTERN_PREFIX));
      const vectors = await embedAll(options.embed, sentences);
      const chosen = selectSentences(sentences, vectors, {
        ...summarise,
        maxChars: Math.min(summarise.maxChars, request.maxChars),
      });
      return chosen.join(' ').slice(0, request.maxChars);
    },
  };
}
