import { type ConfigOf, env } from '@membus/bus';
import { configLoader, serviceEnv } from '@membus/service-runtime';
import { z } from 'zod';

/** What a namespace tells the model: its own instructions and the categories it may use. */
export const NamespaceExtractionSchema = z.strictObject({
  /** Added to the system prompt: what to keep and what to leave out. */
  instructions: z.string().max(4_000).optional(),
  /** The categories a fact may carry; any other the model names is dropped. */
  categories: z.array(z.string().min(1).max(100)).max(50).optional(),
});
export type NamespaceExtraction = z.infer<typeof NamespaceExtractionSchema>;

const namespaces = z
  .string()
  .optional()
  .transform((raw, context): Record<string, NamespaceExtraction> => {
    if (raw === undefined) return {};
    try {
      const parsed = z.record(z.string(), NamespaceExtractionSchema).safeParse(JSON.parse(raw));
      if (parsed.success) return parsed.data;
      const issue = parsed.error.issues[0];
      context.addIssue({ code: 'custom', message: `${issue?.path.join('.')}: ${issue?.message}` });
    } catch {
      context.addIssue({ code: 'custom', message: 'not valid JSON' });
    }
    return z.NEVER;
  });

export const extractorEnvSpec = serviceEnv(9469, {
  baseUrl: {
    env: 'EXTRACT_BASE_URL',
    schema: env.optionalString(),
    description:
      'OpenAI-compatible chat endpoint (OpenAI, Ollama, vLLM, llama.cpp); unset: extraction is off and ingests are stored raw',
  },
  apiKey: {
    env: 'EXTRACT_API_KEY',
    schema: env.optionalString(),
    description: 'API key of the chat endpoint (self-hosted servers often take any)',
  },
  model: {
    env: 'EXTRACT_MODEL',
    schema: env.string('gpt-4o-mini'),
    description: 'chat model id',
  },
  responseFormat: {
    env: 'EXTRACT_RESPONSE_FORMAT',
    schema: env.oneOf(['json_schema', 'json_object', 'none'] as const, 'json_schema'),
    description:
      'structured output the provider supports: json_schema (OpenAI, vLLM, llama-server, Ollama), json_object (llama-cpp-python), or none (tolerant parse)',
  },
  timeoutMs: {
    env: 'EXTRACT_TIMEOUT_MS',
    schema: env.int(60_000, 100),
    description: 'timeout of one model call',
  },
  maxRetries: {
    env: 'EXTRACT_MAX_RETRIES',
    schema: env.int(3, 0, 20),
    description:
      'retries of a model call (429 with Retry-After, 5xx, timeouts, unparsable answers)',
  },
  retryBaseMs: {
    env: 'EXTRACT_RETRY_BASE_MS',
    schema: env.int(500, 1),
    description: 'first retry delay, doubled per retry, with full jitter (Retry-After wins)',
  },
  retryMaxMs: {
    env: 'EXTRACT_RETRY_MAX_MS',
    schema: env.int(30_000, 1),
    description: 'longest single wait between retries, also the cap of Retry-After',
  },
  concurrency: {
    env: 'EXTRACT_CONCURRENCY',
    schema: env.int(4, 1, 256),
    description: 'model calls in flight at once (per extractor process)',
  },
  requestsPerMinute: {
    env: 'EXTRACT_REQUESTS_PER_MINUTE',
    schema: env.int(600, 1),
    description: "model calls started per minute at most (the provider's rate limit)",
  },
  windowMs: {
    env: 'EXTRACT_WINDOW_MS',
    schema: env.int(200, 0, 60_000),
    description:
      'how long ingests are gathered before a batch; turns of one session go in one call',
  },
  maxBatch: {
    env: 'EXTRACT_MAX_BATCH',
    schema: env.int(32, 1, 256),
    description: 'most ingests in one batch',
  },
  dailyTokenBudget: {
    env: 'EXTRACT_DAILY_TOKEN_BUDGET',
    schema: env.int(2_000_000, 0),
    description:
      'model tokens (in + out) per tenant per UTC day; past it ingests are stored raw (0: no limit)',
  },
  fallback: {
    env: 'EXTRACT_FALLBACK',
    schema: env.oneOf(['raw', 'none'] as const, 'raw'),
    description:
      'when extraction is off or fails: raw stores the text as it is; none stores nothing',
  },
  inputCostPerMillion: {
    env: 'EXTRACT_INPUT_COST_PER_MTOK',
    schema: env.number(0.15, 0),
    description: 'USD per million input tokens (for membus_extract_cost_usd_total)',
  },
  outputCostPerMillion: {
    env: 'EXTRACT_OUTPUT_COST_PER_MTOK',
    schema: env.number(0.6, 0),
    description: 'USD per million output tokens (for membus_extract_cost_usd_total)',
  },
  nearest: {
    env: 'EXTRACT_NEAREST',
    schema: env.int(5, 1, 50),
    description: 'existing memories of the owner shown to the model per candidate fact',
  },
  namespaces: {
    env: 'EXTRACT_NAMESPACES',
    schema: namespaces,
    description: 'JSON {"<namespace>"|"default": {instructions?, categories?}}',
  },
  maxDeliver: {
    env: 'EXTRACT_MAX_DELIVER',
    schema: env.int(5, 1, 100),
    description: 'deliveries before an ingest is dead-lettered',
  },
  requestTimeoutMs: {
    env: 'EXTRACT_REQUEST_TIMEOUT_MS',
    schema: env.int(10_000, 100),
    description: 'timeout of queries, updates and deletes to the vector-store',
  },
  storeTimeoutMs: {
    env: 'EXTRACT_STORE_TIMEOUT_MS',
    schema: env.int(30_000, 100),
    description: 'how long an added fact may take to become queryable',
  },
});

export type ExtractorConfig = ConfigOf<typeof extractorEnvSpec>;
export const loadExtractorConfig = configLoader(extractorEnvSpec);
