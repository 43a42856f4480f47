// The models one embedder serves on request (re-embedding, decision 011): its own when the
// request names none, an extra one by its id, NOT_FOUND for any other.
import { MembusError, unpackVector } from '@membus/contracts';
import { embedLocal } from '@membus/embedding-local';
import { describe, expect, it } from 'vitest';
import { createLocalEmbeddingProvider } from '../src/adapters/local-provider.ts';
import { Embedder } from '../src/domain/embedder.ts';
import { ServedModels } from '../src/domain/served-models.ts';

const primary = new Embedder({ provider: createLocalEmbeddingProvider() });
const extra = new Embedder({ provider: createLocalEmbeddingProvider({ dimension: 256 }) });
const models = new ServedModels(primary, [extra]);

describe('ServedModels', () => {
  it('lists the store path model first, then the extra ones', () => {
    expect(models.models).toEqual(['local-hash-v1-384', 'local-hash-v1-256']);
  });

  it('embeds with the model a request names, and with its own without one', async () => {
    const named = await models
      .embedder('local-hash-v1-256')
      .embedRequest({ v: 1, texts: ['the deploy runs on fridays'], purpose: 'document' });
    expect([named.model, named.dimension]).toEqual(['local-hash-v1-256', 256]);
    expect(unpackVector(named.vectors[0] as string)).toEqual(
      embedLocal('the deploy runs on fridays', 256),
    );
    const own = await models
      .embedder(undefined)
      .embedRequest({ v: 1, texts: ['the deploy runs on fridays'], purpose: 'query' });
    expect([own.model, own.dimension]).toEqual(['local-hash-v1-384', 384]);
  });

  it('refuses a model it does not serve with NOT_FOUND naming those it serves', () => {
    const refusal = (() => {
      try {
        models.embedder('text-embedding-3-large');
        return undefined;
      } catch (error) {
        return error;
      }
    })();
    expect(MembusError.is(refusal) && [refusal.code, refusal.details]).toEqual([
      'NOT_FOUND',
      { model: 'text-embedding-3-large', served: ['local-hash-v1-384', 'local-hash-v1-256'] },
    ]);
  });
});
