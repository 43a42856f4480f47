import {
  CALLER_MODEL,
  type EmbeddedMemory,
  type EmbedReply,
  type EmbedRequest,
  MembusError,
  packVector,
  type StoreMemory,
} from '@membus/contracts';
import type { EmbeddingProvider } from '../ports/embedding-provider.ts';
import { contentHash } from './content-hash.ts';
import type { EmbeddingCache } from './embedding-cache.ts';

export interface Redactor {
  /** The text with its secrets masked, and how many of each kind. */
  redact(text: string): { text: string; redactions: { kind: string; count: number }[] };
  /** The metadata with its secrets masked (string values and secret-named keys, at any depth). */
  redactMetadata(metadata: Record<string, unknown>): {
    metadata: Record<string, unknown>;
    redactions: { kind: string; count: number }[];
  };
}

export interface EmbedderHooks {
  onProviderCall?(texts: number, seconds: number, purpose: 'query' | 'document'): void;
  onCache?(hits: number, misses: number): void;
  onRedaction?(kind: string, count: number): void;
}

export interface EmbedderOptions {
  provider: EmbeddingProvider;
  cache?: EmbeddingCache;
  redactor?: Redactor;
  clock?: () => number;
  hooks?: EmbedderHooks;
}

export type EmbedOutcome =
  | { ok: true; embedded: EmbeddedMemory }
  | { ok: false; error: MembusError };

/**
 * Turns store requests into embedded memories: redacts secrets (text and metadata), hashes the content,
 * embeds what the cache doesn't have in provider-sized batches, passes caller vectors through.
 */
export class Embedder {
  readonly #provider: EmbeddingProvider;
  readonly #cache: EmbeddingCache | undefined;
  readonly #redactor: Redactor | undefined;
  readonly #clock: () => number;
  readonly #hooks: EmbedderHooks;

  constructor(options: EmbedderOptions) {
    this.#provider = options.provider;
    this.#cache = options.cache;
    this.#redactor = options.redactor;
    this.#clock = options.clock ?? Date.now;
    this.#hooks = options.hooks ?? {};
  }

  get model(): string {
    return this.#provider.capabilities.model;
  }

  get dimension(): number {
    return this.#provider.capabilities.dimension;
  }

  /** Redacted text and its content hash, as it will be stored. */
  prepare(text: string): { text: string; contentHash: string } {
    const redacted = this.redact(text);
    return { text: redacted, contentHash: contentHash(redacted) };
  }

