import { MembusError } from '@membus/contracts';
import type { Schemas } from '@qdrant/js-client-rest';
import { messageOf, type QdrantConnection, statusOf } from './qdrant-connection.ts';
import { PayloadKeys } from './qdrant-filter.ts';
import { SPARSE_VECTOR_NAME } from './sparse-text-vector.ts';

/** `membus_<model>_<dimension>`: one collection per embedding model and dimension. */
export function qdrantCollectionName(model: string, dimension: number): string {
  const slug = model
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return `membus_${slug || 'default'}_${dimension}`;
}

const KEYWORD_FIELDS = [
  PayloadKeys.id,
  PayloadKeys.scope,
  PayloadKeys.userId,
  PayloadKeys.agentId,
  PayloadKeys.sessionId,
  PayloadKeys.namespace,
  PayloadKeys.kind,
  PayloadKeys.tier,
  PayloadKeys.categories,
  PayloadKeys.tags,
  PayloadKeys.dedupKey,
  PayloadKeys.metadataPaths,
  PayloadKeys.metadataArrays,
] as const;
const INTEGER_FIELDS = [PayloadKeys.createdAt, PayloadKeys.updatedAt, PayloadKeys.expiresAt];

/** What opening a collection checks against and where it reports. */
export interface CollectionSettings {
  dimension: number;
  onWarning: (message: string, details: Record<string, unknown>) => void;
}

/**
 * Checks Qdrant is reachable, creates the collection (idempotently) and its payload indexes,
 * and checks its dimension. Returns whether it has the keyword leg (the `text` sparse vector
 * with the idf modifier); without it, warns.
 */
export async function openCollection(
  connection: QdrantConnection,
  settings: CollectionSettings,
): Promise<boolean> {
  try {
    await connection.client.versionInfo();
  } catch (error) {
    throw new MembusError(
      'UNAVAILABLE',
      `Qdrant at ${connection.url} is unreachable: ${messageOf(error)}`,
      { cause: error, details: { backend: 'qdrant', url: connection.url } },
    );
  }
  const { exists } = await connection.call('check collection', () =>
    connection.client.collectionExists(connection.collection),
  );
  if (!exists) {
    try {
      await connection.call('create collection', () =>
        connection.client.createCollection(connection.collection, {
          // Unnamed dense vector (named `""` in a point's vector map) beside the keyword leg:
          // BM25 term weights per memory, IDF applied by Qdrant from the collection's statistics.
          vectors: { size: settings.dimension, distance: 'Cosine' },
          sparse_vectors: { [SPARSE_VECTOR_NAME]: { modifier: 'idf' } },
          // Multitenancy: one HNSW graph per tenant (payload_m), none across tenants (m: 0).
          hnsw_config: { payload_m: 16, m: 0 },
        }),
      );
    } catch (error) {
      // Another replica created it between the check and the create (replicas starting
      // together): use theirs, checked below like any existing collection. The call wraps
      // Qdrant's answer in a MembusError; the 409 is its cause's.
      if (!createdByAnother(error)) throw error;
    }
  }
  const info = await connection.call('read collection', () =>
    connection.client.getCollection(connection.collection),
  );
  const vectors = info.config.params.vectors as { size?: number; distance?: string } | undefined;
  if (vectors?.size !== undefined && vectors.size !== settings.dimension) {
    throw new MembusError(
      'DIMENSION_MISMATCH',
      `Qdrant collection ${connection.collection} holds ${vectors.size}-dimensional vectors; configured ${settings.dimension}`,
      { details: { expected: settings.dimension, actual: vectors.size } },
    );
  }
  if (vectors?.distance !== undefined && vectors.distance !== 'Cosine') {
    throw new MembusError(
      'CONFLICT',
      `Qdrant collection ${connection.collection} compares vectors by ${vectors.distance}; membus needs Cosine`,
      { retryable: false, details: { expected: 'Cosine', actual: vectors.distance } },
    );
  }
  const sparse = info.config.params.sparse_vectors?.[SPARSE_VECTOR_NAME];
  const keyword = sparse?.modifier === 'idf';
  if (!keyword) {
    settings.onWarning(
      `Qdrant collection ${connection.collection} ${
        sparse === undefined
          ? `has no sparse vector "${SPARSE_VECTOR_NAME}"`
          : `has a sparse vector "${SPARSE_VECTOR_NAME}" without the idf modifier`
      } (created before keyword search): keyword and hybrid searches on it are answered dense. ` +
        'Re-index into a new collection (QDRANT_COLLECTION) to enable them.',
      { backend: 'qdrant', collection: connection.collection, sparseVector: SPARSE_VECTOR_NAME },
    );
  }
  const existing = new Set(Object.keys(info.payload_schema ?? {}));
  const wanted: [string, Schemas['PayloadFieldSchema']][] = [
    [PayloadKeys.tenant, { type: 'keyword', is_tenant: true }],
    ...KEYWORD_FIELDS.map(
      (field) =>
        [field, { type: 'keyword', enable_hnsw: false }] as [string, Schemas['PayloadFieldSchema']],
    ),
    ...INTEGER_FIELDS.map(
      (field) =>
        [
          field,
          {
            type: 'integer',
            lookup: false,
            range: true,
            enable_hnsw: false,
            ...(field === PayloadKeys.createdAt ? { is_principal: true } : {}),
          },
        ] as [string, Schemas['PayloadFieldSchema']],
    ),
  ];
  for (const [field, schema] of wanted) {
    if (existing.has(field)) continue;
    await connection.call('create payload index', () =>
      connection.client.createPayloadIndex(connection.collection, {
        field_name: field,
        field_schema: schema,
        wait: true,
      }),
    );
  }
  return keyword;
}

/** Qdrant's answer to creating a collection that exists: 409 Conflict ("already exists"). */
function createdByAnother(error: unknown): boolean {
  const answer = MembusError.is(error) ? error.cause : error;
  return statusOf(answer) === 409 || /already exists/i.test(messageOf(answer));
}
