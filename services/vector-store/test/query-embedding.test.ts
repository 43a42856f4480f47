/**
 * When the vector-store computes query vectors itself: only while what the embedder said names
 * the local model at the index's dimension, or an ONNX model once loaded here, and only in
 * `auto` mode. (The end-to-end proofs, with the real embedder, are
 * test/e2e/query-embedding.test.ts and test/e2e/query-embedding-onnx.test.ts.)
 */
import { deferred } from '@membus/bus/testing';
import { CALLER_MODEL } from '@membus/contracts';
import { embedLocal, localModelId } from '@membus/embedding-local';
import { describe, expect, it } from 'vitest';
import {
  type LoadQueryModel,
  QueryEmbedding,
  type QueryVectorSource,
} from '../src/adapters/query-embedding.ts';
import type { EmbedPort } from '../src/domain/memory-service.ts';

const DIMENSION = 64;
const REMOTE_VECTOR = Float32Array.from({ length: DIMENSION }, (_, index) => (index === 0 ? 1 : 0));

/** The embedder's side, reduced to what this adapter decides on: which calls reach it. */
function setup(
  mode: 'auto' | 'embedder' = 'auto',
  extra: { loadModel?: LoadQueryModel; now?: () => number } = {},
) {
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
  const failures: string[] = [];
  const embedding = new QueryEmbedding(remote, {
    mode,
    dimension: DIMENSION,
    ...extra,
    onQuery: (source) => queries.push(source),
    onSwitch: (source, model) => switches.push([source, model]),
    onLoadFailed: (model, error) => failures.push(`${model}: ${(error as Error).message}`),
  });
  return { embedding, port: embedding.port(), asked, switches, queries, failures };
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

const ONNX_MODEL = 'e5-small-v2-int8';
const ONNX_VECTOR = Float32Array.from({ length: DIMENSION }, (_, index) => (index === 1 ? 1 : 0));

/** A loader of one model (ONNX_MODEL at DIMENSION), settled by the test; its calls recorded. */
function fakeLoader() {
  const calls: string[] = [];
  const loads: ReturnType<typeof deferred<(text: string) => Promise<Float32Array>>>[] = [];
  const loadModel: LoadQueryModel = (model, dimension) => {
    calls.push(`${model}/${dimension}`);
    if (model !== ONNX_MODEL || dimension !== DIMENSION) return undefined;
    const load = deferred<(text: string) => Promise<Float32Array>>();
    loads.push(load);
    return load.promise;
  };
  return { loadModel, calls, loads };
}

/** Until the loader's promise has been seen settled by the adapter. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('QueryEmbedding with a model loaded in the background (ONNX)', () => {
  it('asks the embedder while the model loads, then computes queries here', async () => {
    const loader = fakeLoader();
    const { embedding, port, asked, switches, queries } = setup('auto', {
      loadModel: loader.loadModel,
    });
    embedding.observe(ONNX_MODEL, DIMENSION);
    embedding.observe(ONNX_MODEL, DIMENSION);
    expect(await port.query('while loading')).toBe(REMOTE_VECTOR);
    const encoded: string[] = [];
    loader.loads[0]?.resolve(async (text) => {
      encoded.push(text);
      return ONNX_VECTOR;
    });
    await settled();
    expect(embedding.source).toBe('local');
    expect(await port.query('once loaded')).toBe(ONNX_VECTOR);
    expect({ calls: loader.calls, asked, encoded, queries, switches }).toEqual({
      calls: [`${ONNX_MODEL}/${DIMENSION}`],
      asked: ['while loading'],
      encoded: ['once loaded'],
      queries: ['embedder', 'local'],
      switches: [['local', ONNX_MODEL]],
    });
  });

  it('keeps asking the embedder when the model cannot be loaded, tries again after a minute, and tells the first failure', async () => {
    const loader = fakeLoader();
    let now = 0;
    const { embedding, port, asked, failures } = setup('auto', {
      loadModel: loader.loadModel,
      now: () => now,
    });
    embedding.observe(ONNX_MODEL, DIMENSION);
    loader.loads[0]?.reject(new Error('model e5-small-v2-q not found'));
    await settled();
    now = 59_999;
    embedding.observe(ONNX_MODEL, DIMENSION);
    expect(await port.query('after the failure')).toBe(REMOTE_VECTOR);
    now = 60_000;
    embedding.observe(ONNX_MODEL, DIMENSION);
    loader.loads[1]?.reject(new Error('model e5-small-v2-q not found'));
    await settled();
    now = 120_000;
    embedding.observe(ONNX_MODEL, DIMENSION);
    loader.loads[2]?.resolve(async () => ONNX_VECTOR);
    await settled();
    expect(await port.query('after the retry')).toBe(ONNX_VECTOR);
    expect({ loads: loader.loads.length, asked, failures }).toEqual({
      loads: 3,
      asked: ['after the failure'],
      failures: [`${ONNX_MODEL}: model e5-small-v2-q not found`],
    });
  });

  it('does not use a model the embedder stopped naming while it loaded, and reuses it when named again', async () => {
    const loader = fakeLoader();
    const { embedding, port, asked, switches } = setup('auto', { loadModel: loader.loadModel });
    embedding.observe(ONNX_MODEL, DIMENSION);
    embedding.observe('text-embedding-3-small', DIMENSION);
    loader.loads[0]?.resolve(async () => ONNX_VECTOR);
    await settled();
    expect(await port.query('another model')).toBe(REMOTE_VECTOR);
    embedding.observe(ONNX_MODEL, DIMENSION);
    expect(await port.query('named again')).toBe(ONNX_VECTOR);
    expect({ asked, switches, calls: loader.calls }).toEqual({
      asked: ['another model'],
      switches: [['local', ONNX_MODEL]],
      calls: [`${ONNX_MODEL}/${DIMENSION}`, `text-embedding-3-small/${DIMENSION}`],
    });
  });

  it('loads nothing in embedder mode, nor a model at another dimension', async () => {
    const loader = fakeLoader();
    const forced = setup('embedder', { loadModel: loader.loadModel });
    forced.embedding.observe(ONNX_MODEL, DIMENSION);
    forced.embedding.observe(ONNX_MODEL, DIMENSION);
    const other = setup('auto', { loadModel: loader.loadModel });
    other.embedding.observe(ONNX_MODEL, 2 * DIMENSION);
    other.embedding.observe(ONNX_MODEL, 2 * DIMENSION);
    expect({
      calls: loader.calls,
      sources: [forced.embedding.source, other.embedding.source],
    }).toEqual({
      calls: [`${ONNX_MODEL}/${2 * DIMENSION}`],
      sources: ['embedder', 'embedder'],
    });
  });
});
