// Query: dense, keyword or hybrid search re-ranked by recency and importance.
import { MembusError, type QueryHit, type QueryReply, type QueryRequest } from '@membus/contracts';
import type { SearchHit } from '@membus/vector-index';
import { candidateCount, combineScore, DEFAULT_WEIGHTS, recencyScore } from '../ranking.ts';
import { countThatFits } from '../reply-budget.ts';
import { checkedVector, type MemoryContext, ms } from './context.ts';

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
  const result = await context.index.search({
    tenant,
    ...(vector !== undefined ? { vector } : {}),
    ...(request.filter ? { filter: request.filter } : {}),
    limit: candidateCount(request.topK, weights),
    now,
    mode,
    ...(request.text !== undefined ? { text: request.text } : {}),
  });
  // Ranked on `ranking` where the index gives it, so only the kept hits' records are read.
  const ranked: { hit: SearchHit; score: number; scores: QueryHit['scores'] }[] = [];
  for (const hit of result.hits) {
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
    const score = combineScore(scores, weights);
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
