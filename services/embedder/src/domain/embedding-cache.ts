import { hash as digest } from 'node:crypto';
import type { KV } from '@membus/bus';
import { LRUCache } from 'lru-cache';

/** Vectors by `model + content hash`. Lookups never throw: a failing cache is a miss. */
export interface EmbeddingCache {
  getMany(model: string, hashes: readonly string[]): Promise<(Float32Array | undefined)[]>;
  setMany(model: string, entries: readonly { hash: string; vector: Float32Array }[]): Promise<void>;
}

/** A bounded in-process LRU (lru-cache); a capacity of 0 keeps nothing. */
export class MemoryEmbeddingCache implements EmbeddingCache {
  readonly #entries: LRUCache<string, Float32Array> | undefined;
  constructor(capacity: number) {
    this.#entries = capacity > 0 ? new LRUCache({ max: capacity }) : undefined;
  }

  async getMany(model: string, hashes: readonly string[]) {
    return hashes.map((hash) => this.#entries?.get(`${model}\u0000${hash}`));
  }

  async setMany(model: string, entries: readonly { hash: string; vector: Float32Array }[]) {
    for (const { hash, vector } of entries) this.#entries?.set(`${model}\u0000${hash}`, vector);
  }
}

/** A NATS KV bucket (TTL set on the bucket) behind an in-process LRU; shared by replicas. */
export class KvEmbeddingCache implements EmbeddingCache {
  constructor(
    private readonly kv: KV,
    private readonly local: MemoryEmbeddingCache,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  async getMany(model: string, hashes: readonly string[]) {
    const local = await this.local.getMany(model, hashes);
    const found: { hash: string; vector: Float32Array }[] = [];
    const result = await Promise.all(
      local.map(async (vector, index) => {
        if (vector) return vector;
        const hash = hashes[index] as string;
        try {
          const entry = await this.kv.get(kvKey(model, hash));
          if (entry?.operation !== 'PUT' || entry.value.byteLength % 4 !== 0) return undefined;
          const copy = new Float32Array(entry.value.byteLength / 4);
          new Uint8Array(copy.buffer).set(entry.value);
          found.push({ hash, vector: copy });
          return copy;
        } catch (error) {
          this.onError(error);
          return undefined;
        }
      }),
    );
    await this.local.setMany(model, found);
    return result;
  }

  async setMany(model: string, entries: readonly { hash: string; vector: Float32Array }[]) {
    await this.local.setMany(model, entries);
    await Promise.all(
      entries.map(({ hash, vector }) =>
        this.kv
          .put(
            kvKey(model, hash),
            new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength),
          )
          .catch(this.onError),
      ),
    );
  }
}

/** KV keys allow `[-/_=.a-zA-Z0-9]`: the model id is hashed into the key. */
function kvKey(model: string, hash: string): string {
  return `${digest('sha256', model, 'hex').slice(0, 16)}.${hash}`;
}
