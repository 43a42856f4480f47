/**
 * A MemoryService over the embedded index and the SQLite history store in a temp directory,
 * with a deterministic embed port, for domain tests that need real storage but no NATS.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type EmbeddedMemory,
  type MemoryEvent,
  packVector,
  type StoreMemoryInput,
  StoreMemorySchema,
} from '@membus/contracts';
import { openEmbeddedVectorIndex } from '@membus/embedded-index';
import { openSqliteDocumentStore } from '../src/adapters/sqlite/sqlite-document-store.ts';
import { type EmbedPort, type IngestItem, MemoryService } from '../src/domain/memory-service.ts';
import { seededRandom } from '../src/testing/index.ts';

export const DIMENSION = 8;
export const TENANT = 'acme';

export const hashOf = (text: string) =>
  createHash('sha256').update(text.trim().toLowerCase()).digest('hex');

/** A unit vector derived from the text: the same text, the same vector. */
export function vectorOf(text: string): Float32Array {
  const random = seededRandom(Number.parseInt(hashOf(text).slice(0, 8), 16));
  const vector = Float32Array.from({ length: DIMENSION }, () => random() - 0.5);
  const norm = Math.hypot(...vector);
  return vector.map((value) => value / norm);
}

/** The deterministic embed port: `vectorOf` each text, model `test`. */
export const testEmbed: EmbedPort = {
  query: async (text) => vectorOf(text),
  documents: async (texts) =>
    texts.map((text) => ({
      text,
      contentHash: hashOf(text),
      vector: vectorOf(text),
      model: 'test',
    })),
};

/** A store as the embedder hands it to the vector-store. */
export function embeddedOf(store: Omit<StoreMemoryInput, 'v'>): IngestItem {
  const memory = StoreMemorySchema.parse({ v: 1, ...store });
  const embedded: EmbeddedMemory = {
    v: 1,
    memory,
    vector: packVector(vectorOf(memory.text)),
    model: 'test',
    dimension: DIMENSION,
    contentHash: hashOf(memory.text),
    acceptedAt: Date.now(),
  };
  return { tenant: TENANT, embedded };
}

export interface ServiceFixture extends AsyncDisposable {
  service: MemoryService;
  /** Every event the service published. */
  events: MemoryEvent[];
}

export async function openServiceFixture(
  options: { nearDuplicates?: { default: number }; clock?: () => number } = {},
): Promise<ServiceFixture> {
  const directory = await mkdtemp(join(tmpdir(), 'membus-service-'));
  const index = await openEmbeddedVectorIndex({
    directory: join(directory, 'index'),
    dimension: DIMENSION,
  });
  const documents = openSqliteDocumentStore({ path: join(directory, 'documents.sqlite') });
  const events: MemoryEvent[] = [];
  const service = new MemoryService({
    index,
    documents,
    embed: testEmbed,
    events: {
      publish: async (_tenant, published) => {
        events.push(...published.map(({ event }) => event));
      },
    },
    ...(options.nearDuplicates ? { nearDuplicates: options.nearDuplicates } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  return {
    service,
    events,
    async [Symbol.asyncDispose]() {
      await service.close();
      await index.close();
      await documents.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** A text of about `length` characters, distinct for each `seed`. */
export function textOf(seed: number, length = 2_000): string {
  const words = ['deploy', 'billing', 'latency', 'rollback', 'alice', 'queue', 'cache', 'index'];
  const random = seededRandom(seed + 1);
  let text = `turn ${seed}:`;
  while (text.length < length) text += ` ${words[Math.floor(random() * words.length)]}`;
  return text.slice(0, length);
}