  async embedStores(
    stores: readonly StoreMemory[],
    acceptedAt: readonly number[] = [],
  ): Promise<EmbedOutcome[]> {
    const prepared = stores.map((store) => this.prepare(store.text));
    const toEmbed = stores.flatMap((store, index) => (store.vector ? [] : [index]));
    const vectors = new Map<number, Float32Array>();
    if (toEmbed.length > 0) {
      const embedded = await this.#embedCached(
        toEmbed.map((index) => prepared[index] as { text: string; contentHash: string }),
        'document',
      );
      toEmbed.forEach((storeIndex, position) => {
        vectors.set(storeIndex, embedded[position] as Float32Array);
      });
    }
    const now = this.#clock();
    return stores.map((store, index): EmbedOutcome => {
      const { text, contentHash: hash } = prepared[index] as { text: string; contentHash: string };
      const vector = store.vector ? normalise(Float32Array.from(store.vector)) : vectors.get(index);
      if (!vector || vector.every((value) => value === 0)) {
        return {
          ok: false,
          error: new MembusError('INVALID_MESSAGE', 'vector is all zeros: it has no direction'),
        };
      }
      return {
        ok: true,
        embedded: {
          v: 1,
          memory: {
            ...store,
            text,
            ...(store.context !== undefined ? { context: this.redact(store.context) } : {}),
            metadata: this.redactMetadata(store.metadata),
            vector: undefined,
          },
          vector: packVector(vector),
          model: store.vector ? CALLER_MODEL : this.model,
          dimension: vector.length,
          contentHash: hash,
          acceptedAt: acceptedAt[index] ?? now,
        },
      };
    });
  }

  async embedRequest(request: EmbedRequest): Promise<EmbedReply> {
    // Metadata sent along is redacted exactly as `embedStores` does it, so an update stores
    // nothing a store would have masked.
    const metadata =
      request.metadata === undefined ? {} : { metadata: this.redactMetadata(request.metadata) };
    if (request.purpose === 'document') {
      const prepared = request.texts.map((text) => this.prepare(text));
      const vectors = prepared.length > 0 ? await this.#embedCached(prepared, 'document') : [];
      return {
        v: 1,
        model: this.model,
        dimension: this.dimension,
        vectors: vectors.map(packVector),
        documents: prepared,
        ...metadata,
      };
    }
    const vectors = await this.#embedCached(
      request.texts.map((text) => ({ text, contentHash: contentHash(text) })),
      'query',
    );
    return {
      v: 1,
      model: this.model,
      dimension: this.dimension,
      vectors: vectors.map(packVector),
      ...metadata,
    };
  }

  redact(text: string): string {
    if (!this.#redactor) return text;
    const result = this.#redactor.redact(text);
    for (const { kind, count } of result.redactions) this.#hooks.onRedaction?.(kind, count);
    return result.text;
  }

  /** Metadata as it will be stored: deployment agents put tokens in it, too. */
  redactMetadata(metadata: Record<string, unknown>): Record<string, unknown> {
    if (!this.#redactor) return metadata;
    const result = this.#redactor.redactMetadata(metadata);
    for (const { kind, count } of result.redactions) this.#hooks.onRedaction?.(kind, count);
    return result.metadata;
  }

  async #embedCached(
    items: readonly { text: string; contentHash: string }[],
    purpose: 'query' | 'document',
  ): Promise<Float32Array[]> {
    const model = `${this.model}:${purpose}`;
    const cached = this.#cache
      ? await this.#cache.getMany(
          model,
          items.map((item) => item.contentHash),
        )
      : items.map(() => undefined);
    const missing = cached.flatMap((vector, index) => (vector ? [] : [index]));
    this.#hooks.onCache?.(items.length - missing.length, missing.length);
    // The same text twice in one batch is embedded once.
    const unique = new Map<string, number[]>();
    for (const index of missing) {
      const hash = (items[index] as { contentHash: string }).contentHash;
      unique.set(hash, [...(unique.get(hash) ?? []), index]);
    }
    const groups = [...unique.values()];
    const result = [...cached];
    const { maxBatch } = this.#provider.capabilities;
    const fresh: { hash: string; vector: Float32Array }[] = [];
    for (let start = 0; start < groups.length; start += maxBatch) {
      const chunk = groups.slice(start, start + maxBatch);
      const texts = chunk.map((indexes) => (items[indexes[0] as number] as { text: string }).text);
      const started = performance.now();
      const vectors = await this.#provider.embed(texts, { purpose });
      this.#hooks.onProviderCall?.(texts.length, (performance.now() - started) / 1000, purpose);
      chunk.forEach((indexes, position) => {
        const vector = vectors[position] as Float32Array;
        for (const index of indexes) result[index] = vector;
        fresh.push({
          hash: (items[indexes[0] as number] as { contentHash: string }).contentHash,
          vector,
        });
      });
    }
    if (this.#cache && fresh.length > 0) await this.#cache.setMany(model, fresh);
    return result as Float32Array[];
  }
}

/** L2-normalises in place; a zero vector stays zero (then rejected by the caller). */
export function normalise(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const value of vector) sum += value * value;
  const norm = Math.sqrt(sum);
  if (norm > 0)
    for (let index = 0; index < vector.length; index++)
      vector[index] = (vector[index] as number) / norm;
  return vector;
}
