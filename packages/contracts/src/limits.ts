/** Input limits, checked at the edge (client and every service) with a typed error. */
export const Limits = {
  /** Characters of memory text. */
  textLength: 32_000,
  /** Bytes of JSON-encoded metadata. */
  metadataBytes: 16_384,
  /** Nesting depth of metadata objects/arrays. */
  metadataDepth: 8,
  /** Entries per categories / tags list. */
  labelCount: 32,
  /** Characters per id, category, tag, namespace, scope id. */
  labelLength: 128,
  /** Results per query. */
  topK: 200,
  /** Memories per storeMany / records per list page. */
  batchSize: 500,
  pageSize: 500,
  /** Texts per embed request. */
  embedBatch: 256,
  /** Vector dimension accepted from callers. */
  vectorDimension: 4_096,
  /** Conditions in a metadata filter, and its nesting depth. */
  filterConditions: 64,
  filterDepth: 8,
  /** Values in an `in` / `nin` list, and ids in a by-id request. */
  filterValues: 256,
  ids: 500,
  /** Bytes of one NATS message payload membus accepts. */
  messageBytes: 256 * 1024,
  /** Bytes of the original payload a dead letter keeps (so the letter stays under `messageBytes`). */
  deadLetterPayloadBytes: 64 * 1024,
} as const;
