import { call, embedBatches, type NatsConnection } from '@membus/bus';
import { MembusError, Operations, unpackVector } from '@membus/contracts';
import { embedLocal } from '@membus/embedding-local';
import type { ReembedEmbedPort } from '../domain/reembed/reembedder.ts';

const LOCAL_MODEL = /^local-hash-v1-(\d+)$/;

/**
 * Vectors of a named model from the embedder (`memory.embed` with `model`, decision 011), for
 * re-embedding and for the queries of tenants on another model than the store path's. The
 * local hashing model's query vectors are computed here (the same pure function the embedder
 * runs, as `QueryEmbedding` does for the store path's). A reply naming another model than the
 * one asked is refused: vectors of two models never share an index.
 */
export function natsModelEmbedPort(nc: NatsConnection, timeoutMs: number): ReembedEmbedPort {
  const embed = async (
    texts: readonly string[],
    purpose: 'query' | 'document',
    model: string | undefined,
  ) => {
    const vectors: Float32Array[] = [];
    let named: { model: string; dimension: number } | undefined;
    const dimension = Number(LOCAL_MODEL.exec(model ?? '')?.[1] ?? 1_536);
    for (const batch of embedBatches(texts, dimension)) {
      const reply = await call(
        nc,
        Operations.embed,
        undefined,
        { texts: batch, purpose, ...(model !== undefined ? { model } : {}) },
        { timeoutMs },
      );
      if (model !== undefined && reply.model !== model)
        throw new MembusError(
          'EMBEDDING_FAILED',
          `the embedder answered with model ${reply.model}, not ${model}`,
          { details: { asked: model, answered: reply.model } },
        );
      named = { model: reply.model, dimension: reply.dimension };
      for (const packed of reply.vectors) {
        const vector = unpackVector(packed);
        if (!vector || vector.length !== reply.dimension)
          throw new MembusError('EMBEDDING_FAILED', 'the embedder returned an undecodable vector');
        vectors.push(vector);
      }
    }
    if (vectors.length !== texts.length)
      throw new MembusError(
        'EMBEDDING_FAILED',
        `the embedder answered ${vectors.length} vectors for ${texts.length} texts`,
      );
    return { vectors, named };
  };
  return {
    async documents(texts, model) {
      return (await embed(texts, 'document', model)).vectors;
    },
    async query(text, model) {
      const local = LOCAL_MODEL.exec(model);
      if (local) return embedLocal(text, Number(local[1]));
      return (await embed([text], 'query', model)).vectors[0] as Float32Array;
    },
    async primary() {
      const { named } = await embed(['membus re-embedding check'], 'query', undefined);
      if (!named) throw new MembusError('EMBEDDING_FAILED', 'the embedder named no model');
      return named;
    },
  };
}
