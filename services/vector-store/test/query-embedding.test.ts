/**
 * When the vector-store computes query vectors itself: only while what the embedder said names
 * the local model at the index's dimension, and only in `auto` mode. (The end-to-end proof, with
 * the real embedder, is test/e2e/query-embedding.test.ts.)
 */
import { CALLER_MODEL } from '@membus/contracts';
import { embedLocal, localModelId } from '@membus/embedding-local';
import { describe, expect, it } from 'vitest';
import { QueryEmbedding, type QueryVectorSource } from '../src/adapters/query-embedding.ts';
import type { EmbedPort } from '../src/domain/memory-service.ts';

const DIMENSION = 64;
const REMOTE_VECTOR = Float32Array.from({ length: DIMENSION }, (_, index) => (index === 0 ? 1 : 0));

/** The embedder's side, reduced to what this adapter decides on: which calls reach it. */
function setup(mode: 'auto' | 'embedder' = 'auto') {
  const asked: string[] = [];
  const switches: [QueryVectorSource, string][] = [];
  const queries: QueryVectorSource[] = [];
  const remote: EmbedPort = {
    query: async (text) => {
      asked.push(text);
      return REMOTE_VECTOR;
    },
    documents: async () => [],
  };
  const embedding = new QueryEmbedding(remote, {
    mode,
    dimension: DIMENSION,
    onQuery: (source) => queries.push(source),
    onSwitch: (source, model) => switches.push([source, model]),
  });
  return { embedding, port: embedding.port(), asked, switches, queries };
}

describe('QueryEmbedding', () => {
  it('asks the embedder until it has named the local model at the index dimension', async () => {
    const { embedding, port, asked, switches, queries } = setup();
    expect(await port.query('first')).toBe(REMOTE_VECTOR);
    embedding.observe(localModelId(DIMENSION), DIMENSION);
    expect(embedding.source).toBe('local');
    expect(Array.from(await port.query('deploy failed: ECONNREFUSED'))).toEqual(
      Array.from(embedLocal('deploy failed: ECONNREFUSED', DIMENSION)),
    );
    expect(asked).toEqual(['first']);
    expect(queries).toEqual(['embedder', 'local']);
    expect(switches).toEqual([['local', localModelId(DIMENSION)]]);
  });

  it('goes back to the embedder when anything names another model, and not for caller vectors', async () => {
    const { embedding, port, asked, switches } = setup();
    embedding.observe(localModelId(DIMENSION), DIMENSION);
    embedding.observe(CALLER_MODEL, DIMENSION);
    expect(embedding.source).toBe('local');
    embedding.observe('text-embedding-3-small', DIMENSION);
    expect(embedding.source).toBe('embedder');
    await port.query('after the switch');
    expect(asked).toEqual(['after the switch']);
    expect(switches).toEqual([
      ['local', localModelId(DIMENSION)],
      ['embedder', 'text-embedding-3-small'],
    ]);
  });

  it('never computes locally for another dimension, nor in embedder mode', () => {
    const other = setup();
    other.embedding.observe(localModelId(128), 128);
    other.embedding.observe(localModelId(DIMENSION), 128);
    expect(other.embedding.source).toBe('embedder');
    const forced = setup('embedder');
    forced.embedding.observe(localModelId(DIMENSION), DIMENSION);
    expect(forced.embedding.source).toBe('embedder');
    expect(forced.switches).toEqual([]);
  });

  it('sends documents and changes to the embedder whatever the source', async () => {
    const documents: (readonly string[])[] = [];
    const remote: EmbedPort = {
      query: async () => REMOTE_VECTOR,
      documents: async (texts) => {
        documents.push(texts);
        return [];
      },
      prepareChange: async () => ({ metadata: { redacted: true } }),
    };
    const embedding = new QueryEmbedding(remote, { mode: 'auto', dimension: DIMENSION });
    embedding.observe(localModelId(DIMENSION), DIMENSION);
    const port = embedding.port();
    await port.documents(['a secret text']);
    expect(documents).toEqual([['a secret text']]);
    expect(await port.prepareChange?.({ metadata: { token: 'x' } })).toEqual({
      metadata: { redacted: true },
    });
  });
});
