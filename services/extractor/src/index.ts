export type { OpenAIChatModelOptions } from './adapters/openai-chat-model.ts';
export { createOpenAIChatModel } from './adapters/openai-chat-model.ts';
export type { ExtractorConfig, NamespaceExtraction } from './config.ts';
export { extractorEnvSpec, loadExtractorConfig } from './config.ts';
export { jsonObjectIn, parseAnswer } from './domain/answers.ts';
export type {
  ExtractionObserver,
  ExtractorOptions,
  FallbackReason,
  IngestOutcome,
} from './domain/extraction.ts';
export { Extractor } from './domain/extraction.ts';
export { factScope, groupKey, rawMemories } from './domain/ingest-memories.ts';
export { ProviderLimiter, TokenBudget } from './domain/limits.ts';
export { PROMPT_VERSION } from './domain/prompts.ts';
export { ExtractorMetricNames } from './metrics.ts';
export type { ChatAnswer, ChatModel, ChatRequest } from './ports/chat-model.ts';
export type { MemoryPort } from './ports/memory-port.ts';
