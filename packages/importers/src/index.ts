export {
  DEFAULT_PRICE_PER_MILLION_TOKENS,
  embeddingCost,
  estimateTokens,
} from './estimate.ts';
export type { ImportedMemory, SourceItem } from './imported-memory.ts';
export { IMPORT_ID_NAMESPACE, importedId, toTimestamp } from './imported-memory.ts';
export { jsonValues } from './json-stream.ts';
export type { Mapping, MappingInput } from './mapping.ts';
export { loadMapping, MappingSchema, mapRow, parseMapping } from './mapping.ts';
export type { ImportCounts, ImportOptions, ImportTarget } from './run.ts';
export { formatCounts, planImport, runImport, writeMemories } from './run.ts';
export type { Mem0Options } from './sources/mem0.ts';
export {
  mem0ExportItems,
  mem0HistoryItems,
  mem0Memory,
  mem0VectorStoreItems,
} from './sources/mem0.ts';
export type { QdrantPoint, QdrantSource } from './sources/qdrant.ts';
export { qdrantItems, qdrantPoints } from './sources/qdrant.ts';
export type { PostgresSource } from './sources/sql.ts';
export {
  defaultSource,
  mappingQuery,
  postgresRows,
  quotedTable,
  sqliteRows,
} from './sources/sql.ts';
export { postgresItems, sqliteItems } from './sql-items.ts';
