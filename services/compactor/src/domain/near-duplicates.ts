import { Limits, type MemoryRecord } from '@membus/contracts';
import type { EmbedPort } from '../ports/embed-port.ts';
import { listAll } from '../ports/memory-port.ts';
import { tierGroupKey } from './heat.ts';
import {
  ChangeList,
  isNotFound,
  type MaintenanceContext,
  STEP,
  shorten,
  tally,
} from './maintenance-context.ts';
import { similarityClusters } from './vectors.ts';

export interface Candidate {
  id: string;
  namespace: string | undefined;
  occurrences: number;
  createdAt: string;
  text: string;
  vector: Float32Array;
}

/**
 * A bounded sample for near-duplicate detection: the first `limit` memories offered (newest
 * first), each owner group and kind holding at most `window` of them; texts are embedded a
 * batch at a time and only vectors and shortened texts are kept.
 */
export class DuplicateSampler {
  readonly windows = new Map<string, Candidate[]>();
  readonly #counts = new Map<string, number>();
  #pending: { key: string; memory: MemoryRecord }[] = [];
  sampled = 0;

  constructor(
    readonly embed: EmbedPort,
    readonly limit: number,
    readonly window: number,
  ) {}

  async add(memory: MemoryRecord): Promise<void> {
    if (this.sampled >= this.limit) return;
    const key = `${tierGroupKey(memory)}|${memory.kind}`;
    const count = this.#counts.get(key) ?? 0;
    if (count >= this.window) return;
    this.#counts.set(key, count + 1);
    this.sampled++;
    this.#pending.push({ key, memory });
    if (this.#pending.length >= STEP) await this.flush();
  }

  async flush(): Promise<void> {
    const pending = this.#pending;
    this.#pending = [];
    if (pending.length === 0) return;
    const vectors = await this.embed.embed(pending.map(({ memory }) => memory.text));
    pending.forEach(({ key, memory }, index) => {
      const window = this.windows.get(key) ?? [];
      this.windows.set(key, window);
      window.push({
        id: memory.id,
        namespace: memory.namespace,
        occurrences: memory.occurrences,
        createdAt: memory.createdAt,
        text: shorten(memory.text),
        vector: vectors[index] as Float32Array,
      });
    });
  }
}

/** Most memories (newest first) one duplicate sweep or audit compares (`maxMemories`). */
export function maxMemories(context: MaintenanceContext): number {
  return context.options.maxMemories ?? 5_000;
}

export function duplicateSampler(context: MaintenanceContext, limit: number): DuplicateSampler {
  return new DuplicateSampler(
    context.options.embed,
    limit,
    context.options.duplicateWindow ?? 1_000,
  );
}

/**
 * Merges near duplicates within each scope owner, namespace and kind: the memory with the
 * most occurrences (then the oldest) stays and absorbs the others. Looks at the newest
 * `maxMemories` (default 5,000) memories of the tenant, at most `duplicateWindow` (default
 * 1,000) of each owner, namespace and kind: bounded in memory and time on a tenant of any size.
 */
export async function duplicateSweep(
  context: MaintenanceContext,
  tenant: string,
  dryRun: boolean,
  changes = new ChangeList(),
): Promise<{ clusters: number; memories: number }> {
  const sampler = duplicateSampler(context, maxMemories(context));
  for await (const memory of listAll(context.options.memories, tenant)) {
    if (sampler.sampled >= sampler.limit) break;
    await sampler.add(memory);
  }
  await sampler.flush();
  let clusters = 0;
  let memories = 0;
  for (const window of sampler.windows.values()) {
    if (window.length < 2) continue;
    const threshold = context.options.duplicateThreshold(window[0]?.namespace);
    for (const cluster of similarityClusters(
      window.map((candidate) => candidate.vector),
      threshold,
    )) {
      const members = cluster.map((index) => window[index] as Candidate);
      members.sort(
        (a, b) =>
          b.occurrences - a.occurrences ||
          a.createdAt.localeCompare(b.createdAt) ||
          a.id.localeCompare(b.id),
      );
      const [target, ...sources] = members as [Candidate, ...Candidate[]];
      clusters++;
      const reason = `near duplicate of ${target.id}`;
      let merged = sources.map((source) => source.id);
      if (!dryRun) {
        merged = [];
        for (let start = 0; start < sources.length; start += Limits.ids) {
          try {
            const reply = await context.options.memories.merge(tenant, {
              targetId: target.id,
              sourceIds: sources.slice(start, start + Limits.ids).map((source) => source.id),
            });
            merged.push(...reply.merged);
          } catch (error) {
            if (!isNotFound(error)) throw error;
          }
        }
      }
      memories += merged.length;
      for (const id of merged) changes.add({ id, action: 'merged', reason });
    }
  }
  tally(context, 'duplicates', dryRun, { merged: memories });
  return { clusters, memories };
}
