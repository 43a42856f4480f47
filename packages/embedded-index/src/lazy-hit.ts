import { MembusError, type MemoryRecord } from '@membus/contracts';
import type { SearchHit } from '@membus/vector-index';
import type { SqliteStore } from './sqlite-store.ts';

/**
 * A search hit whose record is read from SQLite on first access (the slot's row exists: writes
 * are synchronous). The caller ranks by `ranking` and reads only what it keeps: a query with
 * recency or importance weights asks for 5× topK candidates, at least 50, to re-rank, and
 * reading and parsing them all cost ~0.5 ms per query.
 */
export class LazyHit implements SearchHit {
  readonly score: number;
  readonly dense?: number;
  readonly keyword?: number;
  readonly ranking: { updatedAt: number; importance: number };
  #record: MemoryRecord | undefined;

  constructor(
    private readonly store: SqliteStore,
    private readonly tenant: string,
    private readonly id: string,
    ranking: { updatedAt: number; importance: number },
    scores: Omit<SearchHit, 'record' | 'ranking'>,
  ) {
    this.score = scores.score;
    if (scores.dense !== undefined) this.dense = scores.dense;
    if (scores.keyword !== undefined) this.keyword = scores.keyword;
    this.ranking = ranking;
  }

  get record(): MemoryRecord {
    if (this.#record === undefined) {
      const record = this.store.getRecord(this.tenant, this.id);
      if (record === undefined)
        throw new MembusError('NOT_FOUND', `memory ${this.id} was deleted after the search`, {
          details: { id: this.id },
        });
      this.#record = record;
    }
    return this.#record;
  }
}
