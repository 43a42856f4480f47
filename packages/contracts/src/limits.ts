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
  /**
   * Bytes of JSON items (memories of a list or get, hits of a query, entries of a history) one
   * reply carries. A reply is filled until it holds its count (`limit`, `topK`, the ids asked
   * for) or this many bytes, whichever comes first, and says what it left out (`nextCursor`,
   * `pending`, `truncated`/`omitted`). `messageBytes - replyBytes` (64 KiB) is left for the
   * envelope (cursor, missing ids). A reply always carries at least one item when one is due,
   * even a larger one: a memory within the input limits encodes in less than `messageBytes`.
   */
  replyBytes: 192 * 1024,
  /**
   * Ids listed in a reply that acts on a filter (delete by filter, expire): the count
   * (`deleted`, `expired`) is always exact, the ids are the first this many.
   */
  replyIds: 500,
  /** Keys per open-ended count (`byNamespace`, `byCategory`) in a stats reply: the largest counts. */
  statsKeys: 200,
  /**
   * How far in the future a caller-supplied `createdAt` may lie (clock skew between writers),
   * in ms. Past dates (imports) are allowed.
   */
  createdAtFutureMs: 5 * 60_000,
  /** The largest magnitude of a vector component: vectors are float32 (no NaN, no Infinity). */
  float32Max: 3.4028234663852886e38,
} as const;
