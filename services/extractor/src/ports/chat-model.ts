/** One call of a chat model that must answer a JSON object. */
export interface ChatRequest {
  system: string;
  user: string;
  /** The JSON Schema of the answer, for providers with structured output. */
  schemaName: string;
  jsonSchema: Record<string, unknown>;
}

export interface ChatAnswer {
  /** The answer's text (a JSON object, unless the model failed to write one). */
  content: string;
  /** Tokens the provider counted (estimated from characters when it says nothing). */
  inputTokens: number;
  outputTokens: number;
}

/**
 * A chat model (port). The adapter retries transient failures (429 with Retry-After, 5xx,
 * timeouts) and throws a MembusError once they run out.
 */
export interface ChatModel {
  /** The model id, named on every fact's provenance. */
  readonly model: string;
  complete(request: ChatRequest): Promise<ChatAnswer>;
}
