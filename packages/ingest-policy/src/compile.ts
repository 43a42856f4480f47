import {
  type CategoryExpiry,
  type IngestPolicy,
  IngestPolicySchema,
  type Kind,
  MembusError,
  type Metadata,
  type OwnerIds,
  type PolicyRule,
  type Scope,
  type TextPattern,
} from '@membus/contracts';
import { compileFilter, type FilterPayload } from '@membus/vector-index';
import { RE2JS } from 're2js';

/**
 * RE2 programs are linear in the text, but their cost grows with their size: a pattern may
 * compile to at most this many instructions, and a policy's patterns together to ten times it.
 */
export const MAX_PROGRAM_SIZE = 5_000;
export const MAX_POLICY_PROGRAM_SIZE = 50_000;

/** What a policy is evaluated on: a store, or a fact the extractor is about to store. */
export interface PolicySubject extends OwnerIds {
  readonly text: string;
  readonly kind: Kind;
  readonly scope?: Scope | undefined;
  readonly metadata: Metadata;
  readonly categories: readonly string[];
  readonly tags: readonly string[];
  readonly importance: number;
  readonly expiresAt?: string | undefined;
  readonly ttlSeconds?: number | undefined;
}

/** A text view computed at most once per evaluation (the lower-cased copy only when asked). */
export interface TextView {
  readonly text: string;
  lower(): string;
}

export type TextTest = (view: TextView) => boolean;
export type SubjectTest = (subject: PolicySubject, view: TextView) => boolean;

/** A rule ready to run: its checks compiled once per policy version. */
export interface CompiledRule {
  readonly rule: PolicyRule;
  readonly matches: SubjectTest;
}

/** A policy ready to run on the store path. */
export interface CompiledPolicy {
  /** The stored version it was compiled from (0: a policy not stored, e.g. a file being tried). */
  readonly version: number;
  readonly rules: readonly CompiledRule[];
  readonly expiry: readonly CategoryExpiry[];
  /** Instructions of all its RE2 programs. */
  readonly programSize: number;
}

/**
 * Validates and compiles a policy: every regex compiled by RE2 (a syntax RE2 refuses, e.g.
 * backreferences or lookaround, or a program over {@link MAX_PROGRAM_SIZE}, is INVALID_MESSAGE
 * naming the rule), metadata filters compiled to closures.
 */
export function compilePolicy(input: unknown, version = 0): CompiledPolicy {
  const parsed = IngestPolicySchema.safeParse(input);
  if (!parsed.success)
    throw new MembusError(
      'INVALID_MESSAGE',
      `invalid policy: ${parsed.error.issues
        .map((issue) => `${issue.path.join('.') || '(policy)'}: ${issue.message}`)
        .join('; ')}`,
    );
  const policy: IngestPolicy = parsed.data;
  const budget = { programSize: 0 };
  const rules = policy.rules.map(
    (rule): CompiledRule => ({ rule, matches: compileMatch(rule, budget) }),
  );
  if (budget.programSize > MAX_POLICY_PROGRAM_SIZE)
    throw new MembusError(
      'INVALID_MESSAGE',
      `policy regexes compile to ${budget.programSize} RE2 instructions; the limit is ${MAX_POLICY_PROGRAM_SIZE}`,
    );
  return { version, rules, expiry: policy.expiry, programSize: budget.programSize };
}

function compileMatch(rule: PolicyRule, budget: { programSize: number }): SubjectTest {
  const match = rule.match;
  const checks: SubjectTest[] = [];
  if (match.namespaces !== undefined) {
    const namespaces = new Set(match.namespaces);
    checks.push((subject) => subject.namespace !== undefined && namespaces.has(subject.namespace));
  }
  if (match.scopes !== undefined) {
    const scopes = new Set<string>(match.scopes);
    checks.push((subject) => scopes.has(scopeOf(subject)));
  }
  if (match.kinds !== undefined) {
    const kinds = new Set<string>(match.kinds);
    checks.push((subject) => kinds.has(subject.kind));
  }
  const { minLength, maxLength } = match;
  if (minLength !== undefined) checks.push((subject) => subject.text.length >= minLength);
  if (maxLength !== undefined) checks.push((subject) => subject.text.length <= maxLength);
  // Cheap checks first: the RE2 scans of the text run only when everything else holds.
  if (match.metadata !== undefined || match.categories !== undefined || match.tags !== undefined) {
    const filter = compileFilter({
      ...(match.metadata !== undefined ? { metadata: match.metadata } : {}),
      ...(match.categories !== undefined ? { categories: match.categories } : {}),
      ...(match.tags !== undefined ? { tags: match.tags } : {}),
    });
    checks.push((subject) => filter(filterPayload(subject)));
  }
  if (match.text !== undefined) {
    const any = compilePatterns(rule.name, match.text, budget);
    checks.push((_subject, view) => any(view));
  }
  if (match.notText !== undefined) {
    const any = compilePatterns(rule.name, match.notText, budget);
    checks.push((_subject, view) => !any(view));
  }
  return (subject, view) => {
    for (const check of checks) if (!check(subject, view)) return false;
    return true;
  };
}

/** True when any pattern is found in the text. */
function compilePatterns(
  ruleName: string,
  patterns: readonly TextPattern[],
  budget: { programSize: number },
): TextTest {
  const tests = patterns.map((pattern): TextTest => {
    if ('contains' in pattern) {
      const needle = pattern.ignoreCase ? pattern.contains.toLowerCase() : pattern.contains;
      return pattern.ignoreCase
        ? (view) => view.lower().includes(needle)
        : (view) => view.text.includes(needle);
    }
    let compiled: RE2JS;
    try {
      compiled = RE2JS.compile(pattern.regex, pattern.ignoreCase ? RE2JS.CASE_INSENSITIVE : 0);
    } catch (error) {
      throw new MembusError(
        'INVALID_MESSAGE',
        `rule "${ruleName}": regex ${JSON.stringify(pattern.regex)} is not RE2 syntax: ${(error as Error).message}`,
      );
    }
    const size = compiled.programSize();
    if (size > MAX_PROGRAM_SIZE)
      throw new MembusError(
        'INVALID_MESSAGE',
        `rule "${ruleName}": regex ${JSON.stringify(pattern.regex.slice(0, 80))} compiles to ${size} RE2 instructions; the limit is ${MAX_PROGRAM_SIZE}`,
      );
    budget.programSize += size;
    // `test` runs RE2's lazy DFA: linear in the text, no backtracking.
    return (view) => compiled.test(view.text);
  });
  return (view) => {
    for (const test of tests) if (test(view)) return true;
    return false;
  };
}

function scopeOf(subject: PolicySubject): Scope {
  if (subject.scope !== undefined) return subject.scope;
  if (subject.sessionId !== undefined) return 'session';
  if (subject.agentId !== undefined) return 'agent';
  if (subject.userId !== undefined) return 'user';
  return 'app';
}

/** The fields a compiled metadata/label filter reads; the rest are never looked at. */
function filterPayload(subject: PolicySubject): FilterPayload {
  return {
    id: '',
    scope: scopeOf(subject),
    kind: subject.kind,
    tier: '',
    categories: subject.categories,
    tags: subject.tags,
    createdAt: 0,
    updatedAt: 0,
    metadata: subject.metadata,
  };
}
