export type { CompiledFilter, FilterPayload } from './filter-match.ts';
export { compileFilter, isExpired, matchesFilter, toFilterPayload } from './filter-match.ts';
export type { FusedCandidate, HybridCandidate } from './hybrid-fusion.ts';
export { DEFAULT_HYBRID_ALPHA, fuseHybrid, hybridLegDepth } from './hybrid-fusion.ts';
export { keywordText } from './keyword-text.ts';
export { STOP_WORDS, stemmedTerms } from './text-terms.ts';
export type {
  IndexedMemory,
  IndexFilter,
  ScrollCursor,
  ScrollRequest,
  ScrollResult,
  SearchHit,
  SearchMode,
  SearchRequest,
  SearchResult,
  StatsResult,
  VectorIndex,
  VectorIndexCapabilities,
} from './vector-index.ts';
export { assertRecordTimestamps, emptyStats } from './vector-index.ts';
