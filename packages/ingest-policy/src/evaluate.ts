import { Limits } from '@membus/contracts';
import type { CompiledPolicy, PolicySubject, TextView } from './compile.ts';

/** What a policy decided about one store. */
export type PolicyDecision<T extends PolicySubject = PolicySubject> =
  | {
      readonly action: 'drop';
      /** The policy version that decided. */
      readonly version: number;
      /** The rule that dropped it. */
      readonly rule: string;
      /** The rule's reason. */
      readonly reason: string;
    }
  | {
      readonly action: 'keep';
      readonly version: number;
      /** The store with the rules' labels, importance and the category expiry applied. */
      readonly item: T;
      /** The rules that matched, in order (none: the store passes unchanged). */
      readonly rules: readonly string[];
    };

/**
 * Kinds membus derives itself from memories the policy already let in (session summaries,
 * workflow patterns): never dropped or relabelled, so a compaction cannot lose a session.
 */
const DERIVED_KINDS = new Set(['summary', 'pattern']);

/**
 * Runs a compiled policy on one store (pure: no I/O, no clock). Rules in order: the first
 * matching `drop` leaves it out; each matching `annotate` adds categories and tags and sets
 * importance; one with `stop` ends the walk. Then, unless the store has its own expiry, the
 * first `expiry` entry whose category it carries sets `ttlSeconds` (`null`: none).
 */
export function evaluatePolicy<T extends PolicySubject>(
  policy: CompiledPolicy,
  item: T,
): PolicyDecision<T> {
  const version = policy.version;
  if (policy.rules.length === 0 && policy.expiry.length === 0)
    return { action: 'keep', version, item, rules: [] };
  if (DERIVED_KINDS.has(item.kind)) return { action: 'keep', version, item, rules: [] };
  let lower: string | undefined;
  const view: TextView = {
    text: item.text,
    lower: () => {
      lower ??= item.text.toLowerCase();
      return lower;
    },
  };
  const matched: string[] = [];
  let categories: string[] | undefined;
  let tags: string[] | undefined;
  let importance: number | undefined;
  for (const { rule, matches } of policy.rules) {
    if (!matches(item, view)) continue;
    const action = rule.action;
    if (action.type === 'drop')
      return { action: 'drop', version, rule: rule.name, reason: action.reason };
    matched.push(rule.name);
    if (action.categories?.length)
      categories = union(categories ?? item.categories, action.categories);
    if (action.tags?.length) tags = union(tags ?? item.tags, action.tags);
    if (action.importance !== undefined) importance = action.importance;
    if (action.stop) break;
  }
  const finalCategories = categories ?? item.categories;
  let ttlSeconds: number | undefined;
  if (item.expiresAt === undefined && item.ttlSeconds === undefined) {
    const entry = policy.expiry.find((candidate) => finalCategories.includes(candidate.category));
    if (entry?.ttlSeconds) ttlSeconds = entry.ttlSeconds;
  }
  if (
    categories === undefined &&
    tags === undefined &&
    importance === undefined &&
    ttlSeconds === undefined
  )
    return { action: 'keep', version, item, rules: matched };
  return {
    action: 'keep',
    version,
    rules: matched,
    item: {
      ...item,
      ...(categories !== undefined ? { categories } : {}),
      ...(tags !== undefined ? { tags } : {}),
      ...(importance !== undefined ? { importance } : {}),
      ...(ttlSeconds !== undefined ? { ttlSeconds } : {}),
    },
  };
}

/** The store's labels first, then the rule's, within the label limit of a memory. */
function union(base: readonly string[], added: readonly string[]): string[] {
  return [...new Set([...base, ...added])].slice(0, Limits.labelCount);
}
