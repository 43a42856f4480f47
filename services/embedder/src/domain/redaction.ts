/**
 * Masks secrets in memory text and metadata before they are embedded or stored, by the rules
 * of `secret-rules.ts`. Matches are collected on the original text, earlier rules win
 * overlaps, and the output is built once, so a replacement is never matched again.
 */
import {
  isPlaceholder,
  isSecretKeyName,
  type Rule,
  rules,
  type SecretKind,
  SecretKinds,
} from './secret-rules.ts';

export type { SecretKind } from './secret-rules.ts';
export { isSecretKeyName, SecretKinds } from './secret-rules.ts';

export interface RedactionPolicy {
  /** Off means text passes through unchanged; on by default. */
  enabled?: boolean;
  /** Built-in kinds to look for; all by default. */
  kinds?: readonly SecretKind[];
  /**
   * Extra patterns, checked before the built-in ones. The named group `secret` is masked
   * if present, otherwise the whole match. Keep them linear (bounded quantifiers).
   */
  extraPatterns?: readonly { kind: string; pattern: RegExp }[];
  /** The mask for one secret; `[REDACTED:<kind>]` by default. */
  replacement?: (kind: string) => string;
}

export interface RedactionResult {
  /** The text with every secret masked. */
  text: string;
  /** How many secrets of each kind were masked, by kind name. */
  redactions: { kind: string; count: number }[];
}

export interface MetadataRedactionResult {
  /** The metadata with every secret masked; the same object when nothing was masked. */
  metadata: Record<string, unknown>;
  /** How many secrets of each kind were masked, by kind name. */
  redactions: { kind: string; count: number }[];
}

export interface Redactor {
  redact(text: string): RedactionResult;
  /**
   * Masks secrets in JSON metadata: every string is scanned like text, and every string
   * or number under a secret-looking key (`token`, `password`, `apiKey`, …, at any depth)
   * is replaced by the mask of kind `credential-assignment`.
   */
  redactMetadata(metadata: Record<string, unknown>): MetadataRedactionResult;
}

function withFlags(pattern: RegExp): RegExp {
  const flags = new Set(pattern.flags.replace(/[gyd]/g, ''));
  return new RegExp(pattern.source, [...flags, 'g', 'd'].join(''));
}

interface Span {
  start: number;
  end: number;
  kind: string;
}

function findSpans(text: string, rule: Rule, covered: Uint8Array, spans: Span[]): void {
  const pattern = rule.pattern;
  pattern.lastIndex = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    const matchStart = match.index;
    const matchEnd = matchStart + match[0].length;
    if (match[0].length === 0) {
      pattern.lastIndex = matchStart + 1;
      continue;
    }
    const named = match.indices?.groups?.secret;
    const groupIndex = named ? undefined : rule.groups?.find((group) => match[group] !== undefined);
    const range = named ?? (groupIndex === undefined ? undefined : match.indices?.[groupIndex]);
    if (rule.groups && !range) {
      pattern.lastIndex = matchStart + 1;
      continue;
    }
    const start = range ? range[0] : matchStart;
    let end = range ? range[1] : matchEnd;
    // Sentence punctuation after an unquoted value is not part of the secret.
    const trailing = /["']/.test(text[start - 1] ?? '') ? /\s/ : /[\s.!?:]/;
    while (end > start && trailing.test(text[end - 1] as string)) end--;
    const secret = text.slice(start, end);
    if (end === start || (rule.accept && !rule.accept(secret, match))) {
      // Rejected: look again from the next position, so an inner secret is still found.
      pattern.lastIndex = matchStart + 1;
      continue;
    }
    let free = true;
    for (let index = start; index < end; index++) {
      if (covered[index] === 1) {
        free = false;
        break;
      }
    }
    if (!free) continue;
    covered.fill(1, start, end);
    spans.push({ start, end, kind: rule.kind });
  }
}

// The kind of a value masked because of its key: the same thing as `KEY=value` in text.
const SECRET_FIELD_KIND: SecretKind = 'credential-assignment';

/** Whether a metadata key names a secret: `isSecretKeyName`, plus plural containers. */
function isSecretMetadataKey(key: string): boolean {
  // Not `tokens`: in agent metadata that is usually a count of LLM tokens.
  return isSecretKeyName(key) || /(?:secrets|passwords)$/i.test(key);
}

