/**
 * The token estimate of a dry run: ceil(characters / 4), OpenAI's rule of thumb for English
 * text and the same estimate the embedder's OpenAI-compatible endpoint reports. Real tokenizers
 * differ by text and language (code and non-Latin scripts take more tokens per character).
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** USD per 1M tokens of OpenAI's text-embedding-3-small (its list price), the default. */
export const DEFAULT_PRICE_PER_MILLION_TOKENS = 0.02;

/** The embedding cost in USD of `tokens` at `pricePerMillionTokens`. */
export function embeddingCost(tokens: number, pricePerMillionTokens: number): number {
  return (tokens / 1_000_000) * pricePerMillionTokens;
}
