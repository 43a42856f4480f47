import { MembusError } from '@membus/contracts';
import {
  fuseHybrid,
  hybridLegDepth,
  type SearchHit,
  type SearchRequest,
  type SearchResult,
} from '@membus/vector-index';
import type { KeywordIndex } from './keyword-index.ts';
import { LazyHit } from './lazy-hit.ts';
import type { CandidateSource, PayloadIndex } from './payload-index.ts';
import type { DensePlanner } from './planner.ts';
import type { SlotTable } from './slot-table.ts';
import type { SqliteStore } from './sqlite-store.ts';
import type { VectorArena } from './vector-arena.ts';
import { normalized } from './vector-pages.ts';

/** What a search needs of the index around it. */
export interface SearchHost {
  assertOpen(): void;
  assertDimension(vector: Float32Array, operation: string): void;
  liveCount(): number;
}

export interface SearchParts {
  arena: VectorArena;
  slots: SlotTable;
  payloadIndex: PayloadIndex;
  keywords: KeywordIndex;
  planner: DensePlanner;
  store: SqliteStore;
  /** Hybrid fusion weight of the cosine (the rest is normalised BM25). */
  hybridAlpha: number;
}

/**
 * The port's `search`: a dense leg (the planner), a keyword leg (BM25), or both fused as a
 * weighted sum; the keyword leg runs while the query vector is still on its way.
 */
export class Searcher {
  private readonly arena: VectorArena;
  private readonly slots: SlotTable;
  private readonly payloadIndex: PayloadIndex;
  private readonly keywords: KeywordIndex;
  private readonly planner: DensePlanner;
  private readonly store: SqliteStore;
  private readonly hybridAlpha: number;

  constructor(
    parts: SearchParts,
    private readonly host: SearchHost,
  ) {
    this.arena = parts.arena;
    this.slots = parts.slots;
    this.payloadIndex = parts.payloadIndex;
    this.keywords = parts.keywords;
    this.planner = parts.planner;
    this.store = parts.store;
    this.hybridAlpha = parts.hybridAlpha;
  }

  async search(request: SearchRequest): Promise<SearchResult> {
    const pending =
      request.vector === undefined || request.vector instanceof Float32Array
        ? undefined
        : request.vector;
    // Handled here so a throw below cannot leave it rejected with no handler.
    pending?.catch(() => undefined);
    this.host.assertOpen();
    const limit = Math.max(0, Math.floor(request.limit));
    const mode = request.text?.trim() ? (request.mode ?? 'dense') : 'dense';
    if (request.vector === undefined) return this.keywordOnly(request, mode, limit);
    // Each leg looks deeper than `limit` so fusion can promote what one leg ranks lower.
    const depth = mode === 'keyword' ? limit : hybridLegDepth(limit);
    // The keyword leg needs no vector: with the vector still on its way, it runs while the
    // embedder answers, once the embed request has gone out (nats.js writes in a microtask).
    if (pending !== undefined && mode !== 'dense' && limit > 0) await Promise.resolve();
    let legs = mode === 'dense' || limit === 0 ? undefined : this.keywordLeg(request, depth);
    const vector = pending === undefined ? (request.vector as Float32Array) : await pending;
    this.host.assertOpen();
    this.host.assertDimension(vector, 'search');
    if (limit === 0) return { hits: [], plan: mode === 'dense' ? 'exact' : mode };
    const query = normalized(vector);
    // A write while the vector was awaited may have moved slots: the leg is run again.
    if (legs !== undefined && legs.writes !== this.slots.writes)
      legs = this.keywordLeg(request, depth);
    if (legs === undefined) {
      const { filterCandidates, matches, candidateMatches } = this.searchFilter(request);
      const { scored, plan } = this.denseSearch(
        filterCandidates,
        query,
        matches,
        candidateMatches,
        limit,
      );
      return {
        hits: this.toHits(request.tenant, scored, (item) => ({
          score: item.score,
          dense: item.score,
        })),
        plan,
      };
    }
    const { filterCandidates, matches, candidateMatches, keyword } = legs;
    const best = keyword[0]?.score ?? 1;
    if (mode === 'keyword') {
      return {
        hits: this.toHits(request.tenant, keyword.slice(0, limit), (item) => ({
          score: item.score / best,
          dense: this.arena.dot(item.slot, query),
          keyword: item.score / best,
        })),
        plan: 'keyword',
      };
    }
    const dense = this.denseSearch(filterCandidates, query, matches, candidateMatches, depth);
    // Convex fusion: every candidate of either leg gets its cosine (cheap: the vector is in
    // memory) and its normalised BM25 (0 when the keyword leg did not find it).
    const fusing: { slot: number; id: string; cosine: number; keyword?: number }[] = [];
    const bySlot = new Map<number, (typeof fusing)[number]>();
    for (const item of dense.scored) {
      const candidate = { slot: item.slot, id: item.id, cosine: item.score };
      bySlot.set(item.slot, candidate);
      fusing.push(candidate);
    }
    for (const item of keyword) {
      const found = bySlot.get(item.slot);
      if (found !== undefined) found.keyword = item.score / best;
      else
        fusing.push({
          slot: item.slot,
          id: this.slots.ids[item.slot] ?? '',
          cosine: this.arena.dot(item.slot, query),
          keyword: item.score / best,
        });
    }
    const ranked = fuseHybrid(fusing, { alpha: this.hybridAlpha, limit });
    return {
      hits: this.toHits(request.tenant, ranked, (item) => ({
        score: item.fused,
        dense: item.cosine,
        ...(item.keyword !== undefined ? { keyword: item.keyword } : {}),
      })),
      plan: `hybrid(${dense.plan})`,
    };
  }

