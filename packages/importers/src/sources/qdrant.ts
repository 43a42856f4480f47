import type { SourceItem } from '../imported-memory.ts';
import { type Mapping, mapRow } from '../mapping.ts';
import { type Mem0Options, mem0Memory } from './mem0.ts';

/** A Qdrant collection to read. */
export interface QdrantSource {
  url: string;
  apiKey?: string;
  collection: string;
  /** Points per scroll request (default 256). */
  pageSize?: number;
}

/** One point as the scroll endpoint returns it. */
export interface QdrantPoint {
  id: string | number;
  payload?: Record<string, unknown> | null;
}

/**
 * The points of a collection with their payloads, page by page (`scroll` with `offset` =
 * the previous page's `next_page_offset`): one page in memory at a time. Vectors are not read:
 * they belong to another embedding model; membus embeds the texts with its own.
 */
export async function* qdrantPoints(source: QdrantSource): AsyncGenerator<QdrantPoint> {
  const { QdrantClient } = await import('@qdrant/js-client-rest');
  const client = new QdrantClient({
    url: source.url,
    ...(source.apiKey ? { apiKey: source.apiKey } : {}),
    checkCompatibility: false,
  });
  let offset: string | number | undefined;
  do {
    const page = await client.scroll(source.collection, {
      limit: source.pageSize ?? 256,
      with_payload: true,
      with_vector: false,
      ...(offset !== undefined ? { offset } : {}),
    });
    for (const point of page.points)
      yield { id: point.id, payload: (point.payload ?? null) as Record<string, unknown> | null };
    const next = page.next_page_offset;
    offset = typeof next === 'string' || typeof next === 'number' ? next : undefined;
  } while (offset !== undefined);
}

/**
 * The memories of a collection's points: payload fields by a mapping (columns name payload
 * fields, dots for nested ones; the id is the point id unless `columns.id` names a field), or
 * mem0's payload (`format: 'mem0'`, a collection mem0 wrote).
 */
export async function* qdrantItems(
  source: QdrantSource,
  how: { mapping: Mapping } | { format: 'mem0'; options?: Mem0Options },
): AsyncGenerator<SourceItem> {
  for await (const point of qdrantPoints(source)) {
    const payload = point.payload ?? {};
    if ('mapping' in how)
      yield mapRow(payload, how.mapping, { source: source.collection, key: point.id });
    else yield mem0Memory(payload, how.options, point.id);
  }
}
