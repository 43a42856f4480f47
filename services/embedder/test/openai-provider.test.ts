import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createOpenAIEmbeddingProvider,
  type OpenAIEmbeddingProviderOptions,
} from '../src/adapters/openai-provider.ts';
import { createEmbeddingProviderConformanceSuite } from '../src/testing/index.ts';
import {
  type EmbeddingsProtocolServer,
  startEmbeddingsProtocolServer,
} from './support/embeddings-protocol-server.ts';

// No model endpoint is reachable from the test machines, so these tests run the real
// `openai` client against a protocol test double: a local HTTP server speaking OpenAI's
// /v1/embeddings wire format with deterministic vectors and scripted failures.

const DIMENSION = 64;

let server: EmbeddingsProtocolServer;

beforeEach(async () => {
  server = await startEmbeddingsProtocolServer({ dimension: DIMENSION });
});

afterEach(async () => {
  await server.close();
});

function provider(options: OpenAIEmbeddingProviderOptions = {}) {
  return createOpenAIEmbeddingProvider({
    apiKey: 'test-key',
    baseURL: server.baseURL,
    model: 'test-embedding-model',
    dimension: DIMENSION,
    retryBaseMs: 1,
    ...options,
  });
}

const document = { purpose: 'document' } as const;

createEmbeddingProviderConformanceSuite({
  name: 'openai (protocol test double)',
  create: () => provider(),
});

describe('openai provider: requests', () => {
  it('sends the model, the texts as floats and the API key', async () => {
    await provider().embed(['a', 'b'], document);
    expect(server.requests).toEqual([
      {
        model: 'test-embedding-model',
        input: ['a', 'b'],
        encodingFormat: 'float',
        authorization: 'Bearer test-key',
      },
    ]);
  });

  it('sends `dimensions` for text-embedding-3 models', async () => {
    await provider({ model: 'text-embedding-3-small', dimension: DIMENSION }).embed(
      ['a'],
      document,
    );
    expect(server.requests[0]?.dimensions).toBe(DIMENSION);
  });

  it('defaults to text-embedding-3-small with 1536 dimensions', () => {
    const { model, dimension } = createOpenAIEmbeddingProvider({ apiKey: 'k' }).capabilities;
    expect({ model, dimension }).toEqual({ model: 'text-embedding-3-small', dimension: 1536 });
  });

  it('batches up to 2,048 texts on OpenAI', () => {
    expect(createOpenAIEmbeddingProvider({ apiKey: 'k' }).capabilities.maxBatch).toBe(2048);
  });

  it('batches up to 256 texts on other servers unless told', () => {
    expect(provider().capabilities.maxBatch).toBe(256);
  });

  it('takes a configured batch limit', () => {
    expect(provider({ maxBatch: 32 }).capabilities.maxBatch).toBe(32);
  });

  it('requires a dimension for a model it does not know', () => {
    expect(() =>
      createOpenAIEmbeddingProvider({ baseURL: server.baseURL, model: 'nomic-embed-text' }),
    ).toThrow(/EMBEDDING_DIMENSION/);
  });

  it('rejects vectors of another dimension without retrying', async () => {
    const error = await provider({ dimension: DIMENSION + 1 })
      .embed(['a'], document)
      .catch((thrown: unknown) => thrown);
    expect(error).toMatchObject({ code: 'EMBEDDING_FAILED', retryable: false });
  });
});

describe('openai provider: usage', () => {
  it('reports the tokens of each request and their cost', async () => {
    const usage: { tokens: number; costUsd: number }[] = [];
    await provider({
      pricePerMillionTokens: 2,
      onUsage: ({ tokens, costUsd }) => usage.push({ tokens, costUsd }),
    }).embed(['12345678', '1234'], document);
    expect(usage).toEqual([{ tokens: 3, costUsd: 3 * 2e-6 }]);
  });
});

describe('openai provider: retries', () => {
  it('retries a 429 and succeeds', async () => {
    server.script({ status: 429, headers: { 'retry-after-ms': '5' } });
    const vectors = await provider().embed(['a'], document);
    expect(vectors).toHaveLength(1);
  });

  it('waits as long as Retry-After says', async () => {
    server.script({ status: 429, headers: { 'retry-after': '1' } });
    const delays: number[] = [];
    await provider({ onRetry: ({ delayMs }) => delays.push(delayMs) }).embed(['a'], document);
    expect(delays).toEqual([1000]);
  });

  it('retries a 500 and succeeds on the second request', async () => {
    server.script({ status: 500 });
    await provider().embed(['a'], document);
    expect(server.requests).toHaveLength(2);
  });

  it('retries a timed-out request and succeeds', async () => {
    server.script({ hang: true });
    const vectors = await provider({ timeoutMs: 200 }).embed(['a'], document);
    expect(vectors).toHaveLength(1);
  });

  it('after the last attempt throws a retryable EMBEDDING_FAILED (the message waits in JetStream)', async () => {
    server.script({ status: 503 }, { status: 503 }, { status: 503 });
    const error = await provider({ maxAttempts: 3 })
      .embed(['a'], document)
      .catch((thrown: unknown) => thrown);
    expect(error).toMatchObject({ code: 'EMBEDDING_FAILED', retryable: true });
  });

  it('stops after maxAttempts requests', async () => {
    server.script({ status: 503 }, { status: 503 }, { status: 503 }, { status: 503 });
    await provider({ maxAttempts: 3 })
      .embed(['a'], document)
      .catch(() => undefined);
    expect(server.requests).toHaveLength(3);
  });

  it('a timeout on every attempt ends in a retryable EMBEDDING_FAILED', async () => {
    server.script({ hang: true }, { hang: true });
    const error = await provider({ timeoutMs: 100, maxAttempts: 2 })
      .embed(['a'], document)
      .catch((thrown: unknown) => thrown);
    expect(error).toMatchObject({ code: 'EMBEDDING_FAILED', retryable: true });
  });

  it('a 400 is not retryable', async () => {
    server.script({
      status: 400,
      body: { error: { message: 'bad input', type: 'invalid_request_error' } },
    });
    const error = await provider()
      .embed(['a'], document)
      .catch((thrown: unknown) => thrown);
    expect(error).toMatchObject({ code: 'EMBEDDING_FAILED', retryable: false });
  });

  it('a 400 is sent once', async () => {
    server.script({ status: 400 });
    await provider()
      .embed(['a'], document)
      .catch(() => undefined);
    expect(server.requests).toHaveLength(1);
  });

  it('an unreachable server ends in a retryable EMBEDDING_FAILED', async () => {
    const baseURL = server.baseURL;
    await server.close();
    const error = await createOpenAIEmbeddingProvider({
      baseURL,
      model: 'm',
      dimension: DIMENSION,
      maxAttempts: 2,
      retryBaseMs: 1,
    })
      .embed(['a'], document)
      .catch((thrown: unknown) => thrown);
    server = await startEmbeddingsProtocolServer({ dimension: DIMENSION });
    expect(error).toMatchObject({ code: 'EMBEDDING_FAILED', retryable: true });
  });
});
