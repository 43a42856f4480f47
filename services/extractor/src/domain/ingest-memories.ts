import type { IngestMessage, MemoryFilter, Scope, StoreMemoryInput } from '@membus/contracts';
import { v5 as uuidv5 } from 'uuid';
import type { FallbackReason } from './extraction.ts';
import type { PromptTurn } from './prompts.ts';

// The memories an ingest becomes: the facts' owner, scope, labels and ids, and the raw text
// stored instead when there is no extraction. The flow that decides which is extraction.ts.

/** Ids of extracted and raw memories derive from the ingest's id: a redelivery writes the same. */
const ID_NAMESPACE = '6f1c2b7e-2d4a-4c1b-9a53-3f0e8d9b1c42';

/** The id of an ingest group's `index`-th fact (a redelivery writes the same). */
export function factId(first: IngestMessage, index: number): string {
  return uuidv5(`${first.id}:fact:${index}`, ID_NAMESPACE);
}

/** The scope facts are kept in: the caller's, else the owner's that is given (user first). */
export function factScope(ingest: IngestMessage): Scope {
  if (ingest.scope) return ingest.scope;
  if (ingest.userId) return 'user';
  if (ingest.agentId) return 'agent';
  if (ingest.sessionId) return 'session';
  return 'app';
}

/** The ingests extracted together: one tenant, owner, namespace and session. */
export function groupKey(ingest: IngestMessage): string {
  return JSON.stringify([
    factScope(ingest),
    ingest.userId ?? null,
    ingest.agentId ?? null,
    ingest.sessionId ?? null,
    ingest.namespace ?? null,
    ingest.extract,
  ]);
}

/** A fact the model proposed, with the turns it came from. */
export interface Candidate {
  text: string;
  category: string | undefined;
  importance: number | undefined;
  sources: string[];
}

/** The turns of a group as the model sees them (`t1`, `t2`, …) and each one's source id. */
export function promptTurns(ingests: readonly IngestMessage[]): {
  turns: PromptTurn[];
  sourceOf: Map<string, string>;
} {
  const turns: PromptTurn[] = [];
  const sourceOf = new Map<string, string>();
  for (const ingest of ingests) {
    const given = ingest.turns ?? [{ role: 'user' as const, content: ingest.text ?? '' }];
    given.forEach((turn, index) => {
      const id = `t${turns.length + 1}`;
      turns.push({ id, role: turn.role, content: turn.content });
      sourceOf.set(id, ('id' in turn && turn.id) || `${ingest.id}#${index}`);
    });
  }
  return { turns, sourceOf };
}

/** The same owner's memories: the fact's scope, owner ids and namespace. */
export function ownerFilter(ingest: IngestMessage): MemoryFilter {
  const scope = factScope(ingest);
  return {
    scopes: [scope],
    ...(ingest.userId ? { userId: ingest.userId } : {}),
    ...(ingest.agentId ? { agentId: ingest.agentId } : {}),
    ...(scope === 'session' && ingest.sessionId ? { sessionId: ingest.sessionId } : {}),
    ...(ingest.namespace ? { namespace: ingest.namespace } : {}),
  };
}

export function mergedMetadata(ingests: readonly IngestMessage[]): Record<string, unknown> {
  return Object.assign({}, ...ingests.map((ingest) => ingest.metadata));
}

export function factMemory(
  first: IngestMessage,
  ingests: readonly IngestMessage[],
  candidate: Candidate,
): Omit<StoreMemoryInput, 'v' | 'id' | 'metadata'> {
  const scope = factScope(first);
  const categories = new Set(ingests.flatMap((ingest) => ingest.categories));
  if (candidate.category) categories.add(candidate.category);
  return {
    scope,
    ...(first.userId ? { userId: first.userId } : {}),
    ...(first.agentId ? { agentId: first.agentId } : {}),
    ...(scope === 'session' && first.sessionId ? { sessionId: first.sessionId } : {}),
    ...(first.namespace ? { namespace: first.namespace } : {}),
    kind: 'fact',
    text: candidate.text,
    categories: [...categories],
    tags: [...new Set(ingests.flatMap((ingest) => ingest.tags))],
    ...(candidate.importance !== undefined ? { importance: candidate.importance } : {}),
  };
}

/** The ingest as it was said: one `episode` memory per turn (`role: text`), or its text. */
export function rawMemories(
  ingest: IngestMessage,
  reason: FallbackReason,
): (Omit<StoreMemoryInput, 'v'> & { id: string })[] {
  const turns = ingest.turns ?? [{ role: 'user' as const, content: ingest.text ?? '' }];
  return turns.map((turn, index) => ({
    id: uuidv5(`${ingest.id}:raw:${index}`, ID_NAMESPACE),
    ...(ingest.scope ? { scope: ingest.scope } : {}),
    ...(ingest.userId ? { userId: ingest.userId } : {}),
    ...(ingest.agentId ? { agentId: ingest.agentId } : {}),
    ...(ingest.sessionId ? { sessionId: ingest.sessionId } : {}),
    ...(ingest.namespace ? { namespace: ingest.namespace } : {}),
    kind: 'episode',
    text: ingest.turns ? `${turn.role}: ${turn.content}` : turn.content,
    categories: ingest.categories,
    tags: ingest.tags,
    metadata: {
      ...ingest.metadata,
      source: 'ingest',
      ingestId: ingest.id,
      extraction: reason,
      ...('id' in turn && turn.id ? { messageId: turn.id } : {}),
      ...(ingest.turns ? { role: turn.role } : {}),
    },
  }));
}
