import { MembusError } from '@membus/contracts';
import { describe, expect, it } from 'vitest';
import type { EmbeddingProvider } from '../ports/embedding-provider.ts';

export interface EmbeddingProviderConformanceOptions {
  /** Shown in the describe block, e.g. `local`. */
  name: string;
  /** A fresh provider per test. */
  create: () => Promise<EmbeddingProvider> | EmbeddingProvider;
}

const SAMPLE_TEXTS = [
  'Deployed web-app v1.2.3 to Vercel production after the cache fix.',
  'Build failed: Missing dependency react-dom in packages/ui.',
  'The user prefers pnpm over npm and strict TypeScript.',
  'Incident: api-gateway returned 502 after ERR_CONNECTION_REFUSED.',
] as const;

const UNICODE_TEXTS = [
  'Déploiement réussi à 14h — café ☕ offert à l’équipe',
  '部署到生产环境失败：缺少依赖 react-dom',
  'デプロイが完了しました 🚀🔥',
  '🚀',
  'Ελληνικά και русский текст, ①②③ ﬁle',
] as const;

function norm(vector: Float32Array): number {
  let sum = 0;
  for (const value of vector) sum += value * value;
  return Math.sqrt(sum);
}

async function embedOne(provider: EmbeddingProvider, text: string): Promise<Float32Array> {
  const [vector] = await provider.embed([text], { purpose: 'document' });
  if (!vector) throw new Error('provider returned no vector');
  return vector;
}

/**
 * The contract every `EmbeddingProvider` adapter must meet; call once per adapter test file.
 * Each case asserts one outcome.
 */
export function createEmbeddingProviderConformanceSuite(
  options: EmbeddingProviderConformanceOptions,
): void {
  describe(`EmbeddingProvider conformance: ${options.name}`, () => {
    it('returns one vector per text', async () => {
      const provider = await options.create();
      const vectors = await provider.embed(SAMPLE_TEXTS, { purpose: 'document' });
      expect(vectors).toHaveLength(SAMPLE_TEXTS.length);
    });

    it('returns vectors in input order', async () => {
      const provider = await options.create();
      const batch = await provider.embed(SAMPLE_TEXTS, { purpose: 'document' });
      const singles = [];
      for (const text of SAMPLE_TEXTS) singles.push(await embedOne(provider, text));
      expect(batch).toEqual(singles);
    });

    it('returns Float32Arrays of capabilities.dimension entries', async () => {
      const provider = await options.create();
      const vectors = await provider.embed(SAMPLE_TEXTS, { purpose: 'document' });
      const shapes = vectors.map((vector) => [vector instanceof Float32Array, vector.length]);
      expect(shapes).toEqual(SAMPLE_TEXTS.map(() => [true, provider.capabilities.dimension]));
    });

    it('returns only finite entries', async () => {
      const provider = await options.create();
      const vectors = await provider.embed([...SAMPLE_TEXTS, ...UNICODE_TEXTS], {
        purpose: 'document',
      });
      expect(vectors.every((vector) => vector.every(Number.isFinite))).toBe(true);
    });

    it('returns L2-normalised vectors', async () => {
      const provider = await options.create();
      const vectors = await provider.embed(SAMPLE_TEXTS, { purpose: 'document' });
      for (const vector of vectors) expect(norm(vector)).toBeCloseTo(1, 4);
    });

    it('returns the same vector for the same text across calls', async () => {
      const provider = await options.create();
      const first = await embedOne(provider, SAMPLE_TEXTS[0]);
      const second = await embedOne(provider, SAMPLE_TEXTS[0]);
      expect(Array.from(second)).toEqual(Array.from(first));
    });

    it('returns the same vector for the same text at any batch position', async () => {
      const provider = await options.create();
      const text = SAMPLE_TEXTS[1];
      const [alone] = await provider.embed([text], { purpose: 'document' });
      const batch = await provider.embed([SAMPLE_TEXTS[0], SAMPLE_TEXTS[2], text], {
        purpose: 'document',
      });
      expect(Array.from(batch[2] ?? [])).toEqual(Array.from(alone ?? []));
    });

    it('returns the same vector for the same text from two provider instances', async () => {
      const first = await embedOne(await options.create(), SAMPLE_TEXTS[3]);
      const second = await embedOne(await options.create(), SAMPLE_TEXTS[3]);
      expect(Array.from(second)).toEqual(Array.from(first));
    });

    it('returns different vectors for different texts', async () => {
      const provider = await options.create();
      const vectors = await provider.embed([...SAMPLE_TEXTS, ...UNICODE_TEXTS], {
        purpose: 'document',
      });
      const distinct = new Set(vectors.map((vector) => Array.from(vector).join(',')));
      expect(distinct.size).toBe(SAMPLE_TEXTS.length + UNICODE_TEXTS.length);
    });

    it('embeds accented, CJK and emoji text to unit vectors', async () => {
      const provider = await options.create();
      const vectors = await provider.embed(UNICODE_TEXTS, { purpose: 'document' });
      expect(vectors.map((vector) => Number(norm(vector).toFixed(4)))).toEqual(
        UNICODE_TEXTS.map(() => 1),
      );
    });

    it('embeds a text of stop words and punctuation only to a unit vector', async () => {
      const provider = await options.create();
      const vectors = await provider.embed(['the of and to', '!!! ??? ...'], {
        purpose: 'document',
      });
      expect(vectors.map((vector) => Number(norm(vector).toFixed(4)))).toEqual([1, 1]);
    });

    it('accepts exactly maxBatch texts', async () => {
      const provider = await options.create();
      const texts = Array.from(
        { length: provider.capabilities.maxBatch },
        (_, index) => `memory ${index}`,
      );
      const vectors = await provider.embed(texts, { purpose: 'document' });
      expect(vectors).toHaveLength(texts.length);
    });

    it('rejects more than maxBatch texts with LIMIT_EXCEEDED', async () => {
      const provider = await options.create();
      const texts = Array.from(
        { length: provider.capabilities.maxBatch + 1 },
        (_, index) => `memory ${index}`,
      );
      const error = await provider.embed(texts, { purpose: 'document' }).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(MembusError.is(error) ? error.code : error).toBe('LIMIT_EXCEEDED');
    });

    it('returns an empty list for no texts', async () => {
      const provider = await options.create();
      expect(await provider.embed([], { purpose: 'query' })).toEqual([]);
    });
  });
}
