import { unpackVector } from '@membus/contracts';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalEmbeddingProvider } from '../src/adapters/local-provider.ts';
import {
  type OpenAiCompatibleServer,
  startOpenAiCompatibleServer,
} from '../src/adapters/openai-compatible.ts';
import { Embedder } from '../src/domain/embedder.ts';

let server: OpenAiCompatibleServer;
let openai: OpenAI;
const embedder = new Embedder({ provider: createLocalEmbeddingProvider() });

beforeAll(async () => {
  server = await startOpenAiCompatibleServer({ embedder, port: 0 });
  // The official OpenAI client is the protocol check.
  openai = new OpenAI({
    baseURL: `http://127.0.0.1:${server.port}/v1`,
    apiKey: 'unused',
    maxRetries: 0,
  });
});

afterAll(async () => {
  await server?.close();
});

describe('OpenAI-compatible /v1/embeddings', () => {
  it('returns one vector per input, in order, of the provider dimension', async () => {
    const result = await openai.embeddings.create({
      model: 'local',
      input: ['deploy to vercel', 'roll back'],
      encoding_format: 'float',
    });
    expect(result.data.map((item) => [item.index, item.embedding.length])).toEqual([
      [0, 384],
      [1, 384],
    ]);
  });

  it('returns the same vector the embedder gives for a query', async () => {
    const result = await openai.embeddings.create({
      model: 'local',
      input: 'postgres connection pool exhausted',
      encoding_format: 'float',
    });
    const direct = await embedder.embedRequest({
      v: 1,
      texts: ['postgres connection pool exhausted'],
      purpose: 'query',
    });
    const expected = Array.from(unpackVector(direct.vectors[0] as string) ?? []);
    expect(result.data[0]?.embedding).toEqual(expected);
  });

  it('decodes base64 output to the same values (the client default)', async () => {
    const asBase64 = await openai.embeddings.create({ model: 'local', input: 'cache warmup' });
    const asFloat = await openai.embeddings.create({
      model: 'local',
      input: 'cache warmup',
      encoding_format: 'float',
    });
    expect(asBase64.data[0]?.embedding).toEqual(asFloat.data[0]?.embedding);
  });

  it('answers a request without input with 400', async () => {
    const error = await openai.embeddings
      .create({ model: 'local', input: [] })
      .catch((caught: unknown) => caught);
    expect(error instanceof OpenAI.APIError ? error.status : error).toBe(400);
  });
});