  /** A keyword search asked without a vector (never embedded): hits carry no `dense` score. */
  private keywordOnly(request: SearchRequest, mode: string, limit: number): SearchResult {
    if (mode !== 'keyword')
      throw new MembusError('INVALID_MESSAGE', `a ${mode} search needs a query vector`);
    if (limit === 0) return { hits: [], plan: 'keyword' };
    const { keyword } = this.keywordLeg(request, limit);
    const best = keyword[0]?.score ?? 1;
    return {
      hits: this.toHits(request.tenant, keyword.slice(0, limit), (item) => ({
        score: item.score / best,
        keyword: item.score / best,
      })),
      plan: 'keyword',
    };
  }

  private denseSearch(
    candidates: CandidateSource,
    query: Float32Array,
    matches: (slot: number) => boolean,
    candidateMatches: (slot: number) => boolean,
    limit: number,
  ) {
    return this.planner.search(
      candidates,
      query,
      matches,
      candidateMatches,
      limit,
      this.host.liveCount(),
    );
  }

  /** A request's candidate set and predicates (valid until the next write). */
  private searchFilter(request: SearchRequest) {
    // One candidate set for both legs.
    const filterCandidates = this.payloadIndex.candidates(request.tenant, request.filter);
    const matches = this.slots.predicate(request.tenant, request.filter, request.now);
    const candidateMatches = this.slots.predicate(
      request.tenant,
      request.filter,
      request.now,
      filterCandidates.covers,
    );
    return { filterCandidates, matches, candidateMatches };
  }

  /** The keyword leg `depth` deep, with the filter it ran under and the write it saw last. */
  private keywordLeg(request: SearchRequest, depth: number) {
    const filter = this.searchFilter(request);
    const keyword = this.keywords.search({
      text: request.text ?? '',
      matches: filter.matches,
      candidates: this.slots.candidateIterator(filter.filterCandidates, filter.candidateMatches),
      limit: depth,
    });
    return { ...filter, keyword, writes: this.slots.writes };
  }

  /** Hits whose records are read from SQLite on first access (see LazyHit). */
  private toHits<T extends { slot: number; id?: string }>(
    tenant: string,
    items: readonly T[],
    scores: (item: T) => Omit<SearchHit, 'record' | 'ranking'>,
  ): SearchHit[] {
    const hits: SearchHit[] = [];
    for (const item of items) {
      const id = item.id ?? this.slots.ids[item.slot];
      if (id === undefined) continue;
      hits.push(
        new LazyHit(
          this.store,
          tenant,
          id,
          {
            updatedAt: this.slots.updatedAt[item.slot]!,
            importance: this.slots.importance[item.slot]!,
          },
          scores(item),
        ),
      );
    }
    return hits;
  }
}