/** A redactor for one policy; `redact` and `redactMetadata` are pure and safe to call concurrently. */
export function createRedactor(policy: RedactionPolicy = {}): Redactor {
  const enabled = policy.enabled ?? true;
  const kinds = new Set<string>(policy.kinds ?? SecretKinds);
  const replacement = policy.replacement ?? ((kind: string) => `[REDACTED:${kind}]`);
  const extra: Rule[] = (policy.extraPatterns ?? []).map(({ kind, pattern }) => ({
    kind,
    pattern: withFlags(pattern),
  }));
  const builtIn = rules()
    .filter((rule) => kinds.has(rule.kind))
    .map((rule) => ({ ...rule, pattern: withFlags(rule.pattern) }));
  const active = [...extra, ...builtIn];
  const maskSecretFields = kinds.has(SECRET_FIELD_KIND);

  function redactText(text: string): RedactionResult {
    if (!enabled || text.length === 0) return { text, redactions: [] };
    const lower = text.toLowerCase();
    const covered = new Uint8Array(text.length);
    const spans: Span[] = [];
    for (const rule of active) {
      if (rule.hints && !rule.hints.some((hint) => lower.includes(hint.toLowerCase()))) continue;
      findSpans(text, rule, covered, spans);
    }
    if (spans.length === 0) return { text, redactions: [] };
    spans.sort((left, right) => left.start - right.start);
    const counts = new Map<string, number>();
    let output = '';
    let position = 0;
    for (const span of spans) {
      output += text.slice(position, span.start) + replacement(span.kind);
      position = span.end;
      counts.set(span.kind, (counts.get(span.kind) ?? 0) + 1);
    }
    output += text.slice(position);
    return {
      text: output,
      redactions: [...counts].map(([kind, count]) => ({ kind, count })),
    };
  }

  /** The value with its secrets masked, adding to `counts`; the same value if none. */
  function redactValue(
    value: unknown,
    underSecretKey: boolean,
    counts: Map<string, number>,
  ): unknown {
    if (typeof value === 'string') {
      // Empty strings, `${VAR}` references and earlier masks hold no secret to hide.
      if (underSecretKey && value.length > 0 && !isPlaceholder(value)) {
        counts.set(SECRET_FIELD_KIND, (counts.get(SECRET_FIELD_KIND) ?? 0) + 1);
        return replacement(SECRET_FIELD_KIND);
      }
      const result = redactText(value);
      for (const { kind, count } of result.redactions)
        counts.set(kind, (counts.get(kind) ?? 0) + count);
      return result.text;
    }
    // A numeric PIN or password is as secret as a string one; flags and nulls are not.
    if (typeof value === 'number' && underSecretKey) {
      counts.set(SECRET_FIELD_KIND, (counts.get(SECRET_FIELD_KIND) ?? 0) + 1);
      return replacement(SECRET_FIELD_KIND);
    }
    if (Array.isArray(value)) {
      let changed = false;
      const items = value.map((item) => {
        const redacted = redactValue(item, underSecretKey, counts);
        if (redacted !== item) changed = true;
        return redacted;
      });
      return changed ? items : value;
    }
    if (typeof value === 'object' && value !== null) {
      let changed = false;
      const entries = Object.entries(value).map(([key, item]): [string, unknown] => {
        // Everything below a secret key is secret: `credentials: { user, password }`.
        const secret = underSecretKey || (maskSecretFields && isSecretMetadataKey(key));
        const redacted = redactValue(item, secret, counts);
        if (redacted !== item) changed = true;
        return [key, redacted];
      });
      return changed ? Object.fromEntries(entries) : value;
    }
    return value;
  }

  return {
    redact: redactText,
    redactMetadata(metadata: Record<string, unknown>): MetadataRedactionResult {
      if (!enabled) return { metadata, redactions: [] };
      const counts = new Map<string, number>();
      const redacted = redactValue(metadata, false, counts) as Record<string, unknown>;
      return {
        metadata: redacted,
        redactions: [...counts].map(([kind, count]) => ({ kind, count })),
      };
    },
  };
}
