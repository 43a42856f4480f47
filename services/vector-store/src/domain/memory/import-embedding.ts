import { boundedBatches } from '@membus/bus';
import { type ExportedMemory, Limits, MembusError, type MemoryRecord } from '@membus/contracts';
import type { MemoryContext } from './context.ts';

// What an import asks the embedder, as a store would: every line's text redacted and embedded,
// its metadata redacted, many lines a request within the reply and metadata bounds.

/** Metadata of this many JSON bytes at most goes to the embedder's redaction in one request. */
const REDACTION_BATCH_BYTES = Limits.metadataBytes - 1_024;
/** Redaction requests in flight at once per import request. */
const REDACTION_CONCURRENCY = 4;

/** A line to write: its record (before redaction and embedding) and how its vector is had. */
export interface Pending {
  position: number;
  line: ExportedMemory;
  previous: MemoryRecord | undefined;
  record: MemoryRecord;
  vector: Float32Array | undefined;
  /** The vector is the line's own (not embedded here). */
  kept: boolean;
}

/**
 * Redacts and embeds every line's text, as a store would. A line's own vector is kept only when
 * redaction left its text as it was (an export of this system); a text that held a secret is
 * stored redacted, with the vector of what is stored.
 */
export async function embedTexts(context: MemoryContext, pending: Pending[]): Promise<void> {
  for (const chunk of embedChunks(pending, context.index.dimension)) {
    const documents = await context.embed.documents(chunk.map((item) => item.record.text));
    for (const [offset, item] of chunk.entries()) {
      const document = documents[offset];
      if (!document) throw new MembusError('EMBEDDING_FAILED', 'embedder returned no vector');
      if (document.vector.length !== context.index.dimension)
        throw new MembusError(
          'DIMENSION_MISMATCH',
          `the embedder's vectors have ${document.vector.length} dimensions; this index holds ${context.index.dimension}`,
          { details: { expected: context.index.dimension, actual: document.vector.length } },
        );
      if (!item.kept || document.text !== item.record.text) {
        item.vector = document.vector;
        item.kept = false;
      }
      item.record.text = document.text;
      item.record.contentHash = document.contentHash;
      if (!item.kept) item.record.embeddingModel = document.model;
    }
  }
}

/**
 * The lines to embed in requests whose replies stay within `Limits.replyBytes`: each text comes
 * back with its vector (base64, 4 bytes a dimension), its stored form and its hash.
 */
function embedChunks(items: Pending[], dimension: number): Iterable<Pending[]> {
  const perVector = Math.ceil((dimension * 4) / 3) * 4 + 160;
  // The stored form may be longer than the text (masks): counted twice over.
  const cost = (item: Pending) => perVector + 2 * Buffer.byteLength(item.record.text);
  return boundedBatches(items, cost, { maxBytes: Limits.replyBytes, maxCount: Limits.embedBatch });
}

/**
 * Masks secrets in the lines' metadata with the store path's policy (the embedder's redaction),
 * many lines a request: each line's metadata under a key of its own, within the metadata limit.
 */
export async function redactMetadata(context: MemoryContext, pending: Pending[]): Promise<void> {
  const withMetadata = pending.filter((item) => Object.keys(item.record.metadata).length > 0);
  // Packing adds a level: metadata nested to the limit goes in a request of its own.
  const deep = (item: Pending) => depth(item.record.metadata) >= Limits.metadataDepth;
  // Packed as `{ m0: …, m1: … }`: 2 bytes of braces, each member's key and comma within 16.
  const cost = (item: Pending) => Buffer.byteLength(JSON.stringify(item.record.metadata)) + 16;
  const groups = [
    ...withMetadata.filter(deep).map((item) => [item]),
    ...boundedBatches(
      withMetadata.filter((item) => !deep(item)),
      cost,
      { maxBytes: REDACTION_BATCH_BYTES - 2 },
    ),
  ];
  if (groups.length === 0) return;
  const prepare = context.embed.prepareChange?.bind(context.embed);
  if (!prepare)
    throw new MembusError('INTERNAL', 'this embed port cannot redact metadata', {
      details: { reason: 'EmbedPort.prepareChange missing' },
    });
  let next = 0;
  const worker = async () => {
    while (next < groups.length) {
      const members = groups[next++] as Pending[];
      const packed =
        members.length === 1
          ? (members[0] as Pending).record.metadata
          : Object.fromEntries(members.map((item, index) => [`m${index}`, item.record.metadata]));
      const prepared = await prepare({ metadata: packed });
      const masked = prepared.metadata;
      if (masked === undefined)
        throw new MembusError('EMBEDDING_FAILED', 'embedder returned no redacted metadata');
      members.forEach((item, index) => {
        item.record.metadata =
          members.length === 1 ? masked : (masked[`m${index}`] as Record<string, unknown>);
      });
    }
  };
  await Promise.all(Array.from({ length: REDACTION_CONCURRENCY }, worker));
}

/** How deep a JSON value nests (a scalar 0, an object of scalars 1). */
function depth(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  let deepest = 0;
  for (const item of Object.values(value)) deepest = Math.max(deepest, depth(item));
  return 1 + deepest;
}
