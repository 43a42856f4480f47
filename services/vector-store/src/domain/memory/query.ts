// Query: dense, keyword or hybrid search re-ranked by recency and importance.
import { MembusError, type QueryHit, type QueryReply, type QueryRequest } from '@membus/contracts';
import type { SearchHit, SearchResult } from '@membus/vector-index';
import { candidateCount, combineScore, DEFAULT_WEIGHTS, recencyScore } from '../ranking.ts';
import { belowRelevanceFloor, FLOOR_CANDIDATES } from '../relevance-floor.ts';
import { countThatFits } from '../reply-budget.ts';
import { namedPeriod } from '../time-expressions.ts';
import { checkedVector, iso, type MemoryContext, ms } from './context.ts';

/**
 * Added to the score of a memory of the period the query names (time-expressions.ts): with the
 * default weights (relevance alone, at most 1) the memories of that period rank first, each
 * part ranked as its own search ranks it. LOCOMO development split, e5-small-v2 int8, hybrid
 * recall@10: 0.745 without, 0.761 with it (single-hop questions, which often name the day: 0.839
 * to 0.867; the other categories rarely name a day or month with its year and do not move).
 */
export const TIME_BOOST = 1;

export async function query(
  context: MemoryContext,
  tenant: string,
  request: QueryRequest,
): Promise<QueryReply> {
  const started = performance.now();
  const mode = request.mode ?? (request.text !== undefined ? 'hybrid' : 'dense');
  const vector = queryVector(context, request, mode);
  const weights = { ...DEFAULT_WEIGHTS, ...request.weights };
  const now = context.clock();
  const floored = request.minScore === undefined && request.vector === undefined;
  // The floor judges the best cosine among at least as many candidates as it was calibrated
  // on, so a small topK does not judge by a top hit that only the keyword leg ranked high.
  const limit = Math.max(
    candidateCount(request.topK, weights),
    floored && mode !== 'keyword' ? FLOOR_CANDIDATES : 0,
  );
  const search = (filter: QueryRequest['filter']) =>
    context.index.search({
      tenant,
      ...(vector !== undefined ? { vector } : {}),
      ...(filter ? { filter } : {}),
      limit,
      now,
      mode,
      ...(request.text !== undefined ? { text: request.text } : {}),
    });
  // A query naming a day or month (and no time filter of its own) also searches that period.
  const period =
    request.text !== undefined && request.filter?.createdAt === undefined
      ? namedPeriod(request.text)
      : undefined;
  const [all, inPeriod] = await Promise.all([
    search(request.filter),
    period
      ? search({ ...request.filter, createdAt: { gte: iso(period.start), lt: iso(period.end) } })
      : undefined,
  ]);
  // The period's hits, by object: ids are read (from the records) only when there is a period.
  const boosted = new Set<SearchHit>(inPeriod?.hits);
  const result = inPeriod ? withPeriod(all, inPeriod) : all;
  // Without a minScore of its own, a text query unrelated to every memory it found gets none.
  const unrelated =
    floored &&
    belowRelevanceFloor(
      result.hits.map((hit) => ({ dense: hit.dense, model: () => hit.record.embeddingModel })),
    );
  // Ranked on `ranking` where the index gives it, so only the kept hits' records are read.
  const ranked: { hit: SearchHit; score: number; scores: QueryHit['scores'] }[] = [];
  for (const hit of unrelated ? [] : result.hits) {
    if (request.minScore !== undefined && hit.score < request.minScore) continue;
    const ranking = hit.ranking ?? {
      updatedAt: ms(hit.record.updatedAt),
      importance: hit.record.importance,
    };
    const scores = {
      relevance: hit.score,
      recency: recencyScore(ranking.updatedAt, now, request.recencyHalfLifeHours),
      importance: ranking.importance,
      ...(hit.dense !== undefined ? { dense: hit.dense } : {}),
      ...(hit.keyword !== undefined ? { keyword: hit.keyword } : {}),
    };
    const score = combineScore(scores, weights) + (boosted.has(hit) ? TIME_BOOST : 0);
    // A score that is not a number would be `null` on the wire: say which memory, not a
    // schema failure in the caller's SDK.
    if (!Number.isFinite(score))
      throw new MembusError('INTERNAL', `the index scored memory ${hit.record.id} ${score}`, {
        details: { id: hit.record.id, index: context.index.capabilities.name },
      });
    ranked.push({ hit, score, scores });
  }
  ranked.sort((a, b) => b.score - a.score);
  const best: QueryHit[] = ranked
    .slice(0, request.topK)
    .map(({ hit, score, scores }) => ({ memory: hit.record, score, scores }));
  // The best hits that fit one reply; the rest are counted, never an oversize reply.
  const top = best.slice(0, countThatFits(best));
  const omitted = best.length - top.length;
  context.access.track(
    tenant,
    top.map((hit) => hit.memory.id),
    now,
  );
  return {
    v: 1,
    hits: top,
    ...(omitted > 0 ? { truncated: true, omitted } : {}),
    mode,
    plan: result.plan,
    tookMs: performance.now() - started,
  };
}

/** The period's hits, then the other hits of the whole search (each memory once). */
function withPeriod(all: SearchResult, inPeriod: SearchResult): SearchResult {
  const ids = new Set(inPeriod.hits.map((hit) => hit.record.id));
  return {
    hits: [...inPeriod.hits, ...all.hits.filter((hit) => !ids.has(hit.record.id))],
    plan: `${all.plan}, period ${inPeriod.plan}`,
  };
}

/**
 * The query vector the search needs: the caller's, normalised; none for a keyword text query on
 * an index that answers keyword searches (the query is never embedded, so it does not wait on
 * the embedder nor fail while it is down); else the embedder's, not awaited here, so the index
 * may do what needs no vector while the embedder answers.
 */
function queryVector(
  context: MemoryContext,
  request: QueryRequest,
  mode: QueryRequest['mode'],
): Float32Array | Promise<Float32Array> | undefined {
  if (request.vector) return checkedVector(context, normaliseVector(request.vector));
  if (mode === 'keyword' && context.index.capabilities.keyword === true) return undefined;
  const vector = context.embed
    .query(request.text as string)
    .then((embedded) => checkedVector(context, embedded));
  // The index awaits it; marked handled so that nothing thrown before then leaves it orphaned.
  vector.catch(() => undefined);
  return vector;
}

function normaliseVector(values: readonly number[]): Float32Array {
  const vector = Float32Array.from(values);
  let sum = 0;
  for (const value of vector) sum += value * value;
  const norm = Math.sqrt(sum);
  if (norm === 0) throw new MembusError('INVALID_MESSAGE', 'query vector is all zeros');
  for (let index = 0; index < vector.length; index++)
    vector[index] = (vector[index] as number) / norm;
  return vector;
}
