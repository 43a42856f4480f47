import type { MemoryEvent } from '@membus/contracts';

/** A text as it will be stored: redacted, hashed and embedded. */
export interface EmbeddedDocument {
  /** The text with its secrets masked. */
  text: string;
  /** sha256 of the normalised redacted text. */
  contentHash: string;
  vector: Float32Array;
  /** Model id that produced the vector. */
  model: string;
}

/** What an update changes, before redaction. */
export interface ChangeInput {
  /** New text: redacted, hashed and embedded. */
  text?: string;
  /** New metadata: redacted. */
  metadata?: Record<string, unknown>;
}

/** An update's text and metadata as they will be stored. */
export interface PreparedChange {
  /** Present exactly when the change had a text. */
  document?: EmbeddedDocument;
  /** Present exactly when the change had metadata, its secrets masked. */
  metadata?: Record<string, unknown>;
}

/**
 * Vectors for queries and changed texts, from the embedder. Redaction lives in the embedder
 * alone (one policy, one configuration), so anything this service writes that did not come
 * through the store path goes through the embedder first.
 */
export interface EmbedPort {
  query(text: string): Promise<Float32Array>;
  /** Redacts, hashes and embeds texts as they will be stored. */
  documents(texts: readonly string[]): Promise<EmbeddedDocument[]>;
  /**
   * Redacts an update's text and metadata with the store path's policy (and embeds the text),
   * in one round trip. Optional only so ports that never see user metadata (benchmarks,
   * evaluation) need not implement it: without it an update that sets metadata is refused,
   * never stored unredacted.
   */
  prepareChange?(change: ChangeInput): Promise<PreparedChange>;
}

/** A memory event to publish, with the id that makes a re-publish of it a no-op. */
export interface OutgoingEvent {
  /** The event. */
  event: MemoryEvent;
  /** With the event's change and the tenant, the JetStream message id of the publish. */
  dedupId: string;
}

/** Where memory events go once a change is durable; `dedupId` makes a re-publish a no-op. */
export interface EventPort {
  publish(tenant: string, events: readonly OutgoingEvent[]): Promise<void>;
}
