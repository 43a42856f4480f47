import type { MemoryRecord } from '@membus/contracts';

/** What a summariser is asked to summarise: one session's memories, oldest first. */
export interface SummaryRequest {
  /** Tenant the session belongs to. */
  tenant: string;
  /** The session being compacted. */
  sessionId: string;
  /** The session's memories to fold in (duplicates already dropped), oldest first. */
  memories: readonly MemoryRecord[];
  /** The text of an earlier summary of the session (pattern lines removed), to fold in too. */
  previousSummary?: string;
  /** Longest summary, in characters: the result never exceeds it. */
  maxChars: number;
}

export interface SummarizerCapabilities {
  /** Provider name for logs and metrics, e.g. `extractive`, `openai`. */
  name: string;
  /** Whether it calls a remote model (may fail or be slow; the compactor then falls back). */
  remote: boolean;
}

/**
 * Turns a session's memories into summary text. Adapters: extractive (sentence centrality
 * over embedder vectors, deterministic), openai (any OpenAI-compatible chat model).
 */
export interface Summarizer {
  /** What it is. */
  readonly capabilities: SummarizerCapabilities;
  /** The summary text, at most `request.maxChars` characters; rejects when it cannot. */
  summarize(request: SummaryRequest): Promise<string>;
}
